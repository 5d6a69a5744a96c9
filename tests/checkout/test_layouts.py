"""Each format's layout (through the Python API, beside the same server): YOLO's images, labels
and classes, JSONL's and Parquet's media folder; and the filters, which pick the files — an
update moves files in and out of a filter even when the files themselves did not change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from trainingdb.client import Client
from trainingdb.client.cache import BlobCache
from trainingdb.client.checkout import checkout, update

from .conftest import DATASET, Live, media_of, sha256_of

pytestmark = pytest.mark.slow


@pytest.fixture
def client(live: Live) -> Iterator[Client]:
    with Client(live.server.url, live.key) as made:
        yield made


def lock_of(folder: Path) -> dict[str, object]:
    found: dict[str, object] = json.loads((folder / "trainingdb.lock").read_text())
    return found


def test_yolo_layout_and_its_labels_through_an_update(
    live: Live, client: Client, tmp_path: Path
) -> None:
    cache, folder = BlobCache(tmp_path / "cache"), tmp_path / "co"
    done = checkout(client, cache, DATASET, "v1", folder, server=live.server.url, fmt="yolo")
    assert (done.files, done.instances) == (5, 6)
    assert media_of(folder / "images") == live.files_v1
    labels = {p.relative_to(folder).as_posix() for p in (folder / "labels").rglob("*.txt")}
    # d.png has no instance: an empty label file says so (Ultralytics' background image).
    assert labels == {
        "labels/a.txt", "labels/b.txt", "labels/c.txt", "labels/d.txt", "labels/night/e.txt"
    }  # fmt: skip
    assert (folder / "labels" / "d.txt").read_text() == ""
    assert set((folder / "classes.txt").read_text().split()) == {"car", "person"}
    assert len((folder / "labels" / "a.txt").read_text().splitlines()) == 2
    notes = lock_of(folder)["annotations"]
    assert isinstance(notes, list)
    assert {n["path"] for n in notes} == {*labels, "classes.txt"}
    for note in notes:
        assert sha256_of(folder / note["path"]) == note["sha256"]

    moved = update(client, cache, folder)
    assert moved.commit == live.head.id
    labels = {p.relative_to(folder).as_posix() for p in (folder / "labels").rglob("*.txt")}
    # b.png is gone with its boxes; d.png got a person, f.png a car.
    expected = {"labels/a.txt", "labels/c.txt", "labels/d.txt", "labels/f.txt"}
    assert labels == {*expected, "labels/night/e.txt"}
    assert media_of(folder / "images") == live.files_head


def test_jsonl_and_parquet_put_media_beside_the_annotations(
    live: Live, client: Client, tmp_path: Path
) -> None:
    cache = BlobCache(tmp_path / "cache")
    jsonl, parquet = tmp_path / "jsonl", tmp_path / "parquet"
    checkout(client, cache, DATASET, "v1", jsonl, server=live.server.url, fmt="jsonl")
    assert media_of(jsonl / "media") == live.files_v1
    lines = [orjson.loads(line) for line in (jsonl / "annotations.jsonl").read_bytes().splitlines()]
    assert sorted(line["file"] for line in lines) == [
        "a.png", "b.png", "c.png", "d.png", "night/e.png"
    ]  # fmt: skip
    assert all((jsonl / "media" / line["file"]).is_file() for line in lines)

    done = checkout(client, cache, DATASET, "v1", parquet, server=live.server.url, fmt="parquet")
    assert done.fetched_files == 0  # the same media, from the cache
    table = pq.read_table(parquet / "annotations.parquet")
    assert table.num_rows == 6
    assert all((parquet / "media" / name).is_file() for name in table.column("file").to_pylist())


def test_a_query_filter_follows_the_annotations_through_an_update(
    live: Live, client: Client, tmp_path: Path
) -> None:
    cache, folder = BlobCache(tmp_path / "cache"), tmp_path / "co"
    query = "labels.person > 0"
    done = checkout(client, cache, DATASET, "v1", folder, server=live.server.url, query=query)
    assert sorted(media_of(folder / "images")) == ["b.png", "c.png"]
    coco = json.loads((folder / "annotations.json").read_text())
    assert len(coco["annotations"]) == done.instances == 3  # every box on b and c, cars too
    assert lock_of(folder)["query"] == query

    moved = update(client, cache, folder)
    # b.png was deleted; d.png's bytes did not change, but it has a person now.
    assert sorted(media_of(folder / "images")) == ["c.png", "d.png"]
    assert (moved.fetched_files, moved.removed_files) == (2, 1)
    assert media_of(folder / "images") == {n: live.files_head[n] for n in ("c.png", "d.png")}


def test_a_where_filter_picks_files_by_their_fields(
    live: Live, client: Client, tmp_path: Path
) -> None:
    cache, folder = BlobCache(tmp_path / "cache"), tmp_path / "co"
    where = {"name": {"_in": ["a.png", "night/e.png", "d.png"]}}
    done = checkout(client, cache, DATASET, "v1", folder, server=live.server.url, where=where)
    assert sorted(media_of(folder / "images")) == ["a.png", "d.png", "night/e.png"]
    coco = json.loads((folder / "annotations.json").read_text())
    assert sorted(i["file_name"] for i in coco["images"]) == ["images/a.png", "images/night/e.png"]
    assert len(coco["annotations"]) == done.instances == 3
    assert lock_of(folder)["where"] == where
