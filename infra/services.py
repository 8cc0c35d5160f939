"""Local services without Docker: PostgreSQL, Redis and a real Apache Kafka broker (KRaft).

    python -m infra.services up | status | down

- Installs what is missing (apt-get for PostgreSQL and Redis, mvn for the Kafka jars), one
  step at a time, and keeps all data under ``.local/`` in the project.
- Uses project-specific ports so it never collides with system services; every port and
  path can be overridden with environment variables (see ``Layout``).
- Idempotent: services already up are reused. When DATABASE_URL, REDIS_URL or
  KAFKA_BOOTSTRAP_SERVERS are set, those services are used as they are and nothing is
  started for them.
- Reports ready only once each service answers: a SQL query, PING, broker metadata.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Layout:
    local_dir: Path
    pg_port: int
    redis_port: int
    kafka_port: int
    kafka_controller_port: int
    topic_prefix: str

    @classmethod
    def from_env(cls) -> Layout:
        """The ports of chalicelib/config.py's local services (./.env, or CINEMA_*_PORT)."""
        from chalicelib.config import local_services

        env = os.environ
        ports = local_services()
        return cls(
            local_dir=Path(env.get("CINEMA_LOCAL_DIR", PROJECT_ROOT / ".local")),
            pg_port=ports.pg_port,
            redis_port=ports.redis_port,
            kafka_port=ports.kafka_port,
            kafka_controller_port=ports.kafka_controller_port,
            topic_prefix=env.get("KAFKA_TOPIC_PREFIX", "cinema"),
        )


def log(message: str) -> None:
    print(f"[services] {message}", flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(what: str, probe: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except Exception as exc:  # keep polling until the deadline; report the last failure
            last_error = exc
        time.sleep(0.5)
    raise SystemExit(f"[services] {what} did not become ready in {timeout:.0f}s (last error: {last_error})")


_apt_updated = False


def apt_install(*packages: str) -> None:
    global _apt_updated
    if os.geteuid() != 0:
        raise SystemExit(
            f"[services] {' '.join(packages)} missing; install with: sudo apt-get install {' '.join(packages)}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _apt_updated:
        log("apt-get update")
        run(["apt-get", "update", "-qq"], env=env)
        _apt_updated = True
    log(f"apt-get install {' '.join(packages)}")
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env)


# --------------------------------------------------------------------------- PostgreSQL


def postgres_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not candidates or int(candidates[-1].split("/")[4]) < 15:
        apt_install("postgresql")
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent


def as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; run its tools as the 'postgres' system user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def postgres_data_dir(layout: Layout) -> Path:
    preferred = layout.local_dir / "postgres"
    if os.geteuid() != 0:
        return preferred
    preferred.parent.mkdir(parents=True, exist_ok=True)
    reachable = subprocess.run(as_postgres(["test", "-x", str(preferred.parent)]), check=False).returncode == 0
    if reachable:
        return preferred
    # The checkout sits somewhere the postgres user cannot enter (e.g. under /root):
    # keep the cluster in a per-project folder it can use, and point .local/postgres at it.
    digest = hashlib.sha256(str(PROJECT_ROOT).encode()).hexdigest()[:12]
    fallback = Path("/var/lib/cinema-ticketing") / digest / "postgres"
    fallback.parent.mkdir(parents=True, exist_ok=True)
    if not preferred.exists():
        preferred.symlink_to(fallback)
    return fallback


def postgres_url(layout: Layout, database: str = "cinema") -> str:
    return f"postgresql://cinema:cinema@127.0.0.1:{layout.pg_port}/{database}"


def postgres_answers(url: str) -> bool:
    import psycopg

    with psycopg.connect(url, connect_timeout=2) as conn:
        return conn.execute("SELECT 1").fetchone() == (1,)


def postgres_up(layout: Layout) -> None:
    if os.environ.get("DATABASE_URL"):
        log("postgres: using DATABASE_URL, starting nothing")
        wait_until("postgres", lambda: postgres_answers(os.environ["DATABASE_URL"]))
        return
    if port_open(layout.pg_port):
        log(f"postgres: already up on {layout.pg_port}")
    else:
        bin_dir = postgres_bin()
        data_dir = postgres_data_dir(layout)
        if not (data_dir / "PG_VERSION").exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(data_dir, "postgres", "postgres")
            data_dir.chmod(0o700)
            log(f"postgres: initdb {data_dir}")
            run(
                as_postgres(
                    [
                        str(bin_dir / "initdb"),
                        "-D",
                        str(data_dir),
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--no-locale",
                    ]
                ),
                stdout=subprocess.DEVNULL,
            )
        options = (
            f"-p {layout.pg_port} -k {data_dir} -c listen_addresses=127.0.0.1 -c max_connections=300"
            " -c shared_buffers=256MB"
        )
        log(f"postgres: starting on 127.0.0.1:{layout.pg_port}")
        run(
            as_postgres(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data_dir),
                    "-l",
                    str(data_dir / "server.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            stdout=subprocess.DEVNULL,
        )
    admin_url = f"postgresql://postgres@127.0.0.1:{layout.pg_port}/postgres"
    wait_until("postgres", lambda: postgres_answers(admin_url))
    ensure_databases(admin_url)
    wait_until("postgres", lambda: postgres_answers(postgres_url(layout)))
    log("postgres: ready")


def ensure_databases(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'cinema'").fetchone() is None:
            conn.execute("CREATE ROLE cinema LOGIN PASSWORD 'cinema'")
        for database in ("cinema", "cinema_test"):
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{database}" OWNER cinema')


def postgres_down(layout: Layout) -> None:
    data_dir = layout.local_dir / "postgres"
    if os.environ.get("DATABASE_URL") or not (data_dir / "postmaster.pid").exists():
        return
    bin_dir = postgres_bin()
    log("postgres: stopping")
    subprocess.run(
        as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data_dir.resolve()), "-m", "fast", "-w", "stop"]),
        check=False,
        stdout=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------- Redis


def redis_answers(url: str) -> bool:
    import redis

    return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())


def redis_up(layout: Layout) -> None:
    if os.environ.get("REDIS_URL"):
        log("redis: using REDIS_URL, starting nothing")
        wait_until("redis", lambda: redis_answers(os.environ["REDIS_URL"]))
        return
    url = f"redis://127.0.0.1:{layout.redis_port}/0"
    if port_open(layout.redis_port):
        log(f"redis: already up on {layout.redis_port}")
    else:
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(server).exists():
            apt_install("redis-server")
        data_dir = layout.local_dir / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        log(f"redis: starting on 127.0.0.1:{layout.redis_port}")
        run(
            [
                server,
                "--port",
                str(layout.redis_port),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--dir",
                str(data_dir),
                "--pidfile",
                str(data_dir / "redis.pid"),
                "--logfile",
                str(data_dir / "redis.log"),
                "--save",
                "",
                "--appendonly",
                "no",
            ]
        )
    wait_until("redis", lambda: redis_answers(url))
    log("redis: ready")


def wait_for_exit(pid: int, timeout: float) -> bool:
    """True once process ``pid`` is gone, False if it is still there after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def stop_pidfile(name: str, pidfile: Path, timeout: float = 30.0) -> None:
    if not pidfile.exists():
        return
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (ValueError, ProcessLookupError):
        pidfile.unlink(missing_ok=True)
        return
    log(f"{name}: stopping")
    if not wait_for_exit(pid, timeout):
        os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)


def redis_down(layout: Layout) -> None:
    if not os.environ.get("REDIS_URL"):
        stop_pidfile("redis", layout.local_dir / "redis" / "redis.pid")


# --------------------------------------------------------------------------- Kafka


def java_ok() -> bool:
    java = shutil.which("java")
    if not java:
        return False
    output = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    try:
        major = int(output.split('"')[1].split(".")[0])
    except (IndexError, ValueError):
        return False
    return major >= 17


def kafka_libs(layout: Layout) -> Path:
    """Resolve the broker jars with mvn from infra/kafka/pom.xml, once per pom version."""
    pom = PROJECT_ROOT / "infra" / "kafka" / "pom.xml"
    libs = layout.local_dir / "kafka" / "libs"
    stamp = libs / ".pom-sha256"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return libs
    if not java_ok():
        apt_install("openjdk-17-jre-headless")
    if not shutil.which("mvn"):
        apt_install("maven")
    if libs.exists():
        shutil.rmtree(libs)
    libs.mkdir(parents=True)
    log("kafka: resolving broker jars with mvn (first run only)")
    run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ]
    )
    stamp.write_text(digest)
    return libs


def kafka_answers(bootstrap: str) -> bool:
    from confluent_kafka.admin import AdminClient

    host, _, port = bootstrap.split(",")[0].rpartition(":")
    if not port_open(int(port), host or "127.0.0.1"):
        return False
    metadata = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 2000}).list_topics(timeout=3)
    return bool(metadata.brokers)


def ensure_topics(bootstrap: str, prefix: str) -> None:
    """The booking topics, as the migrate function creates them on a deploy."""
    from chalicelib.adapters.kafka_topics import ensure_topics as create_missing
    from chalicelib.config import settings_from

    for topic in create_missing(settings_from({"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KAFKA_TOPIC_PREFIX": prefix})):
        log(f"kafka: created topic {topic}")


def kafka_properties(port: int, controller_port: int, data_dir: Path) -> str:
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={data_dir}",
            "num.partitions=3",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=3",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "",
        ]
    )


def launch_kafka(home: Path, libs: Path, port: int, controller_port: int, heap: str = "768m") -> subprocess.Popen:
    """Format (once) and start a single-node KRaft broker whose files live under ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    data_dir = home / "data"
    properties = home / "server.properties"
    properties.write_text(kafka_properties(port, controller_port, data_dir))
    classpath = f"{libs}/*"
    java = ["java", "-cp", classpath]
    if not (data_dir / "meta.properties").exists():
        uuid_run = subprocess.run(
            [*java, "kafka.tools.StorageTool", "random-uuid"], check=True, capture_output=True, text=True
        )
        cluster_id = uuid_run.stdout.strip().splitlines()[-1]
        log(f"kafka: formatting KRaft storage in {data_dir}")
        format_cmd = [
            *java,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(properties),
            "--ignore-formatted",
        ]
        run(format_cmd, stdout=subprocess.DEVNULL)
    broker_cmd = [
        "java",
        "-Xms128m",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        "-cp",
        classpath,
        "kafka.Kafka",
        str(properties),
    ]
    with open(home / "kafka.log", "ab") as kafka_log:
        process = subprocess.Popen(
            broker_cmd, stdout=kafka_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    (home / "kafka.pid").write_text(str(process.pid))
    return process


def kafka_up(layout: Layout) -> None:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        log("kafka: using KAFKA_BOOTSTRAP_SERVERS, starting nothing")
        bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        wait_until("kafka", lambda: kafka_answers(bootstrap))
        ensure_topics(bootstrap, layout.topic_prefix)
        return
    bootstrap = f"127.0.0.1:{layout.kafka_port}"
    if port_open(layout.kafka_port):
        log(f"kafka: already up on {layout.kafka_port}")
    else:
        log(f"kafka: starting broker on {bootstrap}")
        launch_kafka(layout.local_dir / "kafka", kafka_libs(layout), layout.kafka_port, layout.kafka_controller_port)
    wait_until("kafka", lambda: kafka_answers(bootstrap), timeout=120)
    ensure_topics(bootstrap, layout.topic_prefix)
    log("kafka: ready")


def kafka_down(layout: Layout) -> None:
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        stop_pidfile("kafka", layout.local_dir / "kafka" / "kafka.pid", timeout=60)


# --------------------------------------------------------------------------- commands


def up() -> None:
    layout = Layout.from_env()
    layout.local_dir.mkdir(parents=True, exist_ok=True)
    postgres_up(layout)
    redis_up(layout)
    kafka_up(layout)
    log("all services ready")


def down() -> None:
    layout = Layout.from_env()
    kafka_down(layout)
    redis_down(layout)
    postgres_down(layout)
    log("all services stopped")


def status() -> int:
    layout = Layout.from_env()
    urls = {
        "postgres": (os.environ.get("DATABASE_URL") or postgres_url(layout), postgres_answers),
        "redis": (os.environ.get("REDIS_URL") or f"redis://127.0.0.1:{layout.redis_port}/0", redis_answers),
        "kafka": (os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or f"127.0.0.1:{layout.kafka_port}", kafka_answers),
    }
    all_up = True
    for name, (url, probe) in urls.items():
        try:
            state = "up" if probe(url) else "down"
        except Exception:
            state = "down"
        all_up &= state == "up"
        print(f"{name:9} {state:5} {url}")
    return 0 if all_up else 1


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "up":
        up()
        return 0
    if command == "down":
        down()
        return 0
    if command == "status":
        return status()
    print("usage: python -m infra.services up|status|down", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
