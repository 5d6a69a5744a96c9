"""The checkout's parts that need no server: where `serve` advertises itself, the lock file's
checks, the cache's temporary files, and the COCO rewrite."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from trainingdb.client.cache import BlobCache
from trainingdb.client.checkout_formats import _rewrite_coco, wait_for
from trainingdb.client.checkout_sync import link
from trainingdb.client.errors import InvalidInput, JobTimeout
from trainingdb.client.manifest import STAGING, Entry, Manifest, Media, read, safe_path, write
from trainingdb.client.types import Job
from trainingdb.server.local_server import advertised, local_server
from trainingdb.server.settings import SettingsError


def dead_pid() -> int:
    """The id of a process that has ended."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_serve_advertises_its_url_while_it_runs(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no server runs for the data directory"):
        local_server(tmp_path)
    with advertised(tmp_path, "0.0.0.0", 8123):  # noqa: S104
        assert local_server(tmp_path) == "http://127.0.0.1:8123"
        with advertised(tmp_path, "::", 8124):  # a second server on the directory wins
            assert local_server(tmp_path) == "http://[::1]:8124"
    assert not (tmp_path / "server.json").exists()

    (tmp_path / "server.json").write_bytes(orjson.dumps({"url": "http://h:1", "pid": dead_pid()}))
    with pytest.raises(SettingsError, match=r"its server \(process \d+\) has stopped"):
        local_server(tmp_path)
    (tmp_path / "server.json").write_text("{")
    with pytest.raises(SettingsError, match="not a server's address"):
        local_server(tmp_path)


def manifest() -> Manifest:
    return Manifest(
        server="http://127.0.0.1:8000",
        dataset="scenes",
        version="v1",
        branch="main",
        commit="c0ffee",
        commit_version="main@1",
        format="coco",
        where={"name": {"_eq": "a.png"}},
        query=None,
        instances=2,
        files=(Media("id-1", "a.png", "images/a.png", 10, "ab" * 32),),
        annotations=(Entry("annotations.json", 5, "cd" * 32),),
    )


def test_the_lock_round_trips_and_refuses_what_could_escape_dir(tmp_path: Path) -> None:
    write(tmp_path, manifest())
    assert read(tmp_path) == manifest()
    assert read(tmp_path / "absent") is None

    data = orjson.loads((tmp_path / "trainingdb.lock").read_bytes())
    data["annotations"][0]["path"] = "/etc/passwd"
    (tmp_path / "trainingdb.lock").write_bytes(orjson.dumps(data))
    with pytest.raises(InvalidInput, match=r"annotations\[0\]\.path: '/etc/passwd'"):
        read(tmp_path)
    data["annotations"][0]["path"] = "ok.json"
    data["files"][0]["size"] = "10"
    (tmp_path / "trainingdb.lock").write_bytes(orjson.dumps(data))
    with pytest.raises(InvalidInput, match=r"files\[0\]\.size: expected an integer"):
        read(tmp_path)
    (tmp_path / "trainingdb.lock").write_text("not json")
    with pytest.raises(InvalidInput, match=r"trainingdb\.lock: not JSON"):
        read(tmp_path)


@pytest.mark.parametrize("path", ["", "/a.png", "../a.png", "a/../../b", "a//b", "./a", "a\\b"])
def test_names_that_leave_the_folder_are_refused(path: str) -> None:
    with pytest.raises(InvalidInput, match="is not a relative path inside the checkout"):
        safe_path(path, "name")
    assert safe_path("night/e.png", "name") == "night/e.png"


def test_the_cache_removes_only_dead_downloads(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    (tmp_path / "tmp").mkdir()
    dead = tmp_path / "tmp" / f"{dead_pid()}-00aa.part"
    mine = tmp_path / "tmp" / f"{os.getpid()}-00bb.part"
    dead.write_bytes(b"half")
    mine.write_bytes(b"half")
    assert cache.clean() == 1
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == [mine.name]
    with pytest.raises(ValueError, match="64 lowercase hex digits"):
        cache.path("../../etc/passwd")


def test_coco_file_names_gain_the_media_folder_and_nothing_else_changes(tmp_path: Path) -> None:
    coco: dict[str, Any] = {
        "annotations": [
            {
                "id": 1,
                "bbox": [0.1, 2.5, 3.0, 1e-07],
                "segmentation": {"counts": 'a"b', "size": [2, 3]},
            },
            {"id": 2, "segmentation": [[1.0, 2.0]], "score": None, "iscrowd": 0, "file_name": 3},
        ],
        "images": [{"id": 1, "file_name": "nuit/été.png", "width": None}, {"file_name": "b"}],
        "categories": [],
    }
    source, dest = tmp_path / "in.json", tmp_path / "out.json"
    source.write_bytes(orjson.dumps(coco))
    _rewrite_coco(source, dest, "images/")
    coco["images"][0]["file_name"] = "images/nuit/été.png"
    coco["images"][1]["file_name"] = "images/b"
    assert dest.read_bytes() == orjson.dumps(coco)


def test_a_blob_is_copied_where_it_cannot_be_linked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(b"pixels")
    folder = tmp_path / "co"
    (folder / STAGING).mkdir(parents=True)
    link(blob, folder, "images/a.png")
    assert os.path.samefile(blob, folder / "images" / "a.png")

    def cross_device(source: object, target: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    link(blob, folder, "images/night/b.png")
    copied = folder / "images" / "night" / "b.png"
    assert copied.read_bytes() == b"pixels"
    assert not os.path.samefile(blob, copied)
    assert list((folder / STAGING).iterdir()) == []


def job(status: str) -> Job:
    return Job("7", "scenes", "EXPORT", status, None, 0, 0, (), None, "", None, None)


class Queue:
    """The client's `wait` as a server without a worker answers it: the job stays `status`
    until the second wait (after the notice) sees it done."""

    def __init__(self, status: str) -> None:
        self.status = status
        self.timeouts: list[float | None] = []

    def wait(self, waited: Job, *, poll: float, timeout: float | None = None) -> Job:
        self.timeouts.append(timeout)
        if timeout is not None:
            raise JobTimeout(job(self.status), timeout)
        return job("SUCCEEDED")


@pytest.mark.parametrize(("status", "notices"), [("QUEUED", 1), ("RUNNING", 0)])
def test_an_export_no_worker_takes_is_reported_once(status: str, notices: int) -> None:
    told: list[str] = []
    queue = Queue(status)
    done = wait_for(queue, job("QUEUED"), time.monotonic() - 2, told.append)
    assert done.status == "SUCCEEDED"
    assert len(told) == notices
    assert all("waiting for a worker: run `trainingdb worker`" in t for t in told)
    first, second = queue.timeouts
    assert first is not None
    assert 2.5 < first <= 3.0  # the notice comes 5 s after the job was queued
    assert second is None
