"""COCO import → export loses nothing: a rich file (categories with supercategories and
non-contiguous ids, image ids, an image without annotations, boxes, a polygon, a
multi-polygon, an RLE crowd, attributes, extra keys, info, licenses, a COCO-video with
frame-level boxes and a frame without any) comes back equal, object by object, up to the
normalisations of coco_normal.py; pycocotools reads the export and makes a mask of every
annotation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO
from sqlalchemy import Engine

from tests.exports.coco_normal import expected, ordered
from tests.exports.helpers import image, make_dataset, make_worker, run_export, run_import, video
from trainingdb import versioning as v
from trainingdb.client.checkout_formats import _rewrite_coco
from trainingdb.server.jobs.worker import Worker
from trainingdb.versioning.models import JobStatus

FILES = [
    image("a.jpg", 64, 48),
    image("b.jpg", 32, 16),
    image("empty.jpg", 20, 10),
    video("drive.mp4", 320, 240, 36),
]


def _rle() -> dict[str, Any]:
    mask = np.zeros((16, 32), dtype=np.uint8, order="F")
    mask[4:10, 4:12] = 1
    mask[5, 4] = 0
    encoded = coco_mask.encode(mask)
    return {"size": [int(s) for s in encoded["size"]], "counts": encoded["counts"].decode()}


RICH: dict[str, Any] = {
    "info": {
        "description": "street scenes",
        "version": "1.2",
        "year": 2024,
        "contributor": "ada",
        "date_created": "2024/05/01",
    },
    "licenses": [
        {"id": 1, "name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        {"id": 4, "name": "internal", "url": ""},
    ],
    "categories": [
        {"id": 3, "name": "car", "supercategory": "vehicle"},
        {
            "id": 7,
            "name": "person",
            "supercategory": "human",
            "keypoints": ["head", "foot"],
            "skeleton": [[1, 2]],
        },
        {"id": 12, "name": "tree", "supercategory": "plant"},
    ],
    "images": [
        {
            "id": 101,
            "file_name": "a.jpg",
            "width": 64,
            "height": 48,
            "license": 1,
            "coco_url": "http://images.example/a.jpg",
            "date_captured": "2024-05-01 10:00:00",
        },
        {"id": 205, "file_name": "b.jpg", "width": 32, "height": 16, "license": 4, "rig": "r2"},
        {"id": 307, "file_name": "empty.jpg", "width": 20, "height": 10, "license": 1},
        {
            "id": 900,
            "video_id": 5,
            "frame_id": 0,
            "file_name": "drive/000000.jpg",
            "width": 320,
            "height": 240,
        },
        {
            "id": 901,
            "video_id": 5,
            "frame_id": 2,
            "file_name": "drive/000002.jpg",
            "width": 320,
            "height": 240,
            "license": 4,
        },
        {
            "id": 902,
            "video_id": 5,
            "frame_id": 3,
            "file_name": "drive/000003.jpg",
            "width": 320,
            "height": 240,
        },
    ],
    "videos": [
        {
            "id": 5,
            "name": "drive",
            "file_name": "drive.mp4",
            "width": 320,
            "height": 240,
            "weather": "rain",
        }
    ],
    "annotations": [
        {
            "id": 1001,
            "image_id": 101,
            "category_id": 3,
            "bbox": [1.5, 2.25, 30.0, 20.0],
            "area": 600.0,
            "iscrowd": 0,
            "attributes": {"occluded": True, "color": "red", "track_id": 7},
        },
        {
            "id": 1002,
            "image_id": 101,
            "category_id": 7,
            "bbox": [40.0, 5.0, 10.0, 30.0],
            "segmentation": [[40.0, 5.0, 50.0, 5.0, 50.0, 35.0]],
            "area": 150.0,
            "iscrowd": 0,
            "num_keypoints": 2,
            "keypoints": [42, 6, 2, 48, 30, 1],
        },
        {
            "id": 1003,
            "image_id": 205,
            "category_id": 3,
            "bbox": [0.0, 0.0, 30.0, 10.0],
            "segmentation": [[0, 0, 10, 0, 10, 10, 0, 10], [20, 0, 30, 0, 30, 10, 20, 10]],
            "area": 200.0,
            "iscrowd": 0,
        },
        {
            "id": 1004,
            "image_id": 205,
            "category_id": 7,
            "bbox": [4.0, 4.0, 8.0, 6.0],
            "segmentation": _rle(),
            "area": 47,
            "iscrowd": 1,
        },
        # No area and no iscrowd: the export computes one and writes iscrowd 0.
        {"id": 1010, "image_id": 205, "category_id": 3, "bbox": [2, 2, 4.5, 4], "reviewer": "bo"},
        {
            "id": 2000,
            "image_id": 900,
            "category_id": 3,
            "bbox": [10.0, 20.0, 40.0, 30.0],
            "area": 1200.0,
            "iscrowd": 0,
            "video_id": 5,
            "track_id": 11,
            "instance_id": 11,
        },
        {
            "id": 2001,
            "image_id": 901,
            "category_id": 3,
            "bbox": [12.0, 22.0, 40.0, 30.0],
            "area": 1200.0,
            "iscrowd": 0,
            "video_id": 5,
            "track_id": 11,
            "instance_id": 11,
            "score": 0.75,
        },
    ],
}


@pytest.fixture
def worker(engine: Engine, tmp_path: Path) -> Worker:
    return make_worker(engine, tmp_path)


def import_coco(
    engine: Engine, worker: Worker, dataset: int, document: Any, path: Path, **params: Any
) -> None:
    path.write_bytes(orjson.dumps(document))
    done = run_import(engine, worker, dataset, path, "coco", **params)
    assert done.status is JobStatus.SUCCEEDED, (done.message, done.errors)


def export_coco(engine: Engine, dataset: int, path: Path, **params: Any) -> dict[str, Any]:
    run_export(engine, dataset, "coco", path, **params)
    exported: dict[str, Any] = orjson.loads(path.read_bytes())
    return exported


def test_a_rich_coco_file_comes_back_field_by_field(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    import_coco(engine, worker, ds, RICH, tmp_path / "in.json")
    exported = export_coco(engine, ds, tmp_path / "out.json")
    want, got = expected(RICH), ordered(exported)
    assert set(got) == set(want)
    for key in want:  # one key at a time, for a readable difference
        assert got[key] == want[key], key
    # The normalisations are few: exactly these differ from the input as given.
    given = ordered(RICH)["annotations"]
    added = {a["id"]: set(a) - set(b) for a, b in zip(got["annotations"], given, strict=True)}
    assert {k: keys for k, keys in added.items() if keys} == {1010: {"area", "iscrowd"}}
    assert next(a for a in got["annotations"] if a["id"] == 1010)["area"] == 18.0


def test_what_is_kept_lives_on_labels_files_and_frames(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    import_coco(engine, worker, ds, RICH, tmp_path / "in.json")
    with engine.connect() as conn:
        labels = {c["name"]: c for c in v.read(conn, ds, "main", "label").values()}
        files = {f["name"]: f for f in v.read(conn, ds, "main", "file").values()}
        frames = {f["frame_number"]: f for f in v.read(conn, ds, "main", "frame").values()}
        instances = v.read(conn, ds, "main", "instance").values()
    assert labels["car"]["metadata"] == {"coco": {"id": 3, "supercategory": "vehicle"}}
    a = files["a.jpg"]["metadata"]["coco"]
    assert a["image"] == {
        "id": 101,
        "license": 1,
        "coco_url": "http://images.example/a.jpg",
        "date_captured": "2024-05-01 10:00:00",
    }
    assert len(a["document"]) == 64
    drive = files["drive.mp4"]["metadata"]["coco"]
    assert drive["video"] == {"id": 5, "weather": "rain"}
    assert {n: f["metadata"] for n, f in frames.items()} == {
        0: {"coco": {"image": {"id": 900}}},
        2: {"coco": {"image": {"id": 901, "license": 4}}},
        3: {"coco": {"image": {"id": 902}}},
    }
    box = next(i for i in instances if (i["extra"] or {}).get("id") == 1001)
    assert box["attributes"] == {"occluded": True, "color": "red", "track_id": 7}
    assert box["extra"] == {"id": 1001, "area": 600.0, "iscrowd": 0}
    track = next(i for i in instances if (i["extra"] or {}).get("id") == 2001)
    assert (track["track_id"], track["frame_number"], track["score"]) == ("11", 2, 0.75)


def test_pycocotools_reads_the_export_and_masks_every_annotation(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    import_coco(engine, worker, ds, RICH, tmp_path / "in.json")
    out = tmp_path / "out.json"
    exported = export_coco(engine, ds, out)
    coco = COCO(str(out))
    assert sorted(coco.getImgIds()) == [101, 205, 307, 900, 901, 902]
    assert sorted(coco.getCatIds()) == [3, 7, 12]
    assert coco.getAnnIds(imgIds=[307]) == []
    for ann in coco.loadAnns(coco.getAnnIds()):
        if "segmentation" in ann:  # ground truth: box-only annotations carry no mask
            assert coco.annToMask(ann).sum() > 0, ann["id"]
    rle = coco.loadAnns([1004])[0]
    assert coco.annToMask(rle).sum() == rle["area"] == 47
    # As results (pycocotools gives box-only ones their box as a polygon): a mask each.
    results = coco.loadRes(copy.deepcopy(exported["annotations"]))
    masks = [results.annToMask(a) for a in results.loadAnns(results.getAnnIds())]
    assert len(masks) == len(RICH["annotations"])
    assert all(m.sum() > 0 for m in masks)


def test_an_export_imports_again_into_the_same_export(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    """What the exporter writes (COCO-video included), the importer reads back whole."""
    first = make_dataset(engine, FILES)
    import_coco(engine, worker, first, RICH, tmp_path / "in.json")
    once = export_coco(engine, first, tmp_path / "once.json")
    second = make_dataset(engine, FILES)
    import_coco(engine, worker, second, once, tmp_path / "again.json")
    twice = export_coco(engine, second, tmp_path / "twice.json")
    assert ordered(twice) == ordered(once)


def test_a_checkouts_coco_imports_back_into_its_dataset(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    """A checkout writes `file_name: images/<name>`; those names are the branch's files."""
    ds = make_dataset(engine, FILES)
    import_coco(engine, worker, ds, RICH, tmp_path / "in.json")
    exported = tmp_path / "out.json"
    export_coco(engine, ds, exported)
    checkout = tmp_path / "annotations.json"
    _rewrite_coco(exported, checkout, "images/")
    assert orjson.loads(checkout.read_bytes())["images"][0]["file_name"].startswith("images/")
    with engine.begin() as conn:
        v.create_branch(conn, ds, "back", "main")
        v.delete(conn, ds, "back", "instance", list(v.read(conn, ds, "back", "instance")))
    done = run_import(engine, worker, ds, checkout, "coco", branch="back")
    assert done.status is JobStatus.SUCCEEDED, (done.message, done.errors)
    again = export_coco(engine, ds, tmp_path / "back.json", version="back")
    assert ordered(again) == ordered(orjson.loads(exported.read_bytes()))
