"""The `trainingdb` command, run as a subprocess against the test PostgreSQL."""

from __future__ import annotations

import socket
import subprocess

import pytest
from sqlalchemy import URL

from tests.clirun import TRAININGDB, environment, free_port, run, serving
from trainingdb.migrations import head_revision
from trainingdb.versioning.inputs import MAX_STRING


def dsn(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_help_for_every_command() -> None:
    top = run("--help")
    assert top.returncode == 0
    for command in ("serve", "migrate", "demo"):
        assert command in top.stdout
    serve = run("serve", "--help")
    assert serve.returncode == 0
    for option in (
        "--host",
        "--port",
        "--workers",
        "--data-dir",
        "--database-url",
        "TRAININGDB_DATABASE_URL",
    ):
        assert option in serve.stdout
    for command in ("migrate", "demo"):
        result = run(command, "--help")
        assert result.returncode == 0
        assert "--data-dir" in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("trainingdb 0.")


def test_migrate_an_empty_database_then_again(empty_database_url: URL) -> None:
    first = run("migrate", "--database-url", dsn(empty_database_url))
    assert first.returncode == 0, first.stderr
    head = head_revision()
    assert first.stdout.strip() == f"trainingdb: database schema migrated empty -> {head}"
    # The environment variable works as well as the flag.
    second = run("migrate", env=environment(TRAININGDB_DATABASE_URL=dsn(empty_database_url)))
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == f"trainingdb: database schema already at {head}"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--database-url", "sqlite:///x.db"],
            "trainingdb: error: TRAININGDB_DATABASE_URL: only PostgreSQL is supported, "
            "got a 'sqlite' URL",
        ),
        (
            ["--database-url", "postgresql://u:pw@127.0.0.1:{closed}/db"],
            "trainingdb: error: TRAININGDB_DATABASE_URL: cannot connect to "
            "postgresql+psycopg://u:***@127.0.0.1:{closed}/db: ",
        ),
        (
            ["--blob-url", "ftp://host/prefix", "--database-url", "postgresql://u@h/db"],
            "trainingdb: error: TRAININGDB_BLOB_URL: unsupported blob store 'ftp://host/prefix'",
        ),
        (
            [
                "--blob-url",
                "s3://bucket/prefix?endpoint=http://127.0.0.1:{closed}",
                "--database-url",
                "postgresql://u@h/db",
            ],
            "trainingdb: error: TRAININGDB_BLOB_URL: cannot reach bucket 'bucket': ",
        ),
        (
            ["--host", "no-such-host.invalid"],
            "trainingdb: error: --host: cannot resolve 'no-such-host.invalid'",
        ),
    ],
)
def test_bad_settings_fail_with_one_line(args: list[str], expected: str) -> None:
    closed = str(free_port())
    args = [a.replace("{closed}", closed) for a in args]
    result = run("serve", *args, "--port", str(free_port()))
    assert result.returncode == 2
    assert one_error_line(result.stderr).startswith(expected.replace("{closed}", closed))


def test_port_in_use(database_url: URL) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--database-url", dsn(database_url), "--port", str(port))
    assert result.returncode == 2
    assert one_error_line(result.stderr).startswith(
        f"trainingdb: error: --port: cannot listen on 127.0.0.1:{port}"
    )


def test_serve_refuses_an_unmigrated_external_database(empty_database_url: URL) -> None:
    result = run("serve", "--database-url", dsn(empty_database_url), "--port", str(free_port()))
    assert result.returncode == 2
    assert one_error_line(result.stderr) == (
        "trainingdb: error: the database schema is at revision none, this trainingdb needs "
        f"{head_revision()}: "
        "run `trainingdb migrate` (or `serve --migrate`)"
    )


@pytest.fixture
def migrated_url(empty_database_url: URL) -> URL:
    assert run("migrate", "--database-url", dsn(empty_database_url)).returncode == 0
    return empty_database_url


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_and_stops_on_ctrl_c(migrated_url: URL, workers: int) -> None:
    env = environment(
        TRAININGDB_DATABASE_URL=dsn(migrated_url), TRAININGDB_MAX_REQUEST_BYTES="2000"
    )
    with serving("serve", "--workers", str(workers), "--local-admin", env=env) as server:
        assert server.query("{ datasets { name branches { name } } }") == {"data": {"datasets": []}}
        # The body limit holds in one process as in several (each builds its app its own way).
        big = server.query("{ datasets { name } }" + " " * 2000, status=413)
        assert big["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"  # type: ignore[index]
        status = server.interrupt()
    assert status == 0, server.stderr
    assert "GraphiQL at http://127.0.0.1:" in server.stdout


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_refuses_anonymous_requests_and_takes_a_key_made_while_it_runs(
    migrated_url: URL, workers: int
) -> None:
    env = environment(TRAININGDB_DATABASE_URL=dsn(migrated_url))
    with serving("serve", "--workers", str(workers), env=env) as server:
        refused = server.query("{ datasets { name } }", status=401)
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # type: ignore[index]
        made = run("keys", "create", "--admin", env=env)
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip().splitlines()[-1]
        assert server.query("{ datasets { name } }", key) == {"data": {"datasets": []}}
        assert run("keys", "revoke", key.split("_")[1], env=env).returncode == 0
        server.query("{ datasets { name } }", key, status=401)
        assert server.interrupt() == 0, server.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::"])  # noqa: S104 (refused)
def test_local_admin_refuses_a_host_that_is_not_loopback(host: str) -> None:
    result = run("serve", "--local-admin", "--host", host, "--port", str(free_port()))
    assert result.returncode == 2
    assert one_error_line(result.stderr).startswith(
        f"trainingdb: error: --local-admin: refusing to serve {host!r} without authentication"
    )


def test_arguments_that_no_column_can_hold_are_refused_by_position() -> None:
    # Bytes that are not UTF-8 reach Python as lone surrogates; nothing is connected to.
    done = subprocess.run(
        [TRAININGDB.encode(), b"teams", b"create", b"crew\xff"],
        capture_output=True,
        env=environment(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    line = one_error_line(done.stderr.decode())
    assert line == (
        "trainingdb: error: command-line argument 3 contains a lone surrogate (U+DCFF) at "
        "offset 4, which is not a character"
    )
    done2 = run("teams", "create", "x" * (MAX_STRING + 1))
    assert done2.returncode == 2
    assert one_error_line(done2.stderr).endswith(
        f"argument 3 is {MAX_STRING + 1:,} characters long; at most {MAX_STRING:,} are allowed"
    )


def test_key_lifetimes_past_any_clock_are_refused(migrated_url: URL) -> None:
    env = environment(TRAININGDB_DATABASE_URL=dsn(migrated_url))
    for lifetime, words in [
        ("99999999999999d", "is longer than any key can live"),
        ("36600d", "lifetime must be at most 100 years"),
    ]:
        done = run("keys", "create", "--admin", "--expires", lifetime, env=env)
        assert done.returncode == 2, done.stderr
        assert words in one_error_line(done.stderr)
