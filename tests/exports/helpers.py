"""A dataset holding given files, an import run by a real worker, an export: the round-trip
tests' steps."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from trainingdb import versioning as v
from trainingdb.server.blobs import LocalBlobStore
from trainingdb.server.exports import ExportResult, export
from trainingdb.server.jobs.kinds import HANDLERS
from trainingdb.server.jobs.worker import Worker
from trainingdb.versioning import jobs as queue
from trainingdb.versioning.jobs import JobRow
from trainingdb.versioning.models import Blob, JobKind

SHA = "7" * 64
_names = itertools.count()


def make_worker(engine: Engine, folder: Path) -> Worker:
    """A worker on an empty queue (earlier tests' jobs are failed first)."""
    while (job := queue.claim(engine, "drain", 60)) is not None:
        queue.fail(engine, job, "drain", "drained")
    return Worker(engine, LocalBlobStore(folder / "blobs"), HANDLERS, name="round-trip")


def image(name: str, width: int, height: int) -> dict[str, Any]:
    return {"name": name, "media_type": "image", "width": width, "height": height}


def video(name: str, width: int, height: int, frames: int) -> dict[str, Any]:
    return {
        "name": name,
        "media_type": "video",
        "width": width,
        "height": height,
        "fps": 12.0,
        "frame_count": frames,
    }


def make_dataset(engine: Engine, files: Iterable[Mapping[str, Any]]) -> int:
    """A fresh dataset with `files` (one dummy blob for all) committed on main."""
    with engine.begin() as conn:
        ds = v.create_dataset(conn, f"rt{next(_names)}").id
        conn.execute(
            insert(Blob).values(
                dataset_id=ds, sha256=SHA, size=1, mime="application/octet-stream", storage_key="k"
            )
        )
        v.create(conn, ds, "main", "file", [{**f, "blob_sha256": SHA} for f in files])
        v.commit(conn, ds, "main", "files")
    return ds


def run_import(
    engine: Engine, worker: Worker, dataset: int, path: Path, fmt: str, **params: Any
) -> JobRow:
    """Import `path` as `fmt` onto main through the job queue, creating missing labels."""
    with engine.begin() as conn:
        job = queue.submit(
            conn,
            dataset,
            JobKind.IMPORT_ANNOTATIONS,
            {"path": str(path), "format": fmt, "create_labels": True, **params},
        )
    worker.run_once()
    with engine.connect() as conn:
        done = queue.get(conn, job.id)
    assert done is not None
    return done


def run_export(
    engine: Engine,
    dataset: int,
    fmt: str,
    target: Path,
    version: str = "main",
    query: str | None = None,
) -> ExportResult:
    with engine.connect() as conn:
        return export(conn, dataset, version, fmt, target, query)
