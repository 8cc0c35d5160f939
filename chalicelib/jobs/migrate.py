"""Schema migrations: versioned SQL files in chalicelib/migrations applied with yoyo.

Used by ``make run``/``make test`` locally and by the ``migrate`` Lambda function in AWS.
"""

from __future__ import annotations

from pathlib import Path

from yoyo import get_backend, read_migrations

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def yoyo_url(database_url: str) -> str:
    scheme, _, rest = database_url.partition("://")
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return database_url


def apply_migrations(database_url: str) -> list[str]:
    backend = get_backend(yoyo_url(database_url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


if __name__ == "__main__":
    from chalicelib.config import get_settings

    applied = apply_migrations(get_settings().database_url)
    print(f"[migrate] applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
