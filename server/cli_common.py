"""What every `trainingdb` command shares: the Typer app, the settings options, and how a
user's mistake is reported (one line on stderr, exit status 2)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from trainingdb.versioning.errors import TrainingdbError

from .settings import BLOB_URL, DATA_DIR, DATABASE_URL, Settings, SettingsError

app = typer.Typer(
    name="trainingdb",
    help="trainingdb: a versioned database for machine-learning training data.",
    no_args_is_help=True,
    add_completion=False,
    # Rich tracebacks print local variables, which can hold credentials.
    pretty_exceptions_enable=False,
)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar=DATA_DIR,
        help="Folder for the embedded PostgreSQL and local blobs [default: ./.trainingdb].",
        show_default=False,
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar=DATABASE_URL,
        help="PostgreSQL URL to use instead of the embedded server.",
        show_default=False,
    ),
]
BlobUrl = Annotated[
    str | None,
    typer.Option(
        "--blob-url",
        envvar=BLOB_URL,
        help="Where media bytes live [default: file://<data dir>/blobs].",
        show_default=False,
    ),
]
Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]
LogLevel = Annotated[str, typer.Option(help="uvicorn log level (critical .. trace).")]


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except (SettingsError, TrainingdbError) as exc:
        typer.echo(f"trainingdb: error: {exc}", err=True)
        raise typer.Exit(2) from None


def settings_of(data_dir: Path | None, database_url: str | None, blob_url: str | None) -> Settings:
    return Settings.resolve(data_dir=data_dir, database_url=database_url, blob_url=blob_url)
