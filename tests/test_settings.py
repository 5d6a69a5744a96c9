"""Settings resolve flag > environment > default, and bad values fail with one clear line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import URL

from trainingdb.server.database import check_connection, create_db_engine, parse_database_url
from trainingdb.server.settings import Settings, SettingsError


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.resolve(environ={})
    assert settings.data_dir == tmp_path / ".trainingdb"
    assert settings.database_url is None
    assert settings.embedded
    assert settings.blob_url == (tmp_path / ".trainingdb" / "blobs").as_uri()


def test_environment_then_flags(tmp_path: Path) -> None:
    env = {
        "TRAININGDB_DATA_DIR": str(tmp_path / "env"),
        "TRAININGDB_DATABASE_URL": "postgresql://u@h/db",
        "TRAININGDB_BLOB_URL": "file:///srv/blobs",
    }
    from_env = Settings.resolve(environ=env)
    assert from_env == Settings(tmp_path / "env", "postgresql://u@h/db", "file:///srv/blobs")
    from_flags = Settings.resolve(
        data_dir=tmp_path / "flag", database_url="postgresql://v@h/db2", environ=env
    )
    assert from_flags.data_dir == tmp_path / "flag"
    assert from_flags.database_url == "postgresql://v@h/db2"
    assert from_flags.blob_url == "file:///srv/blobs"


def test_empty_database_url_means_embedded(tmp_path: Path) -> None:
    assert Settings.resolve(
        environ={"TRAININGDB_DATABASE_URL": "", "TRAININGDB_DATA_DIR": str(tmp_path)}
    ).embedded


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(
        SettingsError, match=r"^TRAININGDB_DATA_DIR: .*/f exists and is not a directory$"
    ):
        Settings.resolve(data_dir=tmp_path / "f", environ={})


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "sqlite:///x.db",
            "TRAININGDB_DATABASE_URL: only PostgreSQL is supported, got a 'sqlite' URL",
        ),
        (
            "mysql://u@h/db",
            "TRAININGDB_DATABASE_URL: only PostgreSQL is supported, got a 'mysql' URL",
        ),
        ("not a url", "TRAININGDB_DATABASE_URL: 'not a url' is not a database URL"),
        ("postgresql://u@h", "TRAININGDB_DATABASE_URL: the URL names no database"),
    ],
)
def test_bad_database_urls(url: str, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_database_url(url)
    assert str(error.value).startswith(message)


def test_postgres_urls_use_psycopg3() -> None:
    for url in (
        "postgres://u:p@h:5433/db",
        "postgresql://u:p@h:5433/db",
        "postgresql+psycopg://u:p@h:5433/db",
    ):
        parsed = parse_database_url(url)
        assert parsed.drivername == "postgresql+psycopg"
        assert (parsed.host, parsed.port, parsed.database) == ("h", 5433, "db")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_database_names_setting_and_hides_password() -> None:
    url = parse_database_url(f"postgresql://user:s3cret@127.0.0.1:{closed_port()}/db")
    engine = create_db_engine(url)
    with pytest.raises(SettingsError) as error:
        check_connection(engine)
    message = str(error.value)
    assert message.startswith(
        "TRAININGDB_DATABASE_URL: cannot connect to postgresql+psycopg://user:***@127.0.0.1:"
    )
    assert "s3cret" not in message
    assert "\n" not in message


def test_reachable_database(database_url: URL) -> None:
    engine = create_db_engine(database_url)
    check_connection(engine)
    engine.dispose()


def test_max_request_bytes_from_the_environment() -> None:
    assert Settings.resolve(environ={}).max_request_bytes == 8 << 20
    assert Settings.resolve(environ={"TRAININGDB_MAX_REQUEST_BYTES": ""}).max_request_bytes == (
        8 << 20
    )
    env = {"TRAININGDB_MAX_REQUEST_BYTES": " 33554432 "}
    assert Settings.resolve(environ=env).max_request_bytes == 32 << 20


@pytest.mark.parametrize("value", ["0", "-1", "+5", "1_000", "8MiB", "1e6", "٤٢", "x"])
def test_bad_max_request_bytes(value: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.resolve(environ={"TRAININGDB_MAX_REQUEST_BYTES": value})
    assert str(error.value) == (
        f"TRAININGDB_MAX_REQUEST_BYTES: {value!r} is not a number of bytes: give a positive "
        "integer (the default is 8388608, 8 MiB)"
    )
