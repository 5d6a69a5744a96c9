"""A worker killed (SIGKILL) in the middle of an import leaves nothing applied, and another
worker takes the job over once the lease runs out and applies it exactly once."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import URL, Engine, insert

from tests.clirun import TRAININGDB, environment
from trainingdb import versioning as v
from trainingdb.versioning import jobs
from trainingdb.versioning.jobs import JobRow
from trainingdb.versioning.models import Blob, JobKind, JobStatus

FILES, PER_FILE = 2_000, 20


def worker(database_url: URL, tmp_path: Path, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            TRAININGDB, "worker", "--name", name, "--lease", "2", "--poll", "0.1",
            "--database-url", database_url.render_as_string(hide_password=False),
            "--blob-url", (tmp_path / "blobs").as_uri(), "--data-dir", str(tmp_path / "data"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )  # fmt: skip


@pytest.mark.slow
def test_a_killed_worker_applies_nothing_and_the_job_is_retried(
    engine: Engine, database_url: URL, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        ds = v.create_dataset(conn, "killed").id
        conn.execute(
            insert(Blob).values(dataset_id=ds, sha256="1" * 64, size=1, mime="x", storage_key="k")
        )
        v.create(conn, ds, "main", "label", [{"name": "car"}])
        v.create(
            conn,
            ds,
            "main",
            "file",
            [
                {"name": f"{i}.jpg", "blob_sha256": "1" * 64, "media_type": "image",
                 "width": 100, "height": 100}
                for i in range(FILES)
            ],
        )  # fmt: skip
    source = tmp_path / "big.jsonl"
    with source.open("wb") as out:
        for i in range(FILES):
            boxes = [{"label": "car", "bbox": [j, j, 10, 10]} for j in range(PER_FILE)]
            out.write(orjson.dumps({"file": f"{i}.jpg", "instances": boxes}) + b"\n")
    with engine.begin() as conn:
        job = jobs.submit(conn, ds, JobKind.IMPORT_ANNOTATIONS, {"path": str(source)})

    first = worker(database_url, tmp_path, "doomed")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                seen = jobs.get(conn, job.id)
            assert seen is not None
            if seen.status is JobStatus.RUNNING and seen.done > 0:
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the first worker never got going")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    with engine.connect() as conn:
        assert v.read(conn, ds, "main", "instance") == {}
        running = jobs.get(conn, job.id)
    assert running is not None
    assert (running.status, running.worker) == (JobStatus.RUNNING, "doomed")

    second = worker(database_url, tmp_path, "heir")
    try:
        deadline = time.monotonic() + 120
        while True:
            with engine.connect() as conn:
                found = jobs.get(conn, job.id)
            assert found is not None
            done: JobRow = found
            if done.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                break
            assert time.monotonic() < deadline, "the job was not taken over"
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert done.status is JobStatus.SUCCEEDED, done.message
    assert (done.worker, done.attempts) == ("heir", 2)
    assert done.result == {
        "created": FILES * PER_FILE,
        "existing": 0,
        "failed": 0,
        "labels_created": 0,
    }
    with engine.connect() as conn:
        assert len(v.read(conn, ds, "main", "instance")) == FILES * PER_FILE
