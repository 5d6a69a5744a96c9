"""Importing annotations and predictions: validation per record, all-or-nothing or skipping,
idempotent re-runs, label creation, COCO conversion, and a refused target branch."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, insert

from trainingdb import versioning as v
from trainingdb.server.blobs import LocalBlobStore
from trainingdb.server.jobs.kinds import HANDLERS
from trainingdb.server.jobs.worker import Worker
from trainingdb.versioning import jobs as queue
from trainingdb.versioning.jobs import JobRow
from trainingdb.versioning.models import Blob, JobKind, JobStatus

_names = itertools.count()
SHA = "9" * 64


@pytest.fixture
def dataset(engine: Engine) -> int:
    return make_dataset(engine)


def make_dataset(engine: Engine) -> int:
    """A dataset with labels car and person (which requires `occluded`), and files committed
    on main."""
    with engine.begin() as conn:
        ds = v.create_dataset(conn, f"ann{next(_names)}").id
        conn.execute(
            insert(Blob).values(
                dataset_id=ds, sha256=SHA, size=1, mime="image/png", storage_key="k"
            )
        )
        v.create(
            conn,
            ds,
            "main",
            "label",
            [
                {"name": "car"},
                {"name": "person", "attribute_schema": {"required": ["occluded"]}},
            ],
        )
        image = {"blob_sha256": SHA, "media_type": "image"}
        v.create(
            conn,
            ds,
            "main",
            "file",
            [
                {"name": "a.jpg", "width": 64, "height": 48, **image},
                {"name": "b.jpg", "width": 32, "height": 16, **image},
                {
                    "name": "drive.mp4",
                    "blob_sha256": SHA,
                    "media_type": "video",
                    "width": 320,
                    "height": 240,
                    "fps": 12.0,
                    "frame_count": 36,
                },
            ],
        )
        v.commit(conn, ds, "main", "files")
    return ds


@pytest.fixture
def worker(engine: Engine, tmp_path: Path) -> Worker:
    while (job := queue.claim(engine, "drain", 60)) is not None:
        queue.fail(engine, job, "drain", "drained")
    return Worker(engine, LocalBlobStore(tmp_path / "blobs"), HANDLERS, name="ann")


def jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else orjson.dumps(x) for x in lines))
    return path


def run_job(engine: Engine, worker: Worker, dataset: int, **params: Any) -> JobRow:
    with engine.begin() as conn:
        job = queue.submit(conn, dataset, JobKind.IMPORT_ANNOTATIONS, params)
    worker.run_once()
    with engine.connect() as conn:
        done = queue.get(conn, job.id)
    assert done is not None
    return done


def instances(engine: Engine, dataset: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return sorted(
            v.read(conn, dataset, "main", "instance").values(),
            key=lambda i: (i["x"] or 0, i["frame_number"] or 0),
        )


GOOD = [
    {
        "file": "a.jpg",
        "instances": [
            {"label": "car", "bbox": [1, 2, 30, 20], "score": 0.9},
            {"label": "person", "bbox": [40, 0, 10, 40], "attributes": {"occluded": False}},
        ],
    },
    {"file": "drive.mp4", "label": "car", "bbox": [100, 50, 40, 30], "frame": 35, "track_id": "t1"},
]


def test_a_valid_file_applies_and_a_rerun_creates_nothing(
    engine: Engine, worker: Worker, dataset: int, tmp_path: Path
) -> None:
    path = jsonl(tmp_path / "preds.jsonl", GOOD)
    params = {"path": str(path), "format": "jsonl", "source": "model", "model_run": "det-v2"}
    done = run_job(engine, worker, dataset, **params)
    assert done.status is JobStatus.SUCCEEDED, (done.message, done.errors)
    assert done.result == {"created": 3, "existing": 0, "failed": 0, "labels_created": 0}
    assert (done.total, done.done, done.failed) == (3, 3, 0)
    rows = instances(engine, dataset)
    assert [(r["x"], r["y"], r["w"], r["h"], r["frame_number"]) for r in rows] == [
        (1.0, 2.0, 30.0, 20.0, None),
        (40.0, 0.0, 10.0, 40.0, None),
        (100.0, 50.0, 40.0, 30.0, 35),
    ]
    assert {(r["source"], r["model_run"]) for r in rows} == {("model", "det-v2")}
    assert rows[0]["score"] == 0.9
    assert rows[2]["track_id"] == "t1"

    again = run_job(engine, worker, dataset, **params)
    assert again.result == {"created": 0, "existing": 3, "failed": 0, "labels_created": 0}
    assert len(instances(engine, dataset)) == 3


def test_one_file_imported_into_two_datasets_makes_different_ids(
    engine: Engine, worker: Worker, dataset: int, tmp_path: Path
) -> None:
    """Ids are stable per dataset (a rerun finds its rows) but not shared between datasets,
    where a federated `_entities` or a history lookup by id must find one entity."""
    path = jsonl(tmp_path / "preds.jsonl", GOOD)
    other = make_dataset(engine)
    for target in (dataset, other):
        done = run_job(engine, worker, target, path=str(path), format="jsonl")
        assert done.status is JobStatus.SUCCEEDED, (done.message, done.errors)
    with engine.connect() as conn:
        first = set(v.read(conn, dataset, "main", "instance"))
        second = set(v.read(conn, other, "main", "instance"))
    assert len(first) == len(second) == 3
    assert not first & second


BAD_LINES = [
    ({"file": "nope.jpg", "label": "car", "bbox": [0, 0, 1, 1]}, "no file named 'nope.jpg'"),
    ({"file": "a.jpg", "label": "truck", "bbox": [0, 0, 1, 1]}, "no label named 'truck'"),
    ({"file": "b.jpg", "label": "car", "bbox": [20, 0, 20, 10]}, "is outside the 32x16 image"),
    ({"file": "drive.mp4", "label": "car", "bbox": [0, 0, 1, 1], "frame": 36}, "not in the file"),
    ({"file": "a.jpg", "label": "car", "bbox": [0, 0, 1, 1], "score": 2}, "score 2 is outside"),
    ({"file": "a.jpg", "label": "person", "bbox": [0, 0, 1, 1]}, "requires attribute(s) occluded"),
    ({"file": "a.jpg", "label": "car", "bbox": [0, 0, 1]}, "bbox must be [x, y, w, h]"),
    ({"file": "a.jpg", "label": "car", "kind": "blob"}, "kind 'blob' is not one of"),
    ({"file": "a.jpg", "label": "car", "colour": "red"}, "unknown key(s) colour"),
    (b"{not json", "not JSON"),
]


def test_invalid_records_are_named_and_nothing_is_applied(
    engine: Engine, worker: Worker, dataset: int, tmp_path: Path
) -> None:
    path = jsonl(tmp_path / "bad.jsonl", [GOOD[1], *(line for line, _ in BAD_LINES)])
    done = run_job(engine, worker, dataset, path=str(path))
    assert done.status is JobStatus.FAILED
    assert done.message.startswith(f"{len(BAD_LINES)} of {len(BAD_LINES) + 1} records are invalid")
    assert done.failed == len(BAD_LINES)
    for error, (_, expected) in zip(done.errors, BAD_LINES, strict=True):
        assert expected in error["message"], error
    assert [e["record"] for e in done.errors] == [f"bad.jsonl:{n}" for n in range(2, 12)]
    assert instances(engine, dataset) == []

    skipped = run_job(engine, worker, dataset, path=str(path), skip_invalid=True)
    assert skipped.status is JobStatus.SUCCEEDED
    assert skipped.result == {
        "created": 1,
        "existing": 0,
        "failed": len(BAD_LINES),
        "labels_created": 0,
    }
    assert len(instances(engine, dataset)) == 1


def test_missing_labels_are_created_when_asked(
    engine: Engine, worker: Worker, dataset: int, tmp_path: Path
) -> None:
    path = jsonl(tmp_path / "new.jsonl", [{"file": "a.jpg", "label": "bus", "bbox": [0, 0, 5, 5]}])
    done = run_job(engine, worker, dataset, path=str(path), create_labels=True)
    assert done.result == {"created": 1, "existing": 0, "failed": 0, "labels_created": 1}
    with engine.connect() as conn:
        names = {label["name"] for label in v.read(conn, dataset, "main", "label").values()}
    assert names == {"car", "person", "bus"}


def test_coco_boxes_polygons_and_crowds(
    engine: Engine, worker: Worker, dataset: int, tmp_path: Path
) -> None:
    coco = {
        "images": [{"id": 7, "file_name": "a.jpg", "width": 64, "height": 48}],
        "categories": [{"id": 1, "name": "car"}, {"id": 3, "name": "tram"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 1, "bbox": [1, 1, 10, 10], "iscrowd": 0},
            {
                "id": 2,
                "image_id": 7,
                "category_id": 3,
                "bbox": [5, 5, 10, 10],
                "segmentation": [[5, 5, 15, 5, 15, 15]],
                "iscrowd": 0,
            },
            {
                "id": 3,
                "image_id": 7,
                "category_id": 1,
                "bbox": [20, 20, 4, 4],
                "segmentation": {"counts": "abc", "size": [48, 64]},
                "iscrowd": 1,
            },
        ],
    }
    path = tmp_path / "coco.json"
    path.write_bytes(orjson.dumps(coco))
    done = run_job(engine, worker, dataset, path=str(path), format="coco", create_labels=True)
    assert done.status is JobStatus.SUCCEEDED, done.errors
    assert done.result == {"created": 3, "existing": 0, "failed": 0, "labels_created": 1}
    rows = instances(engine, dataset)
    assert [(r["kind"], r["points"]) for r in rows] == [
        ("box", None),
        ("polygon", [[5, 5], [15, 5], [15, 15]]),
        ("segment", {"counts": "abc", "size": [48, 64]}),
    ]
    # iscrowd, like every COCO key with no column, is kept verbatim for the export.
    assert [(r["attributes"], r["extra"]) for r in rows] == [
        ({}, {"id": 1, "iscrowd": 0}),
        ({}, {"id": 2, "iscrowd": 0}),
        ({}, {"id": 3, "iscrowd": 1}),
    ]


def test_a_protected_branch_fails_the_job_cleanly(
    engine: Engine, worker: Worker, dataset: int, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        v.set_protected(conn, dataset, "main", True)
    done = run_job(engine, worker, dataset, path=str(jsonl(tmp_path / "p.jsonl", GOOD)))
    assert done.status is JobStatus.FAILED
    assert done.message.startswith("PROTECTED_BRANCH: branch 'main' is protected")
    assert instances(engine, dataset) == []


def test_an_unreadable_file_fails_the_job(
    engine: Engine, worker: Worker, dataset: int, tmp_path: Path
) -> None:
    (tmp_path / "x.json").write_text("[1, 2")
    done = run_job(engine, worker, dataset, path=str(tmp_path / "x.json"), format="coco")
    assert done.status is JobStatus.FAILED
    assert done.message.startswith("x.json: not JSON")
    missing = run_job(engine, worker, dataset, path=str(tmp_path / "none.jsonl"))
    assert missing.message.endswith("none.jsonl: no such file")
