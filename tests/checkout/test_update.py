"""Issue 10's "done when", through the command: check out a tag, then `--update` to main, which
fetches only what differs; pycocotools loads the COCO file and every file_name exists in DIR;
files the user changed are kept unless --force. No --server: the command finds the server of
the data directory; the key comes from TRAININGDB_KEY."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from tests.clirun import run
from trainingdb.client import Client
from trainingdb.client.cache import BlobCache
from trainingdb.client.checkout import checkout

from .conftest import DATASET, Live, checkout_json, media_of, sha256_of

pytestmark = pytest.mark.slow


def test_a_tag_then_update_to_main_fetches_only_what_differs(live: Live, tmp_path: Path) -> None:
    cache, folder = tmp_path / "cache", tmp_path / "co"
    first = checkout_json(live.env, f"{DATASET}@v1", str(folder), "--cache", str(cache))
    assert first["commit"] == live.v1.id
    assert first["version"] == live.v1.version
    assert (first["files"], first["instances"]) == (5, 6)
    assert (first["fetched_files"], first["reused_files"], first["changed"]) == (5, 0, [])
    assert first["fetched_bytes"] == sum(
        p.stat().st_size for p in (folder / "images").rglob("*.png")
    )
    assert media_of(folder / "images") == live.files_v1

    lock = json.loads((folder / "trainingdb.lock").read_text())
    assert (lock["dataset"], lock["version"], lock["branch"]) == (DATASET, "v1", "main")
    assert (lock["commit"], lock["format"], lock["where"], lock["query"]) == (
        live.v1.id,
        "coco",
        None,
        None,
    )
    assert lock["server"] == live.server.url
    assert {f["name"]: f["sha256"] for f in lock["files"]} == live.files_v1
    for entry in lock["files"] + lock["annotations"]:
        assert (folder / entry["path"]).stat().st_size == entry["size"]
        assert sha256_of(folder / entry["path"]) == entry["sha256"]

    coco = COCO(str(folder / "annotations.json"))
    names = sorted(image["file_name"] for image in coco.dataset["images"])
    # d.png has no instance at v1 and is an image of the version all the same.
    assert names == [
        "images/a.png", "images/b.png", "images/c.png", "images/d.png", "images/night/e.png"
    ]  # fmt: skip
    assert all((folder / name).is_file() for name in names)
    assert len(coco.getAnnIds()) == 6
    unchanged = (folder / "images" / "a.png").stat().st_ino

    second = checkout_json(live.env, "--update", str(folder), "--cache", str(cache))
    assert (second["commit"], second["version"]) == (live.head.id, live.head.version)
    # c.png's new bytes and the new f.png; b.png is unlinked; a, d and e stay as they are.
    assert (second["fetched_files"], second["removed_files"], second["reused_files"]) == (2, 1, 3)
    assert media_of(folder / "images") == live.files_head
    assert (folder / "images" / "a.png").stat().st_ino == unchanged
    coco = COCO(str(folder / "annotations.json"))
    names = sorted(image["file_name"] for image in coco.dataset["images"])
    assert names == [
        "images/a.png",
        "images/c.png",
        "images/d.png",
        "images/f.png",
        "images/night/e.png",
    ]
    assert all((folder / name).is_file() for name in names)
    lock = json.loads((folder / "trainingdb.lock").read_text())
    assert (lock["commit"], lock["version"]) == (live.head.id, "main")
    assert sorted(os.listdir(folder)) == ["annotations.json", "images", "trainingdb.lock"]

    # Another checkout on this machine shares the cache: nothing to fetch, files hard-linked.
    again = checkout_json(live.env, f"{DATASET}@v1", str(tmp_path / "again"), "--cache", str(cache))
    assert (again["fetched_files"], again["reused_files"]) == (0, 5)
    blob = BlobCache(cache).path(live.files_v1["b.png"])
    assert os.path.samefile(blob, tmp_path / "again" / "images" / "b.png")


def test_files_changed_in_the_checkout_are_kept_unless_forced(live: Live, tmp_path: Path) -> None:
    cache, folder = BlobCache(tmp_path / "cache"), tmp_path / "co"
    with Client(live.server.url, live.key) as client:
        checkout(client, cache, DATASET, "v1", folder, server=live.server.url)
    replaced, edited = folder / "images" / "a.png", folder / "images" / "d.png"
    replaced.unlink()
    replaced.write_bytes(b"my own a")
    # An edit in place writes through the hard link into the cached blob as well.
    edited.chmod(0o644)
    with edited.open("r+b") as out:
        out.write(b"scribble")
    (folder / "images" / "f.png").write_bytes(b"my own f, where main adds one")
    d_sha = live.files_v1["d.png"]
    assert sha256_of(cache.path(d_sha)) != d_sha

    args = ("--update", str(folder), "--cache", str(cache.root))
    done = run("checkout", *args, "--json", env=live.env)
    assert done.returncode == 0, done.stderr
    kept = json.loads(done.stdout)
    assert kept["changed"] == [
        "images/a.png: modified",
        "images/d.png: modified",
        "images/f.png: untracked",
    ]
    assert "kept images/a.png as it is: changed in the checkout" in done.stderr
    assert replaced.read_bytes() == b"my own a"
    assert (folder / "images" / "f.png").read_bytes() == b"my own f, where main adds one"
    assert edited.read_bytes().startswith(b"scribble")
    assert not cache.has(d_sha)  # the damaged blob left the cache
    lock = json.loads((folder / "trainingdb.lock").read_text())
    assert {f["name"]: f["sha256"] for f in lock["files"]} == live.files_head

    forced = run("checkout", *args, "--force", "--json", env=live.env)
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["fetched_files"] == 1  # d.png again; a.png is cached
    assert "replacing images/a.png (--force)" in forced.stderr
    assert media_of(folder / "images") == live.files_head
    assert sha256_of(cache.path(d_sha)) == d_sha
