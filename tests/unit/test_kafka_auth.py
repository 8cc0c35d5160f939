"""The Kafka clients' security settings: nothing for the local broker; TLS and
SASL/OAUTHBEARER with a real MSK IAM token (signed offline by aws-msk-iam-sasl-signer-python
with the credentials of the environment) for MSK."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlparse

from chalicelib.adapters.kafka_auth import kafka_security_config
from chalicelib.config import settings_from


def test_the_local_broker_needs_nothing():
    assert kafka_security_config(settings_from({})) == {}


def test_msk_iam_is_oauthbearer_over_tls_with_a_signed_connect_request(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    config = kafka_security_config(settings_from({"KAFKA_AUTH": "aws_msk_iam", "AWS_REGION": "eu-west-1"}))
    assert config["security.protocol"] == "SASL_SSL" and config["sasl.mechanisms"] == "OAUTHBEARER"

    token, expires_at = config["oauth_cb"](None)

    assert 0 < expires_at - time.time() <= 900
    padded = token + "=" * (-len(token) % 4)
    url = urlparse(base64.urlsafe_b64decode(padded).decode())
    assert url.hostname == "kafka.eu-west-1.amazonaws.com"
    query = parse_qs(url.query)
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Credential"][0].startswith("AKIAEXAMPLEEXAMPLE12/")
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Signature"][0]
