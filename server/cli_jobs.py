"""`trainingdb worker` (the batch service) and `trainingdb ingest ...` (submit a job, follow it).

A worker is its own process: start as many as wanted, on any machines that reach the database
and the blob store. `ingest` submits a job and follows its progress until it ends (exit 0 when
it succeeded, 1 when it failed); with `--run` it runs the job itself instead of waiting for a
worker, which is what a single machine without a running worker wants.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from trainingdb.versioning import jobs as queue
from trainingdb.versioning.datasets import get_dataset
from trainingdb.versioning.jobs import JobRow
from trainingdb.versioning.models import JobKind, JobStatus

from .cli_common import BlobUrl, DatabaseUrl, DataDir, app, settings_of, user_errors
from .jobs.kinds import HANDLERS
from .jobs.worker import Worker, default_name
from .runtime import Runtime
from .settings import Settings, SettingsError

ingest = typer.Typer(help="Import media or annotations into a dataset, as a batch job.")
app.add_typer(ingest, name="ingest")

SkipInvalid = Annotated[bool, typer.Option(help="Import the valid records and report the others.")]
RunHere = Annotated[
    bool, typer.Option("--run", help="Run the job in this process instead of a worker.")
]
Wait = Annotated[bool, typer.Option(help="Follow the job until it ends.")]
Lease = Annotated[
    float,
    typer.Option(min=1, max=86_400, help="Seconds a job stays claimed without a heartbeat."),
]


@app.command()
def worker(
    name: Annotated[str | None, typer.Option(help="Worker name in job rows.")] = None,
    lease: Lease = 60.0,
    poll: Annotated[
        float, typer.Option(min=0.05, max=3_600, help="Seconds between queue polls.")
    ] = 1.0,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    blob_url: BlobUrl = None,
) -> None:
    """Run batch jobs (imports, exports) from the queue until stopped (Ctrl-C or SIGTERM)."""
    _log_to_stderr()
    with user_errors():
        settings = settings_of(data_dir, database_url, blob_url)
        with Runtime.open(settings) as runtime:
            runtime.prepare_schema()
            stop = threading.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            the_worker = Worker(
                runtime.engine,
                runtime.blobs,
                HANDLERS,
                name=name or default_name(),
                lease_seconds=lease,
                poll_seconds=poll,
            )
            typer.echo(f"trainingdb: worker {the_worker.name} waiting for jobs")
            the_worker.run(stop)
            typer.echo(f"trainingdb: worker {the_worker.name} stopped")


def _log_to_stderr() -> None:
    """Job events (claimed, succeeded, failed) on stderr, one line each."""
    logger = logging.getLogger("trainingdb")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


@ingest.command("media")
def ingest_media(
    dataset: Annotated[str, typer.Argument(help="The dataset's name.")],
    paths: Annotated[list[Path], typer.Argument(help="Media files, or folders to walk.")],
    branch: Annotated[str, typer.Option(help="The branch to add the files to.")] = "main",
    root: Annotated[
        Path | None,
        typer.Option(help="Name files by their path relative to this folder (default: base name)."),
    ] = None,
    skip_invalid: SkipInvalid = False,
    run: RunHere = False,
    wait: Wait = True,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    blob_url: BlobUrl = None,
) -> None:
    """Import media files: probe each, store its bytes, add it to the branch (one job)."""
    with user_errors():
        files = _expand(paths)
        params: dict[str, Any] = {
            "branch": branch,
            "paths": [str(p) for p in files],
            "skip_invalid": skip_invalid,
        }
        if root is not None:
            params["root"] = str(root.resolve())
        settings = settings_of(data_dir, database_url, blob_url)
        _submit_and_follow(
            settings, dataset, JobKind.IMPORT_MEDIA, params, f"import {len(files)} files", run, wait
        )


@ingest.command("annotations")
def ingest_annotations(
    dataset: Annotated[str, typer.Argument(help="The dataset's name.")],
    path: Annotated[
        Path, typer.Argument(help="A JSONL (native) or COCO JSON file, or a YOLO folder.")
    ],
    format: Annotated[str, typer.Option(help="jsonl, coco or yolo.")] = "jsonl",
    branch: Annotated[str, typer.Option(help="The branch to add the instances to.")] = "main",
    source: Annotated[str, typer.Option(help="human, or model for predictions.")] = "human",
    model_run: Annotated[
        str | None, typer.Option(help="The model run predictions come from (source model).")
    ] = None,
    create_labels: Annotated[
        bool, typer.Option(help="Create the labels the branch lacks instead of refusing them.")
    ] = False,
    skip_invalid: SkipInvalid = False,
    run: RunHere = False,
    wait: Wait = True,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    blob_url: BlobUrl = None,
) -> None:
    """Import annotations or predictions: validate every record, apply all (or the valid)."""
    with user_errors():
        if format not in ("jsonl", "coco", "yolo"):
            raise SettingsError(f"--format: {format!r} is not one of jsonl, coco, yolo")
        if not (path.is_dir() if format == "yolo" else path.is_file()):
            raise SettingsError(f"{path}: no such {'folder' if format == 'yolo' else 'file'}")
        if source == "model" and not model_run:
            raise SettingsError("--model-run: predictions (--source model) name their model run")
        params: dict[str, Any] = {
            "branch": branch,
            "path": str(path.resolve()),
            "format": format,
            "source": source,
            "model_run": model_run if source == "model" else None,
            "create_labels": create_labels,
            "skip_invalid": skip_invalid,
        }
        settings = settings_of(data_dir, database_url, blob_url)
        _submit_and_follow(
            settings, dataset, JobKind.IMPORT_ANNOTATIONS, params, f"import {path.name}", run, wait
        )


def _submit_and_follow(
    settings: Settings,
    dataset: str,
    kind: JobKind,
    params: dict[str, Any],
    what: str,
    run: bool,
    wait: bool,
) -> None:
    with Runtime.open(settings) as runtime:
        if runtime.embedded:
            runtime.migrate()
        with runtime.engine.begin() as conn:
            dataset_id = get_dataset(conn, dataset).id
            job = queue.submit(conn, dataset_id, kind, params)
        typer.echo(f"trainingdb: job {job.id} submitted: {what}")
        if run:
            Worker(runtime.engine, runtime.blobs, HANDLERS).run_once()
        if wait or run:
            _follow(runtime.engine, job)


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given, and every file under the folders given, as absolute paths."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p.resolve() for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            found.append(path.resolve())
        else:
            raise SettingsError(f"{path}: no such file or folder")
    if not found:
        raise SettingsError("no files to import")
    return found


def _follow(engine: Engine, job: JobRow) -> None:
    """Print the job's progress until it ends; exit 1 if it failed."""
    shown = ""
    while True:
        with engine.connect() as conn:
            current = queue.get(conn, job.id)
        assert current is not None
        line = (
            f"{current.status}: {current.done}/{current.total or '?'} done, {current.failed} failed"
        )
        if line != shown:
            typer.echo(f"trainingdb: job {job.id} {line}")
            shown = line
        if current.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            break
        time.sleep(0.5)
    for error in current.errors[:20]:
        typer.echo(f"  {error['message']}", err=True)
    if current.failed > 20:
        typer.echo(f"  ... and {current.failed - 20} more", err=True)
    if current.status is JobStatus.FAILED:
        typer.echo(f"trainingdb: job {job.id} failed: {current.message}", err=True)
        raise typer.Exit(1)
    result = " ".join(f"{k}={v}" for k, v in sorted((current.result or {}).items()))
    typer.echo(f"trainingdb: job {job.id} succeeded: {result}")


@app.command("export")
def export_command(
    dataset: Annotated[str, typer.Argument(help="The dataset's name.")],
    output: Annotated[Path, typer.Argument(help="The file to write (a folder for yolo).")],
    format: Annotated[str, typer.Option(help="coco, yolo, jsonl or parquet.")] = "coco",
    version: Annotated[
        str | None, typer.Option(help="Branch, tag, commit or branch@seq [default: main].")
    ] = None,
    query: Annotated[
        str | None, typer.Option(help="Only instances matching this filter (docs/QUERIES.md).")
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    blob_url: BlobUrl = None,
) -> None:
    """Export the instances of a version (those matching --query) to a file, streaming."""
    from .exports import FORMATS, export

    with user_errors():
        if format not in FORMATS:
            raise SettingsError(f"--format: {format!r} is not one of {', '.join(FORMATS)}")
        settings = settings_of(data_dir, database_url, blob_url)
        with Runtime.open(settings) as runtime:
            if runtime.embedded:
                runtime.migrate()
            with runtime.engine.connect() as conn:
                row = get_dataset(conn, dataset)
                result = export(conn, row.id, version or row.default_branch, format, output, query)
        typer.echo(
            f"trainingdb: exported {result.instances} instances of {result.files} files "
            f"({result.labels} labels) as {format} to {output}"
            + (f"; {result.skipped} not expressible in {format}" if result.skipped else "")
        )
