"""Re-importing by record: ids come from the records, not from the file they came in, so a
corrected file adds only what was not in, identical records stay distinct, and COCO files
whose annotation ids collide (train and val both count from 1) do not shadow each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine

from trainingdb import versioning as v
from trainingdb.server.jobs.worker import Worker
from trainingdb.versioning.models import JobStatus

from .test_annotations_job import dataset, instances, jsonl, run_job, worker

__all__ = ["dataset", "worker"]  # fixtures, used by name


def created(job: Any) -> int:
    assert job.result is not None, (job.message, job.errors)
    return int(job.result["created"])


def instance_ids(engine: Engine, dataset: int) -> set[Any]:
    with engine.connect() as conn:
        return set(v.read(conn, dataset, "main", "instance"))


BOX = {"label": "car", "bbox": [1, 2, 30, 20], "score": 0.9}
PERSON = {"label": "person", "bbox": [40, 0, 10, 40], "attributes": {"occluded": False}}
VIDEO = {"file": "drive.mp4", "label": "car", "bbox": [100, 50, 40, 30], "frame": 35}
# Bad as written, good once fixed: a person without its required attribute, a box past the
# right edge of b.jpg (32 wide).
BROKEN: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"file": "a.jpg", "label": "person", "bbox": [2, 2, 5, 5]}, {"attributes": {"occluded": 1}}),
    ({"file": "b.jpg", "label": "car", "bbox": [20, 0, 20, 10]}, {"bbox": [10, 0, 20, 10]}),
]


def test_a_corrected_file_adds_only_the_records_that_were_not_in(
    engine: Engine, worker: Worker, dataset: int, tmp_path: Path
) -> None:
    lines = [{"file": "a.jpg", "instances": [BOX, PERSON]}, VIDEO, *(bad for bad, _ in BROKEN)]
    path = jsonl(tmp_path / "labels.jsonl", lines)
    first = run_job(engine, worker, dataset, path=str(path), skip_invalid=True)
    assert first.status is JobStatus.SUCCEEDED, (first.message, first.errors)
    assert first.result == {"created": 3, "existing": 0, "failed": 2, "labels_created": 0}
    before = instance_ids(engine, dataset)

    # The user fixes both records and, as people do, reorders the file on the way: the
    # records already in are found by what they are, wherever they now stand.
    fixed = [{**bad, **fix} for bad, fix in BROKEN]
    corrected = jsonl(
        tmp_path / "labels-fixed.jsonl",
        [fixed[1], VIDEO, {"file": "a.jpg", "instances": [PERSON, fixed[0], BOX]}],
    )
    second = run_job(engine, worker, dataset, path=str(corrected))
    assert second.status is JobStatus.SUCCEEDED, (second.message, second.errors)
    assert second.result == {"created": 2, "existing": 3, "failed": 0, "labels_created": 0}
    after = instance_ids(engine, dataset)
    assert before < after
    assert len(after) == 5

    third = run_job(engine, worker, dataset, path=str(corrected))
    assert third.result == {"created": 0, "existing": 5, "failed": 0, "labels_created": 0}
    assert instance_ids(engine, dataset) == after


def test_identical_records_stay_distinct_and_a_rerun_finds_them(
    engine: Engine, worker: Worker, dataset: int, tmp_path: Path
) -> None:
    """The same box twice on one image is two objects (two cars parked in one spot, a
    labelling slip: either way the user's, to keep)."""
    path = jsonl(tmp_path / "twice.jsonl", [{"file": "a.jpg", "instances": [BOX, BOX, BOX]}])
    first = run_job(engine, worker, dataset, path=str(path))
    assert first.status is JobStatus.SUCCEEDED, (first.message, first.errors)
    assert created(first) == 3
    ids = instance_ids(engine, dataset)
    assert len(ids) == 3
    # One more copy in the file: the three found again, the fourth added.
    more = jsonl(tmp_path / "four.jsonl", [{"file": "a.jpg", "instances": [BOX] * 4}])
    again = run_job(engine, worker, dataset, path=str(more))
    assert again.result == {"created": 1, "existing": 3, "failed": 0, "labels_created": 0}
    assert ids < instance_ids(engine, dataset)


def test_a_record_differs_by_every_field_a_user_puts_in(
    engine: Engine, worker: Worker, dataset: int, tmp_path: Path
) -> None:
    """Records alike but for one field are different records (a score, a frame, an attribute,
    the model run), so none of them is mistaken for one already in."""
    base = {"file": "drive.mp4", "label": "car", "bbox": [10, 10, 20, 20], "frame": 3}
    variants = [
        base,
        {**base, "frame": 4},
        {**base, "score": 0.5},
        {**base, "bbox": [10, 10, 20, 21]},
        {**base, "label": "person", "attributes": {"occluded": True}},
        {**base, "attributes": {"color": "red"}},
        {**base, "track_id": "t9"},
        {**base, "kind": "polygon", "points": [[10, 10], [30, 10], [30, 30]]},
    ]
    path = jsonl(tmp_path / "variants.jsonl", variants)
    done = run_job(engine, worker, dataset, path=str(path), source="model", model_run="r1")
    assert created(done) == len(variants), (done.message, done.errors)
    other_run = run_job(engine, worker, dataset, path=str(path), source="model", model_run="r2")
    assert created(other_run) == len(variants)
    assert len(instances(engine, dataset)) == 2 * len(variants)


def coco(images: list[tuple[int, str]], annotations: list[tuple[int, int]]) -> dict[str, Any]:
    return {
        "images": [{"id": i, "file_name": n, "width": 64, "height": 48} for i, n in images],
        "categories": [{"id": 1, "name": "car"}],
        "annotations": [
            {"id": a, "image_id": i, "category_id": 1, "bbox": [1, 1, 8, 8]} for a, i in annotations
        ],
    }


def test_coco_files_with_colliding_annotation_ids_do_not_shadow_each_other(
    engine: Engine, worker: Worker, dataset: int, tmp_path: Path
) -> None:
    """COCO's annotation ids are unique within one file only: train's id 1 and val's id 1,
    on different images, are two records."""
    train, val = tmp_path / "train.json", tmp_path / "val.json"
    train.write_bytes(orjson.dumps(coco([(1, "a.jpg")], [(1, 1), (2, 1)])))
    val.write_bytes(orjson.dumps(coco([(1, "b.jpg")], [(1, 1), (2, 1)])))
    for path in (train, val):
        done = run_job(engine, worker, dataset, path=str(path), format="coco")
        assert created(done) == 2, (done.message, done.errors)
    # The same box under two annotation ids on one image is two annotations too.
    twin = tmp_path / "twin.json"
    twin.write_bytes(orjson.dumps(coco([(1, "a.jpg")], [(1, 1), (2, 1), (3, 1)])))
    done = run_job(engine, worker, dataset, path=str(twin), format="coco")
    assert done.result == {"created": 1, "existing": 2, "failed": 0, "labels_created": 0}
    with engine.connect() as conn:
        extras = sorted(
            r["extra"]["id"] for r in v.read(conn, dataset, "main", "instance").values()
        )
    assert extras == [1, 1, 2, 2, 3]
