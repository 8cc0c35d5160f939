"""A PostgreSQL server of a test's own, in a temporary directory, so the test can stop and
start it without disturbing the shared one. It uses the binaries ``infra.services`` uses and,
as there, runs them as the ``postgres`` user when the tests run as root."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from infra.services import as_postgres, ensure_databases, postgres_bin


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivatePostgres:
    def __init__(self) -> None:
        self.port = _free_port()
        self.bin_dir = postgres_bin()
        # Not under pytest's tmp_path: as root that lives in a 0700 folder the postgres user
        # cannot enter.
        self.root = Path(tempfile.mkdtemp(prefix="cinema-private-pg-"))
        self.data_dir = self.root / "data"
        self.url = f"postgresql://cinema:cinema@127.0.0.1:{self.port}/cinema_test"
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            as_postgres([str(self.bin_dir / args[0]), *args[1:]]),
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
        )

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        self.start()
        ensure_databases(self.admin_url)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        """A clean shutdown, as a restart does: the server closes every client connection."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")

    def accepts_connections(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=1) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def wait_accepting(self, timeout: float = 30) -> float:
        """Poll until a new connection succeeds; returns the monotonic time it first did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.accepts_connections():
                return time.monotonic()
            time.sleep(0.02)
        raise RuntimeError("private PostgreSQL did not come back")

    def destroy(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                as_postgres([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"]),
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(self.root, ignore_errors=True)
