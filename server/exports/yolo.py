"""YOLO export: a folder with `classes.txt` and a label file per image of normalized lines
(Ultralytics' layout): `class cx cy w h [score]` for a box, `class x1 y1 x2 y2 ... [score]` for
a polygon. Other kinds have no YOLO form and are counted as skipped.

`labels/<file stem>.txt` holds a still's (or a whole video's) instances, and
`labels/<video stem>/<frame:06d>.txt` one frame's (ingest/conventions.py). A whole version's
images with no instance, and frame rows with none, get an empty label file: in YOLO that says
"nothing here" (a background image), which is what the dataset holds. Within a file, lines
come in entity-id order: stable for the same data at the same version, but not the order of
the file they were imported from (imported ids are hashes of their source records).

Class indexes: every label at the version, a YOLO import's own order first
(`metadata.yolo.index`), then by COCO category id, then by name, numbered 0.. in that order.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from trainingdb.server.ingest.conventions import FRAME_DIGITS, video_stem
from trainingdb.versioning.models import MediaType

from .geometry import flat_polygon
from .rows import ExportResult, Slice, by_frame


def _number(value: Any) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else math.inf


def class_order(labels: list[Any]) -> dict[str, int]:
    """The class index of each label name (module docstring)."""

    def key(label: Any) -> tuple[float, float, str]:
        metadata = label.metadata if isinstance(label.metadata, dict) else {}
        yolo, coco = metadata.get("yolo"), metadata.get("coco")
        index = _number(yolo.get("index")) if isinstance(yolo, dict) else math.inf
        category = _number(coco.get("id")) if isinstance(coco, dict) else math.inf
        return index, category, label.name

    return {label.name: i for i, label in enumerate(sorted(labels, key=key))}


def label_path(name: str, frame: int | None) -> Path:
    stem = video_stem(name)
    return Path(f"{stem}.txt" if frame is None else f"{stem}/{frame:0{FRAME_DIGITS}d}.txt")


def _line(row: Any, cls: int, width: int, height: int) -> str | None:
    if row.kind == "box" and row.x is not None:
        values = [
            (row.x + row.w / 2) / width,
            (row.y + row.h / 2) / height,
            row.w / width,
            row.h / height,
        ]
    elif row.kind == "polygon" and (flat := flat_polygon(row.points)) and len(flat) >= 6:
        values = [c / (width if i % 2 == 0 else height) for i, c in enumerate(flat)]
    else:
        return None
    if row.score is not None:
        values.append(row.score)
    return " ".join([str(cls), *(f"{v:.6f}" for v in values)])


def write_yolo(sl: Slice, folder: Path) -> ExportResult:
    labels_dir = folder / "labels"
    labels_dir.mkdir(parents=True, exist_ok=True)
    classes = class_order(sl.labels())
    instances = files = skipped = 0
    for group in by_frame(sl.instances()):
        first = group[0]
        width, height = first.file_width, first.file_height
        lines = [
            line
            for row in group
            if width and height and (line := _line(row, classes[row.label_name], width, height))
        ]
        skipped += len(group) - len(lines)
        if lines:
            _write(labels_dir / label_path(first.file_name, first.frame_number), lines)
            files += 1
            instances += len(lines)
    for row in sl.bare():
        still = row.frame_number is None and row.file_media_type == MediaType.IMAGE.value
        if still or row.frame_number is not None:
            _write(labels_dir / label_path(row.file_name, row.frame_number), [])
            files += 1
    (folder / "classes.txt").write_text("".join(f"{name}\n" for name in classes))
    return ExportResult("yolo", instances, files, len(classes), skipped)


def _write(target: Path, lines: list[str]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(f"{line}\n" for line in lines))
