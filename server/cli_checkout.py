"""`trainingdb checkout`: a version of a dataset into a local directory, and `--update` to move
it (trainingdb.client.checkout does the work, over HTTP like any client). Without `--server` it
talks to the server the local data directory names (local_server.py).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from .cli_common import DataDir, app
from .local_server import local_server
from .settings import DEFAULT_DATA_DIR, SettingsError

if TYPE_CHECKING:
    from trainingdb.client import Client
    from trainingdb.client.checkout import Options, Summary

KEY_ENV = "TRAININGDB_KEY"
# A test hook, not a setting: seconds to pause after each downloaded chunk, so a test can kill
# a checkout while some blobs are cached and one is half downloaded.
DELAY_ENV = "TRAININGDB_TEST_FETCH_DELAY"
# What the user got wrong (exit 2) rather than what failed on the way (exit 1).
USER_CODES = {
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "INVALID_FILTER",
    "GRAPHQL_VALIDATION_FAILED",  # a --where naming a field FileWhere lacks
    "UNAUTHENTICATED",
    "FORBIDDEN",
}


def _split(target: str) -> tuple[str, str | None]:
    """DATASET[@VERSION] as (dataset, version); a version may hold `@` itself (main@3)."""
    dataset, at, version = target.partition("@")
    if not dataset or (at and not version):
        raise SettingsError(f"{target!r}: expected DATASET or DATASET@VERSION")
    return dataset, version or None


def _where(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise SettingsError(f"--where: not JSON ({error})") from None
    if not isinstance(found, dict):
        raise SettingsError(f"--where: a JSON object (a FileWhere), not {text!r}")
    return found


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[tuple[Callable[[int], None], Callable[[], None]]]:
    """(on_total, on_file) callbacks drawing a progress bar on stderr (rich, which typer
    brings), or doing nothing."""
    if not enabled:
        yield (lambda files: None), (lambda: None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    columns = ("media", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("media", total=None)
        yield (lambda files: bar.update(task, total=files)), (lambda: bar.advance(task))


def _fail(message: str, status: int) -> typer.Exit:
    typer.echo(f"trainingdb: error: {message}", err=True)
    return typer.Exit(status)


@app.command("checkout")
def checkout_command(
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET",
            help="DATASET or DATASET@VERSION (a branch, tag, commit id or branch@seq; default: "
            "the default branch); with --update, the checkout's folder.",
        ),
    ],
    second: Annotated[
        str | None,
        typer.Argument(
            metavar="DIR|@VERSION",
            help="The folder to check out into; with --update, the version to move to "
            "(default: the head of the branch the checkout follows).",
            show_default=False,
        ),
    ] = None,
    update: Annotated[
        bool, typer.Option("--update", help="Move an existing checkout to another version.")
    ] = False,
    where: Annotated[
        str | None, typer.Option(help="Only files matching this FileWhere (JSON).")
    ] = None,
    query: Annotated[
        str | None, typer.Option(help="Only files matching this filter (the text language).")
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(help="coco, yolo, jsonl or parquet (default: coco).", show_default=False),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            help="The server's URL (default: the local data directory's running server; "
            "with --update, the checkout's).",
            show_default=False,
        ),
    ] = None,
    key: Annotated[str | None, typer.Option(envvar=KEY_ENV, help="API key.")] = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            envvar="TRAININGDB_CACHE",
            help="The media cache shared by checkouts (default: ~/.cache/trainingdb).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace files changed in the checkout too.")
    ] = False,
    parallel: Annotated[int, typer.Option(min=1, max=64, help="Downloads at once.")] = 8,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a progress bar.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Check out a version of a dataset into DIR: media (hard-linked from a shared cache),
    annotations in a training format, and trainingdb.lock. `--update DIR @VERSION` moves a
    checkout, fetching only what differs; files changed in DIR are kept unless --force."""
    from trainingdb.client import TrainingdbError
    from trainingdb.client.checkout import Options

    def notify(message: str) -> None:
        typer.echo(f"trainingdb: {message}", err=True)

    args = Args(target, second, update, where, query, format, server, key, cache, data_dir)
    try:
        with _progress(not as_json) as (on_total, on_file):
            summary, folder = _run(args, Options(parallel, force, notify, on_total, on_file))
    except SettingsError as error:
        raise _fail(str(error), 2) from None
    except TrainingdbError as error:
        raise _fail(str(error), 2 if error.code in USER_CODES else 1) from None
    except (OSError, ValueError) as error:  # a disk, or an answer this client cannot use
        raise _fail(str(error), 1) from None
    _print(summary, folder, as_json)


@dataclass(frozen=True, slots=True)
class Args:
    """The command line of `trainingdb checkout`, as given."""

    target: str
    second: str | None
    update: bool
    where: str | None
    query: str | None
    format: str | None
    server: str | None
    key: str | None
    cache: Path | None
    data_dir: Path | None


def _run(args: Args, options: Options) -> tuple[Summary, Path]:
    """Run the checkout or update the arguments ask for; (what it did, the folder)."""
    from trainingdb.client.cache import BlobCache, default_cache_dir
    from trainingdb.client.checkout import checkout, read_checkout, update

    delay = float(os.environ.get(DELAY_ENV) or 0)
    blobs = BlobCache(
        args.cache or default_cache_dir(),
        on_bytes=(lambda size: time.sleep(delay)) if delay else None,
    )
    if args.update:
        if args.where is not None or args.query is not None or args.format is not None:
            raise SettingsError(
                "--update keeps the checkout's filter and format; make a new checkout for others"
            )
        folder = Path(args.target)
        version = args.second.removeprefix("@") if args.second else None
        url = args.server or read_checkout(folder).server
        with _client(url, args.key) as client:
            return update(client, blobs, folder, version, server=url, options=options), folder
    if args.second is None:
        raise SettingsError("missing DIR: trainingdb checkout DATASET[@VERSION] DIR")
    folder = Path(args.second)
    dataset, version = _split(args.target)
    url = args.server or local_server((args.data_dir or DEFAULT_DATA_DIR).absolute())
    with _client(url, args.key) as client:
        summary = checkout(
            client,
            blobs,
            dataset,
            version,
            folder,
            server=url,
            fmt=args.format or "coco",
            where=_where(args.where),
            query=args.query,
            options=options,
        )
    return summary, folder


def _client(url: str, key: str | None) -> Client:
    from trainingdb.client import Client

    try:
        return Client(url, key)
    except ValueError as error:  # a malformed URL, or an empty key
        raise SettingsError(f"--server/--key: {error}") from None


def _print(summary: Summary, folder: Path, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(summary.as_json()).decode() + "\n")
        return
    fetched_mb = summary.fetched_bytes / 1e6
    typer.echo(
        f"trainingdb: {folder} at {summary.version} (commit {summary.commit}): "
        f"{summary.files} files, {summary.instances} instances; fetched {summary.fetched_files} "
        f"files ({fetched_mb:.1f} MB), reused {summary.reused_files}, removed "
        f"{summary.removed_files}, in {summary.seconds:.1f} s"
    )
