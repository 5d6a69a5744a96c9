"""The `trainingdb` command: serve, migrate, demo (and worker, ingest: cli_jobs.py).

Every command resolves its settings the same way (flag, else environment variable, else default)
and reports a bad or unreachable setting as one line on stderr with exit status 2.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from typing import Annotated

import typer
import uvicorn

from trainingdb.versioning.inputs import text_problem

from .app import authenticator, close_authenticator, create_app
from .auth import is_loopback
from .cli_common import (
    BlobUrl,
    DatabaseUrl,
    DataDir,
    Host,
    LogLevel,
    Port,
    app,
    settings_of,
    user_errors,
)
from .local_server import advertised
from .runtime import Runtime
from .settings import BLOB_URL, DATA_DIR, DATABASE_URL, LOCAL_ADMIN, SettingsError


def _check_port_free(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SettingsError(f"--host: cannot resolve {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # uvicorn binds with SO_REUSEADDR too; without it a port in TIME_WAIT would look taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise SettingsError(f"--port: cannot listen on {host}:{port}: {exc.strerror}") from None


def _check_local_admin(host: str) -> None:
    if not is_loopback(host):
        raise SettingsError(
            f"--local-admin: refusing to serve {host!r} without authentication; "
            "use a loopback host (127.0.0.1, ::1, localhost) or API keys"
        )


def _serve(
    runtime: Runtime, host: str, port: int, workers: int, log_level: str, local_admin: bool
) -> None:
    if workers == 1:
        auth = authenticator(runtime.engine, runtime.settings, local_admin=local_admin)
        origins = runtime.settings.cors_origins
        app = create_app(
            runtime.engine,
            runtime.blobs,
            runtime.secret,
            auth,
            origins,
            max_request_bytes=runtime.settings.max_request_bytes,
        )
        try:
            uvicorn.run(app, host=host, port=port, log_level=log_level)
        finally:
            close_authenticator(auth)
        return
    if local_admin:
        os.environ[LOCAL_ADMIN] = "1"
    # Worker processes re-import the app; they reach the database this process resolved
    # (embedded or not) through the environment.
    os.environ[DATABASE_URL] = runtime.url.render_as_string(hide_password=False)
    os.environ[BLOB_URL] = runtime.settings.blob_url
    os.environ[DATA_DIR] = str(runtime.settings.data_dir)
    uvicorn.run(
        "trainingdb.server.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trainingdb {version('trainingdb')}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Arguments reach the database as they are; bytes that are not UTF-8 arrive as lone
    # surrogates (Python's surrogateescape), which no text column can hold.
    for position, argument in enumerate(sys.argv[1:], 1):
        why = text_problem(argument)
        if why is not None:
            typer.echo(f"trainingdb: error: command-line argument {position} {why}", err=True)
            raise typer.Exit(2)


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    migrate: Annotated[
        bool, typer.Option("--migrate", help="Apply pending migrations to an external database.")
    ] = False,
    log_level: LogLevel = "info",
    with_worker: Annotated[
        bool, typer.Option("--with-worker", help="Also run a batch worker in this process.")
    ] = False,
    local_admin: Annotated[
        bool,
        typer.Option(
            "--local-admin",
            help="Treat requests without credentials from this machine as an admin "
            "(loopback hosts only).",
        ),
    ] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    blob_url: BlobUrl = None,
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql).

    Requests need an API key or an OIDC token (`trainingdb keys create`), unless --local-admin
    lets this machine's own requests in without one. The embedded database is migrated
    automatically; an external one must be at the current schema already, or be migrated with
    --migrate. With --with-worker a batch worker runs beside the server (a single-machine
    setup); otherwise run `trainingdb worker` separately.
    """
    with user_errors():
        if local_admin:
            _check_local_admin(host)
        settings = settings_of(data_dir, database_url, blob_url)
        settings.oidc  # noqa: B018 (a half-configured OIDC fails here, before anything starts)
        _check_port_free(host, port)
        with Runtime.open(settings) as runtime:
            runtime.prepare_schema(migrate)
            typer.echo(f"trainingdb: GraphiQL at http://{host}:{port}/graphql")
            if local_admin:
                typer.echo("trainingdb: requests from this machine without a key act as admin")
            with _worker_beside(runtime, with_worker), advertised(settings.data_dir, host, port):
                _serve(runtime, host, port, workers, log_level, local_admin)


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Apply the schema migrations (Alembic revisions) up to REVISION."""
    with user_errors():
        settings = settings_of(data_dir, database_url, None)
        with Runtime.open(settings) as runtime:
            before = runtime.schema_revision()
            runtime.migrate(revision)
            after = runtime.schema_revision()
            if before == after:
                typer.echo(f"trainingdb: database schema already at {after}")
            else:
                typer.echo(f"trainingdb: database schema migrated {before or 'empty'} -> {after}")


@app.command()
def demo(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    log_level: LogLevel = "info",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    blob_url: BlobUrl = None,
) -> None:
    """Load a small demo dataset (once) and serve it to this machine without a key (as
    `serve --local-admin`); Ctrl-C stops everything."""
    from .demo.load import load_demo

    with user_errors():
        _check_local_admin(host)
        settings = settings_of(data_dir, database_url, blob_url)
        _check_port_free(host, port)
        with Runtime.open(settings) as runtime:
            runtime.migrate()
            summary = load_demo(runtime.engine, runtime.blobs)
            state = "loaded" if summary.created else "already present, reused"
            typer.echo(
                f"trainingdb: demo dataset {summary.dataset!r} {state}: {summary.files} files, "
                f"{summary.instances} instances on main; branches {', '.join(summary.branches)}; "
                f"tags {', '.join(summary.tags)}\n"
                f"trainingdb: data in {settings.data_dir}\n"
                f"trainingdb: GraphiQL at http://{host}:{port}/graphql — try:\n\n"
                f"    {EXAMPLE_QUERY}\n\n"
                f"trainingdb: Ctrl-C stops the server"
                + (" and the embedded PostgreSQL" if runtime.embedded else "")
            )
            with _worker_beside(runtime, True), advertised(settings.data_dir, host, port):
                _serve(runtime, host, port, 1, log_level, local_admin=True)


@contextmanager
def _worker_beside(runtime: Runtime, wanted: bool) -> Iterator[None]:
    """A batch worker in a thread of this process while the block runs, if `wanted`."""
    if not wanted:
        yield
        return
    from .jobs.kinds import HANDLERS
    from .jobs.worker import Worker, start_in_thread

    stop = start_in_thread(Worker(runtime.engine, runtime.blobs, HANDLERS))
    try:
        yield
    finally:
        stop()


EXAMPLE_QUERY = "{ datasets { name description branches { name headSeq } } }"


def main() -> None:
    """Console-script entry point."""
    app()


# Registers `worker`, `ingest`, `export`, `teams`, `members`, `keys` and `checkout` on the same app.
from . import cli_access, cli_checkout, cli_jobs  # noqa: E402, F401
