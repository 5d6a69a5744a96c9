"""A checkout killed halfway (SIGKILL: no cleanup runs) leaves no partial file where a whole one
is expected, and running it again completes it; a download whose bytes are not the content
asked for fails naming the file, and leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import trainingdb.server.cli  # noqa: F401 (registers every command on the app)
from tests.clirun import TRAININGDB
from trainingdb.client.cache import BlobCache
from trainingdb.server.cli_common import app

from .conftest import DATASET, Live, checkout_json, media_of, sha256_of

pytestmark = pytest.mark.slow


def blobs_in(cache: Path) -> list[Path]:
    return [p for p in (cache / "blobs").rglob("*") if p.is_file()]


def parts_in(cache: Path) -> list[Path]:
    return list((cache / "tmp").glob("*.part"))


def test_a_killed_checkout_completes_when_run_again(live: Live, tmp_path: Path) -> None:
    cache, folder = tmp_path / "cache", tmp_path / "co"
    args = ["checkout", f"{DATASET}@v1", str(folder), "--cache", str(cache), "--json"]
    # One download at a time, pausing after each chunk: the kill lands while one blob is
    # cached and the next is half written.
    slow = {**live.env, "TRAININGDB_TEST_FETCH_DELAY": "0.5"}
    process = subprocess.Popen(
        [TRAININGDB, *args, "--parallel", "1"],
        env=slow,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (blobs_in(cache) and parts_in(cache)):
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the checkout never got halfway"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    if process.stderr:
        process.stderr.close()

    cached = len(blobs_in(cache))
    assert 1 <= cached < 5
    assert not (folder / "trainingdb.lock").exists()
    assert (folder / "trainingdb.lock.pending").exists()  # an unfinished checkout: ours to resume
    for blob in blobs_in(cache):  # what is cached is whole
        assert sha256_of(blob) == blob.name

    done = checkout_json(live.env, *args[1:-1])
    assert (done["fetched_files"], done["reused_files"]) == (5 - cached, cached)
    assert media_of(folder / "images") == live.files_v1
    lock = json.loads((folder / "trainingdb.lock").read_text())
    for entry in lock["files"] + lock["annotations"]:
        assert sha256_of(folder / entry["path"]) == entry["sha256"]
    assert sorted(os.listdir(folder)) == ["annotations.json", "images", "trainingdb.lock"]
    assert parts_in(cache) == []
    for blob in blobs_in(cache):
        assert sha256_of(blob) == blob.name


def test_bytes_that_are_not_the_content_fail_naming_the_file(live: Live, tmp_path: Path) -> None:
    sha = live.files_v1["night/e.png"]
    stored = live.data_dir / "blobs" / sha[:2] / sha[2:4] / sha
    original = stored.read_bytes()
    stored.chmod(0o644)
    stored.write_bytes(original[:-4] + b"oops")
    cache, folder = tmp_path / "cache", tmp_path / "co"
    args = ["checkout", f"{DATASET}@v1", str(folder), "--cache", str(cache), "--json"]
    try:
        done = CliRunner().invoke(app, [*args, "--server", live.server.url, "--key", live.key])
    finally:
        stored.write_bytes(original)
    assert done.exit_code == 1, done.output
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("trainingdb: error: HASH_MISMATCH: images/night/e.png: ")
    assert "?" not in line  # the link's signature stays out of messages
    assert not BlobCache(cache).has(sha)
    assert parts_in(cache) == []
    assert not (folder / "trainingdb.lock").exists()
