"""The nginx edge in front of the API processes of ``make run`` (the part API Gateway plays in
AWS): client keep-alive, a listen backlog of 4096, idle and header timeouts, the body limit
checked from ``Content-Length`` before anything is read, and answers in the API's error shape.

``render`` writes ``.local/edge/nginx.conf`` from ``infra/edge/nginx.conf.template``; ``command``
is how to run it in the foreground. nginx comes from Debian (``nginx-light``), installed when
missing like the other local services.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from string import Template

from chalicelib.api.http import MAX_BODY_BYTES
from infra.services import apt_install

TEMPLATE = Path(__file__).resolve().parent / "edge" / "nginx.conf.template"


class _ConfigTemplate(Template):
    delimiter = "@"  # nginx's own variables are written with "$"


@dataclass(frozen=True)
class Edge:
    prefix: Path
    host: str
    port: int
    sockets: tuple[Path, ...]
    header_timeout_seconds: int = 10
    idle_timeout_seconds: int = 30
    function_timeout_seconds: int = 30

    @property
    def config_path(self) -> Path:
        return self.prefix / "nginx.conf"

    def render(self) -> Path:
        for folder in ("tmp", "logs"):
            (self.prefix / folder).mkdir(parents=True, exist_ok=True)
        servers = "\n".join(f"        server unix:{socket} max_fails=0;" for socket in self.sockets)
        text = _ConfigTemplate(TEMPLATE.read_text()).substitute(
            # As root, nginx's workers would drop to "nobody" and lose access to the sockets.
            user_directive="user root root;" if os.geteuid() == 0 else "",
            prefix=self.prefix,
            host=self.host,
            port=self.port,
            upstream_servers=servers,
            header_timeout=self.header_timeout_seconds,
            idle_timeout=self.idle_timeout_seconds,
            function_timeout=self.function_timeout_seconds,
            max_body_bytes=MAX_BODY_BYTES,
        )
        self.config_path.write_text(text)
        return self.config_path

    def command(self) -> list[str]:
        return [nginx_executable(), "-p", str(self.prefix), "-c", str(self.config_path), "-g", "daemon off;"]


def nginx_executable() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        apt_install("nginx-light")
        found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found
