"""JSONL import → export loses nothing: every kind, every key (`extra` too), a video's
frame-level instances, a text file's spans, and a file with no instances come back equal,
instance by instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from tests.exports.helpers import image, make_dataset, make_worker, run_export, run_import, video
from trainingdb.server.jobs.worker import Worker
from trainingdb.versioning.models import JobStatus

FILES = [
    image("a.jpg", 64, 48),
    image("b.jpg", 32, 16),
    image("empty.jpg", 20, 10),
    video("drive.mp4", 320, 240, 36),
    {"name": "doc.txt", "media_type": "text"},
]
LINES: list[dict[str, Any]] = [
    {
        "file": "a.jpg",
        "instances": [
            {
                "label": "car",
                "kind": "box",
                "bbox": [1.5, 2.25, 30.0, 20.0],
                "score": 0.9,
                "attributes": {"occluded": True, "color": "red"},
                "track_id": "t1",
                "extra": {"source_id": 17, "note": "checked twice"},
            },
            {
                "label": "person",
                "kind": "polygon",
                "bbox": [40.0, 5.0, 10.0, 30.0],
                "points": [[40.0, 5.0], [50.0, 5.0], [50.0, 35.0]],
            },
            {
                "label": "person",
                "kind": "keypoints",
                "bbox": [2.0, 2.0, 20.0, 40.0],
                "points": [[3.0, 4.0], [10.0, 30.0]],
            },
            {"label": "person", "kind": "point", "bbox": [5.0, 5.0, 0.0, 0.0], "points": [[5, 5]]},
            {
                "label": "car",
                "kind": "polyline",
                "bbox": [0.0, 0.0, 10.0, 10.0],
                "points": [[0.0, 0.0], [10.0, 10.0]],
            },
            {"label": "car", "kind": "classification", "attributes": {"weather": "rain"}},
        ],
    },
    {
        "file": "b.jpg",
        "instances": [
            {
                "label": "car",
                "kind": "segment",
                "bbox": [0.0, 0.0, 30.0, 10.0],
                "points": [[[0, 0], [10, 0], [10, 10]], [[20, 0], [30, 0], [30, 10]]],
            },
            {
                "label": "car",
                "kind": "segment",
                "bbox": [4.0, 4.0, 8.0, 6.0],
                "points": {"size": [16, 32], "counts": "T211392000000000000l9"},
                "extra": {"iscrowd": 1},
            },
        ],
    },
    {
        "file": "drive.mp4",
        "instances": [
            {"label": "car", "kind": "box", "bbox": [10.0, 20.0, 40.0, 30.0], "frame": 0},
            {
                "label": "car",
                "kind": "box",
                "bbox": [12.0, 22.0, 40.0, 30.0],
                "frame": 2,
                "track_id": "t9",
            },
        ],
    },
    {
        "file": "doc.txt",
        "instances": [{"label": "person", "kind": "text_span", "text_start": 3, "text_end": 9}],
    },
    {"file": "empty.jpg", "instances": []},
]


@pytest.fixture
def worker(engine: Engine, tmp_path: Path) -> Worker:
    return make_worker(engine, tmp_path)


def by_file(lines: list[dict[str, Any]]) -> dict[str, list[bytes]]:
    """Each file's instances as canonical JSON, sorted: a file's instances have no order."""
    return {
        line["file"]: sorted(
            orjson.dumps(i, option=orjson.OPT_SORT_KEYS) for i in line["instances"]
        )
        for line in lines
    }


def test_a_jsonl_file_comes_back_instance_by_instance(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(orjson.dumps(line) for line in LINES))
    done = run_import(engine, worker, ds, source, "jsonl")
    assert done.status is JobStatus.SUCCEEDED, (done.message, done.errors)
    out = tmp_path / "out.jsonl"
    result = run_export(engine, ds, "jsonl", out)
    exported = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert (result.instances, result.files) == (11, 5)
    assert len(exported) == len(LINES)
    assert by_file(exported) == by_file(LINES)


def test_a_checkouts_media_folder_prefix_names_the_branchs_files(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    source = tmp_path / "in.jsonl"
    lines = [
        {"file": "images/a.jpg", "label": "car", "bbox": [1, 1, 2, 2]},
        {"file": "media/b.jpg", "label": "car", "bbox": [1, 1, 2, 2]},
        {"file": "images/nope.jpg", "label": "car", "bbox": [1, 1, 2, 2]},
    ]
    source.write_bytes(b"\n".join(orjson.dumps(line) for line in lines))
    done = run_import(engine, worker, ds, source, "jsonl", skip_invalid=True)
    assert done.result is not None
    assert done.result["created"] == 2
    assert [e["message"] for e in done.errors] == [
        "in.jsonl:3: no file named 'images/nope.jpg' on the branch"
    ]


def test_keys_beside_instances_are_refused_not_dropped(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    source = tmp_path / "in.jsonl"
    source.write_bytes(orjson.dumps({"file": "a.jpg", "instances": [], "split": "train"}))
    done = run_import(engine, worker, ds, source, "jsonl")
    assert done.status is JobStatus.FAILED
    assert "unknown key(s) split beside instances" in done.errors[0]["message"]
