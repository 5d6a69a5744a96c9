"""YOLO import → export loses nothing YOLO can say: class order (an unused class too), boxes,
predicted boxes with scores, polygons (Ultralytics segment lines, with and without a score), a
background image (an empty label file), a video's frames as `labels/<video>/<frame:06d>.txt`
with a background frame, and boxes on a whole video."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.exports.helpers import image, make_dataset, make_worker, run_export, run_import, video
from trainingdb import versioning as v
from trainingdb.server.jobs.worker import Worker
from trainingdb.versioning.models import JobStatus

FILES = [
    image("a.jpg", 64, 48),
    image("cam/b.jpg", 32, 16),
    image("empty.jpg", 20, 10),
    video("drive.mp4", 320, 240, 36),
]
CLASSES = "car\nperson\ntree\n"
LABELS = {
    "a.txt": [
        "0 0.257812 0.255208 0.468750 0.416667",
        "1 0.625000 0.104167 0.781250 0.104167 0.781250 0.729167",
        "1 0.100000 0.100000 0.200000 0.200000 0.900000",
        "0 0.100000 0.200000 0.300000 0.200000 0.300000 0.400000 0.100000 0.400000 0.650000",
    ],
    "cam/b.txt": ["0 0.132812 0.250000 0.140625 0.250000"],
    "empty.txt": [],
    "drive.txt": ["2 0.5 0.5 0.25 0.25"],
    "drive/000000.txt": ["0 0.093750 0.145833 0.125000 0.125000"],
    "drive/000002.txt": ["0 0.1 0.154167 0.125 0.125 0.75", "1 0.5 0.5 0.1 0.1"],
    "drive/000003.txt": [],
}


@pytest.fixture
def worker(engine: Engine, tmp_path: Path) -> Worker:
    return make_worker(engine, tmp_path)


def write_folder(folder: Path, classes: str, labels: dict[str, list[str]]) -> Path:
    (folder / "labels").mkdir(parents=True)
    (folder / "classes.txt").write_text(classes)
    for name, lines in labels.items():
        path = folder / "labels" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{line}\n" for line in lines))
    return folder


def read_folder(folder: Path) -> tuple[str, dict[str, list[tuple[int, ...] | tuple[float, ...]]]]:
    """classes.txt as text, and each label file's lines as numbers (a line's order in its file
    is not kept: instances have none), with YOLO's six decimals."""
    labels = {}
    for path in sorted((folder / "labels").rglob("*.txt")):
        lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
        numbers = [(int(f[0]), *(round(float(x), 6) for x in f[1:])) for f in lines]
        labels[path.relative_to(folder / "labels").as_posix()] = sorted(numbers)
    return (folder / "classes.txt").read_text(), labels


def test_a_yolo_folder_comes_back_file_by_file_and_line_by_line(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    source = write_folder(tmp_path / "in", CLASSES, LABELS)
    done = run_import(engine, worker, ds, source, "yolo")
    assert done.status is JobStatus.SUCCEEDED, (done.message, done.errors)
    assert done.result is not None
    assert done.result["created"] == 9
    result = run_export(engine, ds, "yolo", tmp_path / "out")
    assert (result.instances, result.skipped, result.labels) == (9, 0, 3)
    assert read_folder(tmp_path / "out") == read_folder(source)
    with engine.connect() as conn:
        labels = {c["name"]: c["metadata"] for c in v.read(conn, ds, "main", "label").values()}
        frames = [
            (f["frame_number"], f["metadata"]) for f in v.read(conn, ds, "main", "frame").values()
        ]
    assert labels == {n: {"yolo": {"index": i}} for i, n in enumerate(["car", "person", "tree"])}
    assert frames == [(3, {})]  # the background frame, which no instance holds


def test_an_export_of_a_slice_holds_only_the_files_it_touches(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    run_import(engine, worker, ds, write_folder(tmp_path / "in", CLASSES, LABELS), "yolo")
    run_export(engine, ds, "yolo", tmp_path / "out", query="score > 0.7")
    classes, labels = read_folder(tmp_path / "out")
    assert classes == CLASSES  # class indexes do not depend on the slice
    assert sorted(labels) == ["a.txt", "drive/000002.txt"]


def test_class_indexes_follow_the_import_then_coco_ids_then_names(
    engine: Engine, worker: Worker, tmp_path: Path
) -> None:
    ds = make_dataset(engine, FILES)
    with engine.begin() as conn:
        v.create(
            conn,
            ds,
            "main",
            "label",
            [
                {"name": "zebra", "metadata": {"coco": {"id": 2}}},
                {"name": "ant", "metadata": {"coco": {"id": 9}}},
                {"name": "bee"},
                {"name": "yak", "metadata": {"yolo": {"index": 0}}},
            ],
        )
    run_export(engine, ds, "yolo", tmp_path / "out")
    assert (tmp_path / "out" / "classes.txt").read_text().split() == ["yak", "zebra", "ant", "bee"]
