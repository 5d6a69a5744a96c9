"""The COCO reader: detection/segmentation JSON, or a results list, as drafts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from .formats import Draft, FormatError


def _coco_items(path: Path, prefix: str) -> Iterator[Any]:
    """The items of one top-level list of a COCO file, parsed as they are read (ijson's C
    parser): memory holds one item, not the document."""
    try:
        with path.open("rb") as stream:
            yield from ijson.items(stream, prefix, use_float=True)
    except ijson.JSONError as error:
        raise FormatError(f"{path.name}: not JSON ({error})") from None


def _is_results_list(path: Path) -> bool:
    with path.open("rb") as stream:
        head = stream.read(4096).lstrip()
    if head[:1] not in (b"[", b"{"):
        raise FormatError(f"{path.name}: not JSON (a COCO file is an object or a list)")
    return head[:1] == b"["


def coco_labels(path: Path) -> set[str]:
    return {str(c["name"]) for c in _coco_items(path, "categories.item") if "name" in c}


def read_coco(path: Path, image_names: dict[int, str] | None = None) -> Iterator[Draft]:
    """The drafts of a COCO detection/segmentation file (or results list with scores), read in
    two streaming passes: images and categories (small), then annotations one by one.

    Boxes become `box` instances; polygon segmentations `polygon` (one polygon) or `segment`
    (several, or RLE), with the box as their extent. `image_names` maps image ids for a results
    file, which names no images itself.
    """
    results = _is_results_list(path)
    images: dict[int, str] = {}
    categories: dict[int, str] = {}
    if not results:
        images = {int(i["id"]): str(i["file_name"]) for i in _coco_items(path, "images.item")}
        categories = {int(c["id"]): str(c["name"]) for c in _coco_items(path, "categories.item")}
    images.update(image_names or {})
    for i, ann in enumerate(_coco_items(path, "item" if results else "annotations.item")):
        yield _coco_draft(ann, f"{path.name} annotations[{i}]", images, categories)


def _coco_draft(ann: Any, record: str, images: dict[int, str], categories: dict[int, str]) -> Draft:
    if not isinstance(ann, dict):
        return {"record": record, "error": "an annotation must be an object"}
    try:
        file = images[int(ann["image_id"])]
    except (KeyError, TypeError, ValueError):
        return {"record": record, "error": f"image_id {ann.get('image_id')!r} is not an image"}
    label = categories.get(int(ann.get("category_id", -1)))
    if label is None:
        return {"record": record, "error": f"category_id {ann.get('category_id')!r} unknown"}
    draft: Draft = {"record": record, "file": file, "label": label, "kind": "box"}
    if "bbox" in ann:
        draft["bbox"] = ann["bbox"]
    segmentation = ann.get("segmentation")
    if isinstance(segmentation, list) and segmentation:
        polygons = [_pairs(p) for p in segmentation]
        draft["kind"], draft["points"] = (
            ("polygon", polygons[0]) if len(polygons) == 1 else ("segment", polygons)
        )
    elif isinstance(segmentation, dict):
        draft["kind"], draft["points"] = "segment", segmentation
    if "score" in ann:
        draft["score"] = ann["score"]
    if ann.get("iscrowd"):
        draft["attributes"] = {"iscrowd": 1}
    return draft


def _pairs(flat: Any) -> Any:
    if isinstance(flat, list) and all(isinstance(v, int | float) for v in flat):
        return [[flat[i], flat[i + 1]] for i in range(0, len(flat) - 1, 2)]
    return flat
