"""Where COCO's source fields go and how several imports meet: ids kept where unique and fresh
elsewhere, documents merged, COCO-video read in the CocoVID and TAO spellings, records naming
nothing on the branch refused, a re-import writing nothing, and the fields through GraphQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select

from tests.exports.helpers import image, make_dataset, make_worker, run_export, run_import, video
from tests.graphql.execute import run as run_graphql
from trainingdb import versioning as v
from trainingdb.server.jobs.worker import Worker
from trainingdb.versioning.datasets import get_dataset_by_id
from trainingdb.versioning.models import File, JobStatus, Label
from trainingdb.versioning.models.entities import SourceDocument

FILES = [image("a.jpg", 64, 48), image("b.jpg", 32, 16), video("drive.mp4", 320, 240, 36)]


@pytest.fixture
def worker(engine: Engine, tmp_path: Path) -> Worker:
    return make_worker(engine, tmp_path)


def coco(
    images: list[dict[str, Any]], annotations: list[dict[str, Any]], **more: Any
) -> dict[str, Any]:
    categories = [{"id": 1, "name": "car"}]
    return {"images": images, "categories": categories, "annotations": annotations, **more}


def box(id: Any, image_id: Any, **more: Any) -> dict[str, Any]:
    item = {"image_id": image_id, "category_id": 1, "bbox": [1, 1, 4, 4], **more}
    return item if id is None else {"id": id, **item}


def imported(
    engine: Engine, worker: Worker, ds: int, document: Any, path: Path, **params: Any
) -> Any:
    path.write_bytes(orjson.dumps(document))
    return run_import(engine, worker, ds, path, "coco", **params)


def exported(engine: Engine, ds: int, path: Path, **params: Any) -> dict[str, Any]:
    run_export(engine, ds, "coco", path, **params)
    result: dict[str, Any] = orjson.loads(path.read_bytes())
    return result


def test_colliding_and_missing_ids_get_fresh_ones_above_the_kept(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    """A train and a val file both count from 1: each id is written once."""
    ds = make_dataset(engine, FILES)
    a = {"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}
    b = {"id": 1, "file_name": "b.jpg", "width": 32, "height": 16}
    train = coco([a], [box(1, 1), box(5, 1)])
    val = coco([b], [box(1, 1), box(None, 1)])
    assert imported(engine, worker, ds, train, tmp_path / "t.json").status is JobStatus.SUCCEEDED
    assert imported(engine, worker, ds, val, tmp_path / "v.json").status is JobStatus.SUCCEEDED
    out = exported(engine, ds, tmp_path / "out.json")
    image_ids = sorted(i["id"] for i in out["images"])
    annotation_ids = sorted(a["id"] for a in out["annotations"])
    assert image_ids == [1, 2]  # one keeps 1, the other is above every kept id
    assert annotation_ids[:2] == [1, 5]
    assert len(set(annotation_ids)) == 4
    assert min(annotation_ids[2:]) > 5
    names = {i["id"]: i["file_name"] for i in out["images"]}
    by_image = {names[a["image_id"]] for a in out["annotations"]}
    assert by_image == {"a.jpg", "b.jpg"}


def test_documents_of_several_imports_are_merged(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    cc = {"id": 1, "name": "CC-BY", "url": "u"}
    first = coco(
        [{"id": 1, "file_name": "a.jpg"}],
        [],
        info={"description": "first"},
        licenses=[cc],
        split="train",
    )
    second = coco(
        [{"id": 2, "file_name": "b.jpg"}],
        [],
        info={"description": "second"},
        licenses=[cc, {"id": 2, "name": "own", "url": ""}],
    )
    imported(engine, worker, ds, first, tmp_path / "1.json")
    imported(engine, worker, ds, second, tmp_path / "2.json")
    with engine.connect() as conn:
        count = conn.scalar(
            select(func.count()).select_from(SourceDocument).where(SourceDocument.dataset_id == ds)
        )
    assert count == 2
    out = exported(engine, ds, tmp_path / "out.json")
    assert out["info"] == {"description": "first"}  # COCO has room for one: the earliest
    assert out["licenses"] == [cc, {"id": 2, "name": "own", "url": ""}]
    assert out["split"] == "train"
    only_b = exported(engine, ds, tmp_path / "b.json", query="score > 2")
    assert "info" not in only_b
    assert only_b["images"] == []


def test_cocovid_without_file_names_and_tao_frame_indexes(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    """mmtracking's CocoVID names a video by `name` (its frames' folder), TAO numbers frames
    by `frame_index`: both read; what the export derives is written, the rest kept."""
    ds = make_dataset(engine, FILES)
    document = coco(
        [
            {"id": 10, "video_id": 3, "frame_id": 4, "file_name": "drive/000004.jpg"},
            {"id": 11, "video_id": 3, "frame_index": 30, "file_name": "v/frame0030.jpg"},
        ],
        [box(1, 10, instance_id=8), box(2, 11, track_id=8)],
        videos=[{"id": 3, "name": "drive"}],
    )
    done = imported(engine, worker, ds, document, tmp_path / "in.json")
    assert done.status is JobStatus.SUCCEEDED, done.errors
    out = exported(engine, ds, tmp_path / "out.json")
    assert out["videos"] == [
        {"id": 3, "file_name": "drive.mp4", "name": "drive", "width": 320, "height": 240}
    ]
    frames = sorted((i for i in out["images"] if "video_id" in i), key=lambda i: i["id"])
    assert frames == [
        {
            "id": 10,
            "video_id": 3,
            "frame_id": 4,
            "file_name": "drive/000004.jpg",
            "width": 320,
            "height": 240,
        },
        {
            "id": 11,
            "video_id": 3,
            "frame_id": 30,
            "frame_index": 30,
            "file_name": "v/frame0030.jpg",
            "width": 320,
            "height": 240,
        },
    ]
    tracks = {a["id"]: (a["track_id"], a["instance_id"], a["video_id"]) for a in out["annotations"]}
    assert tracks == {1: (8, 8, 3), 2: (8, 8, 3)}


def test_instances_on_a_whole_video_list_the_video_as_an_image(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    document = coco([{"id": 4, "file_name": "drive.mp4"}], [box(1, 4)])
    assert imported(engine, worker, ds, document, tmp_path / "in.json").status.value == "succeeded"
    out = exported(engine, ds, tmp_path / "out.json")
    whole = next(i for i in out["images"] if i["id"] == 4)
    assert whole == {"id": 4, "file_name": "drive.mp4", "width": 320, "height": 240}
    assert out["annotations"][0]["image_id"] == 4
    assert "video_id" not in out["annotations"][0]
    assert [v["file_name"] for v in out["videos"]] == ["drive.mp4"]


def test_images_and_videos_naming_nothing_on_the_branch_are_errors(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    document = coco(
        [
            {"id": 1, "file_name": "a.jpg"},
            {"id": 2, "file_name": "gone.jpg"},
            {"id": 3, "video_id": 9, "frame_id": 40},
            {"id": 4, "video_id": 7, "frame_id": 1},
        ],
        [box(1, 1)],
        videos=[{"id": 9, "file_name": "drive.mp4"}, {"id": 7, "file_name": "nope.mp4"}],
    )
    done = imported(engine, worker, ds, document, tmp_path / "in.json")
    assert done.status is JobStatus.FAILED
    assert [e["message"] for e in done.errors] == [
        "in.json videos[1]: no video named 'nope.mp4' on the branch",
        "in.json images[1]: no file named 'gone.jpg' on the branch",
        "in.json images[2]: frame 40 is not one of the 36 frames of 'drive.mp4'",
        "in.json images[3]: video_id 7 is not a video on the branch",
    ]
    skipped = imported(engine, worker, ds, document, tmp_path / "in.json", skip_invalid=True)
    assert skipped.status is JobStatus.SUCCEEDED
    with engine.connect() as conn:
        files = {f["name"]: f["metadata"] for f in v.read(conn, ds, "main", "file").values()}
    assert files["a.jpg"]["coco"]["image"] == {"id": 1}


def test_importing_the_same_file_again_writes_nothing(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    document = coco(
        [{"id": 1, "file_name": "a.jpg", "license": 2}, {"id": 3, "video_id": 9, "frame_id": 1}],
        [box(1, 1)],
        videos=[{"id": 9, "file_name": "drive.mp4"}],
        info={"year": 2024},
    )
    imported(engine, worker, ds, document, tmp_path / "in.json")

    def revisions() -> tuple[int, int]:
        with engine.connect() as conn:
            files = conn.scalar(select(func.count()).select_from(File).where(File.dataset_id == ds))
            labels = conn.scalar(
                select(func.count()).select_from(Label).where(Label.dataset_id == ds)
            )
        return files or 0, labels or 0

    with engine.begin() as conn:
        v.commit(conn, ds, "main", "imported")
    before = revisions()
    again = imported(engine, worker, ds, document, tmp_path / "in.json")
    assert again.result == {"created": 0, "existing": 1, "failed": 0, "labels_created": 0}
    assert revisions() == before
    with engine.connect() as conn:
        assert v.diff_summary(conn, ds, "main@2", "main").by_kind == {}


def test_label_metadata_and_instance_extra_through_graphql(engine: Engine) -> None:
    ds = make_dataset(engine, FILES)
    with engine.connect() as conn:
        name = get_dataset_by_id(conn, ds).name
    made = run_graphql(
        engine,
        'mutation($ds: String!) { createLabels(dataset: $ds, branch: "main", labels: '
        '[{name: "car", metadata: {coco: {id: 3}}}]) { name metadata } }',
        ds=name,
    )
    assert made["data"]["createLabels"] == [{"name": "car", "metadata": {"coco": {"id": 3}}}]
    with engine.connect() as conn:
        file_id = next(iter(v.read(conn, ds, "main", "file")))
    made = run_graphql(
        engine,
        'mutation($ds: String!, $f: ID!) { createInstances(dataset: $ds, branch: "main", '
        'instances: [{fileId: $f, label: "car", kind: "box", x: 1, y: 1, w: 2, h: 2, '
        "extra: {id: 9, area: 3.5}}]) { extra label { metadata } } }",
        ds=name,
        f=str(file_id),
    )
    assert "errors" not in made, made
    assert made["data"]["createInstances"] == [
        {"extra": {"id": 9, "area": 3.5}, "label": {"metadata": {"coco": {"id": 3}}}}
    ]
    bad = run_graphql(
        engine,
        'mutation($ds: String!, $f: ID!) { createInstances(dataset: $ds, branch: "main", '
        'instances: [{fileId: $f, label: "car", kind: "box", x: 1, y: 1, w: 2, h: 2, '
        "extra: [1]}]) { id } }",
        ds=name,
        f=str(file_id),
    )
    assert bad["errors"][0]["code"] == "BAD_USER_INPUT"
    assert "extra must be a JSON object" in bad["errors"][0]["message"]


def test_a_value_postgresql_cannot_hold_is_an_error_of_its_record(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    """Kept keys can hold anything JSON can; what jsonb cannot (a NUL character) is refused by
    record, not a failure of the whole job. (A COCO file's integers past 64 bits do not parse.)"""
    ds = make_dataset(engine, FILES)
    path = tmp_path / "in.json"
    path.write_text(
        '{"images": [{"id": 1, "file_name": "a.jpg", "x_seq": ["ok", "a\\u0000"]}],'
        ' "categories": [{"id": 1, "name": "car", "x_note": "a\\u0000b"}],'
        ' "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2],'
        ' "x_big": {"deep": "\\u0000"}}]}'
    )
    done = run_import(engine, worker, ds, path, "coco")
    assert done.status is JobStatus.FAILED
    assert [e["message"] for e in done.errors] == [
        "in.json annotations[0]: extra.x_big.deep contains a NUL character at offset 0",
        "in.json categories[0]: x_note contains a NUL character at offset 1",
        "in.json images[0]: x_seq[1] contains a NUL character at offset 1",
    ]
