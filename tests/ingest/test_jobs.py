"""The job queue and the media import job, with real workers on the test database."""

from __future__ import annotations

import io
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Engine, select

from tests.graphql.execute import run
from trainingdb import versioning as v
from trainingdb.server.blobs import LocalBlobStore
from trainingdb.server.demo.video import make_video
from trainingdb.server.jobs.kinds import HANDLERS
from trainingdb.server.jobs.worker import Worker
from trainingdb.versioning import jobs as queue
from trainingdb.versioning.datasets import get_dataset_by_id
from trainingdb.versioning.jobs import JobRow, LeaseLost
from trainingdb.versioning.models import Blob, JobKind, JobStatus

_names = itertools.count()


@pytest.fixture
def dataset(engine: Engine) -> int:
    with engine.begin() as conn:
        return v.create_dataset(conn, f"jobs{next(_names)}").id


@pytest.fixture
def worker(engine: Engine, tmp_path: Path) -> Worker:
    return Worker(engine, LocalBlobStore(tmp_path / "blobs"), HANDLERS, name="w1")


def drain(engine: Engine) -> None:
    """Fail every open job, so each test starts with an empty queue."""
    while (job := queue.claim(engine, "drain", 60)) is not None:
        queue.fail(engine, job, "drain", "drained by the test")


@pytest.fixture(autouse=True)
def empty_queue(engine: Engine) -> None:
    drain(engine)


def submit(engine: Engine, dataset: int, params: dict[str, Any]) -> JobRow:
    with engine.begin() as conn:
        return queue.submit(conn, dataset, JobKind.IMPORT_MEDIA, params)


def reread(engine: Engine, job: JobRow) -> JobRow:
    with engine.connect() as conn:
        found = queue.get(conn, job.id)
    assert found is not None
    return found


@pytest.fixture
def media(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "media"
    (folder / "cam").mkdir(parents=True)
    paths = {}
    for name, size in (("cam/a.png", (64, 48)), ("cam/b.jpg", (32, 16))):
        buffer = io.BytesIO()
        Image.new("RGB", size, "#123456").save(
            buffer, format="PNG" if name.endswith("png") else "JPEG"
        )
        (folder / name).write_bytes(buffer.getvalue())
        paths[name] = folder / name
    (folder / "drive.mp4").write_bytes(make_video().data)
    paths["drive.mp4"] = folder / "drive.mp4"
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    paths["broken.png"] = folder / "broken.png"
    return paths


def files_on(engine: Engine, dataset: int) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        files = v.read(conn, dataset, "main", "file")
    return {f["name"]: f for f in files.values()}


def test_a_media_import_is_all_or_nothing(
    engine: Engine, worker: Worker, dataset: int, media: dict[str, Path]
) -> None:
    root = media["drive.mp4"].parent
    job = submit(engine, dataset, {"paths": [str(p) for p in media.values()], "root": str(root)})
    claimed = worker.run_once()
    assert claimed is not None
    assert claimed.id == job.id
    done = reread(engine, job)
    assert done.status is JobStatus.FAILED
    assert done.message.startswith("1 of 4 files cannot be imported; nothing was imported")
    assert done.failed == 1
    assert [e["record"] for e in done.errors] == [str(media["broken.png"])]
    assert "the image is truncated" in done.errors[0]["message"]
    assert files_on(engine, dataset) == {}


def test_skip_invalid_imports_the_rest_and_a_rerun_changes_nothing(
    engine: Engine, worker: Worker, dataset: int, media: dict[str, Path]
) -> None:
    root = media["drive.mp4"].parent
    params = {"paths": [str(p) for p in media.values()], "root": str(root), "skip_invalid": True}
    job = submit(engine, dataset, params)
    worker.run_once()
    done = reread(engine, job)
    assert done.status is JobStatus.SUCCEEDED, done.message
    assert done.result == {"created": 3, "unchanged": 0, "failed": 1}
    assert (done.total, done.done, done.failed) == (4, 4, 1)
    files = files_on(engine, dataset)
    assert sorted(files) == ["cam/a.png", "cam/b.jpg", "drive.mp4"]
    assert (files["cam/a.png"]["width"], files["cam/a.png"]["height"]) == (64, 48)
    video = files["drive.mp4"]
    assert (video["media_type"], video["fps"], video["frame_count"]) == ("video", 12.0, 36)
    with engine.connect() as conn:
        rows = conn.execute(select(Blob.sha256, Blob.mime).where(Blob.dataset_id == dataset))
        mimes = {sha: mime for sha, mime in rows}
    assert mimes[files["cam/b.jpg"]["blob_sha256"]] == "image/jpeg"
    assert worker.blobs.exists(video["blob_sha256"])

    again = submit(engine, dataset, params)
    worker.run_once()
    assert reread(engine, again).result == {"created": 0, "unchanged": 3, "failed": 1}
    assert files_on(engine, dataset).keys() == files.keys()


def test_a_name_taken_by_other_bytes_is_an_error(
    engine: Engine, worker: Worker, dataset: int, media: dict[str, Path], tmp_path: Path
) -> None:
    submit(engine, dataset, {"paths": [str(media["cam/a.png"])]})
    worker.run_once()
    other = tmp_path / "other" / "a.png"
    other.parent.mkdir()
    other.write_bytes(media["cam/b.jpg"].read_bytes())
    job = submit(engine, dataset, {"paths": [str(other)]})
    worker.run_once()
    failed = reread(engine, job)
    assert failed.status is JobStatus.FAILED
    assert "file 'a.png' is already on 'main' with other content" in failed.errors[0]["message"]


def test_a_lapsed_lease_is_claimed_again_and_the_first_worker_cannot_finish(
    engine: Engine, dataset: int
) -> None:
    job = submit(engine, dataset, {"paths": []})
    first = queue.claim(engine, "slow", 0.05)
    assert first is not None
    assert first.id == job.id
    assert queue.claim(engine, "other", 60) is None  # leased
    time.sleep(0.1)
    second = queue.claim(engine, "other", 60)
    assert second is not None
    assert (second.id, second.attempts, second.worker) == (job.id, 2, "other")
    with pytest.raises(LeaseLost), engine.begin() as conn:
        queue.finish(conn, first, "slow", {"created": 1})
    assert not queue.renew(engine, first, "slow", 60)
    with engine.begin() as conn:
        queue.finish(conn, second, "other", {"created": 0})
    assert reread(engine, job).status is JobStatus.SUCCEEDED


def test_a_job_that_kills_its_workers_is_given_up(engine: Engine, dataset: int) -> None:
    with engine.begin() as conn:
        job = queue.submit(conn, dataset, JobKind.IMPORT_MEDIA, {}, max_attempts=2)
    for _ in range(2):
        assert queue.claim(engine, "doomed", 0.01) is not None
        time.sleep(0.05)
    assert queue.claim(engine, "next", 60) is None
    given_up = reread(engine, job)
    assert given_up.status is JobStatus.FAILED
    assert given_up.message.startswith("gave up after 2 attempts")


def test_concurrent_workers_take_distinct_jobs(engine: Engine, dataset: int) -> None:
    submitted = {submit(engine, dataset, {"paths": []}).id for _ in range(12)}

    def take(i: int) -> list[int]:
        mine = []
        while (job := queue.claim(engine, f"w{i}", 60)) is not None:
            mine.append(job.id)
        return mine

    with ThreadPoolExecutor(max_workers=4) as pool:
        taken = [job for jobs in pool.map(take, range(4)) for job in jobs]
    assert sorted(taken) == sorted(submitted)


def test_jobs_through_graphql(
    engine: Engine, worker: Worker, dataset: int, media: dict[str, Path]
) -> None:
    job = submit(engine, dataset, {"paths": [str(media["broken.png"]), str(media["cam/a.png"])]})
    worker.run_once()
    with engine.connect() as conn:
        name = get_dataset_by_id(conn, dataset).name
    out = run(
        engine,
        """query($id: ID!, $ds: String!) {
          job(id: $id) { id dataset kind status total done failed message
                         errors { record message } result attempts }
          dataset(name: $ds) {
            jobs(status: [FAILED]) { id }
            running: jobs(status: [RUNNING]) { id }
          }
        }""",
        id=str(job.id),
        ds=name,
    )
    assert "errors" not in out, out
    seen = out["data"]["job"]
    assert seen["status"] == "FAILED"
    assert (seen["kind"], seen["dataset"], seen["total"], seen["done"]) == (
        "IMPORT_MEDIA",
        name,
        2,
        2,
    )
    assert seen["errors"][0]["record"] == str(media["broken.png"])
    assert out["data"]["dataset"] == {"jobs": [{"id": str(job.id)}], "running": []}
    missing = run(engine, '{ job(id: "999999") { id } }')
    assert missing["errors"][0]["code"] == "NOT_FOUND"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_file_metadata_keeps_nothing_of_the_importing_machine(
    engine: Engine, worker: Worker, dataset: int, media: dict[str, Path]
) -> None:
    """The worker's absolute paths are no data of the dataset (another machine has others)."""
    root = media["drive.mp4"].parent
    paths = [str(p) for n, p in media.items() if n != "broken.png"]
    job = submit(engine, dataset, {"paths": paths, "root": str(root)})
    worker.run_once()
    assert reread(engine, job).status is JobStatus.SUCCEEDED
    files = files_on(engine, dataset)
    assert sorted(files) == ["cam/a.png", "cam/b.jpg", "drive.mp4"]
    for name, file in files.items():
        leaked = [s for s in _strings(file["metadata"]) if s.startswith("/") or str(root) in s]
        assert leaked == [], name


def test_job_ids_are_random_and_the_queue_keeps_submission_order(
    engine: Engine, dataset: int
) -> None:
    """Ids tell nothing of other jobs (not consecutive, spread over 60 bits); claims still go
    oldest first, also for jobs queued in one transaction."""
    with engine.begin() as conn:
        submitted = [
            queue.submit(conn, dataset, JobKind.EXPORT, {"version": "main", "n": n}).id
            for n in range(20)
        ]
    assert len(set(submitted)) == 20
    assert sum(b - a == 1 for a, b in itertools.pairwise(submitted)) == 0
    assert max(submitted) > 2**40  # 20 draws below 2**40 out of 2**60: about 1 in 10**60
    claimed = []
    while (job := queue.claim(engine, "w", 60)) is not None:
        claimed.append(job.id)
        queue.fail(engine, job, "test", "done")
    assert claimed == submitted
