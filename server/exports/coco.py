"""COCO export: detection JSON (`images`, `categories`, `annotations`; polygons as segmentation,
scores kept for predictions); `pycocotools.COCO` loads it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from .rows import ExportResult


def write_coco(stream: Iterator[Any], out: BinaryIO) -> ExportResult:
    """COCO JSON in one pass: annotations are written as they come; images and categories,
    which COCO lists by id, follow them (JSON objects are unordered; readers load the whole)."""
    images: dict[uuid.UUID, tuple[int, str, int | None, int | None]] = {}
    categories: dict[str, int] = {}
    out.write(b'{"annotations":[')
    count = 0
    for row in stream:
        image = images.get(row.file_entity_id)
        if image is None:
            image = (len(images) + 1, row.file_name, row.file_width, row.file_height)
            images[row.file_entity_id] = image
        category = categories.setdefault(row.label_name, len(categories) + 1)
        count += 1
        annotation: dict[str, Any] = {
            "id": count,
            "image_id": image[0],
            "category_id": category,
            "iscrowd": int(bool((row.attributes or {}).get("iscrowd"))),
        }
        if row.x is not None:
            annotation["bbox"] = [row.x, row.y, row.w, row.h]
            annotation["area"] = row.w * row.h
        annotation["segmentation"] = _segmentation(row)
        if row.score is not None:
            annotation["score"] = row.score
        if row.frame_number is not None:
            annotation["frame"] = row.frame_number
        out.write((b"," if count > 1 else b"") + orjson.dumps(annotation))
    out.write(b'],"images":[')
    for i, (image_id, name, width, height) in enumerate(images.values()):
        item = {"id": image_id, "file_name": name, "width": width, "height": height}
        out.write((b"," if i else b"") + orjson.dumps(item))
    out.write(b'],"categories":[')
    for i, (name, category_id) in enumerate(categories.items()):
        out.write((b"," if i else b"") + orjson.dumps({"id": category_id, "name": name}))
    out.write(b"]}")
    return ExportResult("coco", count, len(images), len(categories))


def _segmentation(row: Any) -> Any:
    points = row.points
    if row.kind == "polygon" and isinstance(points, list):
        return [[c for pair in points for c in pair]]
    if row.kind == "segment" and isinstance(points, list):
        return [[c for pair in polygon for c in pair] for polygon in points]
    if row.kind == "segment" and isinstance(points, dict):
        return points
    return []
