"""The nginx edge of `make run` answers some requests itself; its bodies are in the API's error
shape with the same reason phrases the app's own errors use."""

from __future__ import annotations

import json
import re
from http import HTTPStatus

from infra.edge_proxy import TEMPLATE

ANSWER = re.compile(r"return (\d{3}) '(\{.*?\})';")


def test_every_edge_answer_is_in_the_apps_error_shape():
    answers = ANSWER.findall(TEMPLATE.read_text())
    assert {int(status) for status, _ in answers} >= {400, 405, 408, 411, 413, 414, 431, 501, 502, 504}
    for status, text in answers:
        body = json.loads(text.replace("@{max_body_bytes}", "16384"))
        assert set(body) == {"statusCode", "error", "message"}, body
        assert body["statusCode"] == int(status) and body["error"] == HTTPStatus(int(status)).phrase, body
