"""Exports: COCO round trip through import and pycocotools, YOLO, JSONL re-import, Parquet,
filters and versions, the export job with its download link, and the CLI."""

from __future__ import annotations

import itertools
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from pycocotools.coco import COCO
from sqlalchemy import URL, Engine, insert

from tests.clirun import run as run_cli
from tests.graphql.execute import run as run_graphql
from trainingdb import versioning as v
from trainingdb.graphql_schema import Context, schema
from trainingdb.graphql_schema.links import BlobLinks
from trainingdb.server.blobs import LocalBlobStore
from trainingdb.server.exports import export
from trainingdb.server.jobs.kinds import HANDLERS
from trainingdb.server.jobs.worker import Worker
from trainingdb.versioning import jobs as queue
from trainingdb.versioning.models import Blob, JobKind, JobStatus

_names = itertools.count()
SHA = "8" * 64
COCO_IN = {
    "images": [
        {"id": 1, "file_name": "a.jpg", "width": 64, "height": 48},
        {"id": 2, "file_name": "b.jpg", "width": 32, "height": 16},
    ],
    "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1.0, 2.0, 30.0, 20.0], "iscrowd": 0},
        {
            "id": 2,
            "image_id": 1,
            "category_id": 2,
            "bbox": [40.0, 5.0, 10.0, 30.0],
            "segmentation": [[40.0, 5.0, 50.0, 5.0, 50.0, 35.0]],
            "iscrowd": 0,
        },
        {"id": 3, "image_id": 2, "category_id": 1, "bbox": [0.0, 0.0, 16.0, 8.0], "iscrowd": 0},
    ],
}


@pytest.fixture
def worker(engine: Engine, tmp_path: Path) -> Worker:
    while (job := queue.claim(engine, "drain", 60)) is not None:
        queue.fail(engine, job, "drain", "drained")
    return Worker(engine, LocalBlobStore(tmp_path / "blobs"), HANDLERS, name="exp")


@pytest.fixture
def dataset(engine: Engine, worker: Worker, tmp_path: Path) -> tuple[int, str]:
    """A dataset with COCO_IN imported and committed (main@1), then one more box (main)."""
    name = f"exp{next(_names)}"
    with engine.begin() as conn:
        ds = v.create_dataset(conn, name).id
        conn.execute(
            insert(Blob).values(
                dataset_id=ds, sha256=SHA, size=1, mime="image/jpeg", storage_key="k"
            )
        )
        v.create(
            conn,
            ds,
            "main",
            "file",
            [
                {
                    "name": i["file_name"],
                    "width": i["width"],
                    "height": i["height"],
                    "blob_sha256": SHA,
                    "media_type": "image",
                }
                for i in COCO_IN["images"]
            ],
        )
    source = tmp_path / "in.json"
    source.write_bytes(orjson.dumps(COCO_IN))
    with engine.begin() as conn:
        job = queue.submit(
            conn,
            ds,
            JobKind.IMPORT_ANNOTATIONS,
            {"path": str(source), "format": "coco", "create_labels": True},
        )
    worker.run_once()
    with engine.begin() as conn:
        assert queue.get(conn, job.id).status is JobStatus.SUCCEEDED  # type: ignore[union-attr]
        v.commit(conn, ds, "main", "coco")
        car = next(
            eid for eid, c in v.read(conn, ds, "main", "label").items() if c["name"] == "car"
        )
        b = next(eid for eid, c in v.read(conn, ds, "main", "file").items() if c["name"] == "b.jpg")
        v.create(
            conn,
            ds,
            "main",
            "instance",
            [
                {
                    "file_entity_id": b,
                    "label_entity_id": car,
                    "kind": "box",
                    "x": 20.0,
                    "y": 1.0,
                    "w": 5.0,
                    "h": 5.0,
                    "score": 0.25,
                    "source": "model",
                    "model_run": "r",
                }
            ],
        )
    return ds, name


def boxes(document: dict[str, Any]) -> list[tuple[str, str, list[float]]]:
    images = {i["id"]: i["file_name"] for i in document["images"]}
    names = {c["id"]: c["name"] for c in document["categories"]}
    return sorted(
        (images[a["image_id"]], names[a["category_id"]], a["bbox"]) for a in document["annotations"]
    )


def test_coco_round_trip_and_pycocotools(
    engine: Engine, dataset: tuple[int, str], tmp_path: Path
) -> None:
    ds, _ = dataset
    out = tmp_path / "out.json"
    with engine.connect() as conn:
        result = export(conn, ds, "main@1", "coco", out)
    assert (result.instances, result.files, result.labels) == (3, 2, 2)
    exported = orjson.loads(out.read_bytes())
    assert boxes(exported) == boxes(COCO_IN)
    polygon = next(a for a in exported["annotations"] if "segmentation" in a)
    assert polygon["segmentation"] == [[40.0, 5.0, 50.0, 5.0, 50.0, 35.0]]
    assert sum("segmentation" in a for a in exported["annotations"]) == 1  # boxes have none
    coco = COCO(str(out))
    assert len(coco.getAnnIds()) == 3
    assert sorted(c["name"] for c in coco.loadCats(coco.getCatIds())) == ["car", "person"]
    assert {img["file_name"]: (img["width"], img["height"]) for img in coco.dataset["images"]} == {
        "a.jpg": (64, 48),
        "b.jpg": (32, 16),
    }


def test_filters_and_versions_choose_the_slice(
    engine: Engine, dataset: tuple[int, str], tmp_path: Path
) -> None:
    ds, _ = dataset
    out = tmp_path / "slice.json"
    with engine.connect() as conn:
        assert export(conn, ds, "main", "coco", out).instances == 4
        only = export(conn, ds, "main", "coco", out, query="source = 'model' and score < 0.5")
    assert only.instances == 1
    assert orjson.loads(out.read_bytes())["annotations"][0]["score"] == 0.25


def test_jsonl_exports_import_again(
    engine: Engine, dataset: tuple[int, str], worker: Worker, tmp_path: Path
) -> None:
    ds, _ = dataset
    out = tmp_path / "out.jsonl"
    with engine.connect() as conn:
        result = export(conn, ds, "main@1", "jsonl", out)
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [(line["file"], len(line["instances"])) for line in sorted(lines, key=str)] == [
        ("a.jpg", 2),
        ("b.jpg", 1),
    ]
    assert result.files == 2
    with engine.begin() as conn:
        v.create_branch(conn, ds, "copy", "main@1")
        v.delete(conn, ds, "copy", "instance", list(v.read(conn, ds, "copy", "instance")))
        job = queue.submit(
            conn, ds, JobKind.IMPORT_ANNOTATIONS, {"path": str(out), "branch": "copy"}
        )
    worker.run_once()
    with engine.connect() as conn:
        imported = queue.get(conn, job.id)
        assert imported is not None
        assert imported.result == {"created": 3, "existing": 0, "failed": 0, "labels_created": 0}
        back = tmp_path / "back.json"
        export(conn, ds, "copy", "coco", back)
    assert boxes(orjson.loads(back.read_bytes())) == boxes(COCO_IN)


def test_yolo_and_parquet(engine: Engine, dataset: tuple[int, str], tmp_path: Path) -> None:
    ds, _ = dataset
    with engine.connect() as conn:
        yolo = export(conn, ds, "main@1", "yolo", tmp_path / "yolo")
        table_result = export(conn, ds, "main", "parquet", tmp_path / "out.parquet")
    assert (yolo.instances, yolo.skipped) == (3, 0)  # the polygon as a YOLO segment line
    # Every label, in COCO category order: class indexes do not depend on the slice.
    assert (tmp_path / "yolo" / "classes.txt").read_text().split() == ["car", "person"]
    lines = (tmp_path / "yolo" / "labels" / "a.txt").read_text().splitlines()
    # Line order in a YOLO file carries no meaning; it is entity-id order (see yolo.py).
    assert sorted(lines) == [
        "0 0.250000 0.250000 0.468750 0.416667",
        "1 0.625000 0.104167 0.781250 0.104167 0.781250 0.729167",
    ]
    table = pq.read_table(tmp_path / "out.parquet")
    assert table_result.instances == table.num_rows == 4
    assert sorted(table.column("label").to_pylist()) == ["car", "car", "car", "person"]


def test_the_export_job_and_its_download_link(
    engine: Engine, dataset: tuple[int, str], worker: Worker
) -> None:
    _, name = dataset
    submitted = run_graphql(
        engine,
        'mutation($ds: String!) { exportDataset(dataset: $ds, version: "main@1", format: "yolo") '
        "{ id status } }",
        ds=name,
    )
    assert "errors" not in submitted, submitted
    job_id = submitted["data"]["exportDataset"]["id"]
    worker.run_once()
    import asyncio

    from trainingdb.versioning.access.principal import LOCAL_ADMIN

    links = BlobLinks(b"0123456789abcdef")
    result = asyncio.run(
        schema.execute(
            "query($id: ID!) { job(id: $id) { status result download } }",
            variable_values={"id": job_id},
            context_value=Context.for_request(engine, LOCAL_ADMIN, links),
        )
    )
    assert result.errors is None, result.errors
    job = result.data["job"]  # type: ignore[index]
    assert job["status"] == "SUCCEEDED"
    assert job["result"]["instances"] == 3
    assert job["download"] == links.url(job["result"]["sha256"])
    with worker.blobs.open(job["result"]["sha256"]) as stream, zipfile.ZipFile(stream) as archive:
        assert "classes.txt" in archive.namelist()
    bad = run_graphql(
        engine,
        'mutation($ds: String!) { exportDataset(dataset: $ds, format: "csv") { id } }',
        ds=name,
    )
    assert bad["errors"][0]["code"] == "BAD_USER_INPUT"


def test_the_export_command(
    engine: Engine, dataset: tuple[int, str], database_url: URL, tmp_path: Path
) -> None:
    _, name = dataset
    out = tmp_path / "cli.json"
    url = database_url.render_as_string(hide_password=False)
    done = run_cli(
        "export",
        name,
        str(out),
        "--version",
        "main@1",
        "--database-url",
        url,
        "--blob-url",
        (tmp_path / "b").as_uri(),
        "--data-dir",
        str(tmp_path / "d"),
    )
    assert done.returncode == 0, done.stderr
    assert "exported 3 instances of 2 files (2 labels) as coco" in done.stdout
    assert boxes(orjson.loads(out.read_bytes())) == boxes(COCO_IN)


def test_yolo_exports_import_again(
    engine: Engine, dataset: tuple[int, str], worker: Worker, tmp_path: Path
) -> None:
    ds, _ = dataset
    folder = tmp_path / "yolo"
    with engine.connect() as conn:
        export(conn, ds, "main@1", "yolo", folder)
    (folder / "labels" / "b.txt").write_text("0 0.5 0.5 0.5 0.5 0.75\n7 0 0 1 1\n")
    with engine.begin() as conn:
        v.create_branch(conn, ds, "yolo", "main@1")
        v.delete(conn, ds, "yolo", "instance", list(v.read(conn, ds, "yolo", "instance")))
        job = queue.submit(
            conn,
            ds,
            JobKind.IMPORT_ANNOTATIONS,
            {"path": str(folder), "format": "yolo", "branch": "yolo", "skip_invalid": True},
        )
    worker.run_once()
    with engine.connect() as conn:
        done = queue.get(conn, job.id)
        assert done is not None
        assert done.result == {"created": 3, "existing": 0, "failed": 1, "labels_created": 0}
        assert done.errors[0]["record"] == "labels/b.txt:2"
        assert "class 7 is not in 0..1" in done.errors[0]["message"]
        rows = sorted(
            (r["kind"], r["x"], r["y"], r["w"], r["h"], r["score"], r["points"])
            for r in v.read(conn, ds, "yolo", "instance").values()
        )
    # YOLO writes six decimals of the image's size: back in pixels, within a thousandth.
    assert [(r[0], *(round(c, 3) for c in r[1:5]), r[5]) for r in rows] == [
        ("box", 1.0, 2.0, 30.0, 20.0, None),
        ("box", 8.0, 4.0, 16.0, 8.0, 0.75),
        ("polygon", 40.0, 5.0, 10.0, 30.0, None),
    ]
    assert [[round(c, 3) for c in p] for p in rows[2][6]] == [[40, 5], [50, 5], [50, 35]]
