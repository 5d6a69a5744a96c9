"""Engines for PostgreSQL: URL checks, pool settings, and a start-up connection test.

Only PostgreSQL is supported; any other URL is refused at start-up with one clear line.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError

from .settings import DATABASE_URL, SettingsError

DRIVER = "postgresql+psycopg"
CONNECT_TIMEOUT_SECONDS = 5


def parse_database_url(url: str, setting: str = DATABASE_URL) -> URL:
    """`url` as an SQLAlchemy URL for psycopg 3; SettingsError naming `setting` if it is not one."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsError(
            f"{setting}: {url!r} is not a database URL "
            "(expected postgresql://user:password@host:port/database)"
        ) from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise SettingsError(
            f"{setting}: only PostgreSQL is supported, got a {parsed.get_backend_name()!r} URL"
        )
    if not parsed.database:
        raise SettingsError(f"{setting}: the URL names no database")
    return parsed.set(drivername=DRIVER)


def _json_serializer(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_db_engine(
    url: URL | str, *, pool_size: int = 10, pre_ping: bool = True, autocommit: bool = False
) -> Engine:
    """A pooled engine whose JSONB values are encoded by orjson. Without `pre_ping` a checkout
    costs no round trip, and the caller must retry once when a stale connection fails
    (`DBAPIError.connection_invalidated`); `autocommit` suits single read-only statements."""
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
        json_serializer=_json_serializer,
        json_deserializer=orjson.loads,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "application_name": "trainingdb",
        },
    )


def check_connection(engine: Engine, setting: str = DATABASE_URL) -> None:
    """Connect once; SettingsError naming `setting` and the server when that fails."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        where = engine.url.render_as_string(hide_password=True)
        raise SettingsError(f"{setting}: cannot connect to {where}: {reason}") from None
