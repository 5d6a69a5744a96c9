"""Annotation files read as a stream of drafts: one dict per instance, in the native shape.

Native shape (JSONL, one object per line; a line is one file's instances, or one instance):

    {"file": "img/0001.jpg", "instances": [
        {"label": "car", "kind": "box", "bbox": [x, y, w, h], "score": 0.91,
         "attributes": {"occluded": false}},
        {"label": "person", "kind": "keypoints", "bbox": [...], "points": [[x, y], ...]},
        {"label": "car", "kind": "box", "bbox": [...], "frame": 12, "track_id": "t3"}]}

Keys of an instance: `label` (a name), `kind` (default `box`), `bbox` ([x, y, w, h] in pixels,
or `x`, `y`, `w`, `h`), `points`, `frame`, `text_start`, `text_end`, `score`, `attributes`,
`track_id`. COCO detection/segmentation JSON (ground truth, or a results file with `score`) and
YOLO are converted to the same drafts. Each draft carries `record`: where it came from
(`labels.jsonl:12`, `annotations[40]`), for error messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson
import orjson

Draft = dict[str, Any]


class FormatError(ValueError):
    """The annotation file itself cannot be read; the message names it and where."""


def read_jsonl(path: Path) -> Iterator[Draft]:
    """The drafts of a native JSONL file, line by line (flat memory)."""
    with path.open("rb") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            record = f"{path.name}:{number}"
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                yield {"record": record, "error": f"not JSON ({error})"}
                continue
            if not isinstance(value, dict) or not isinstance(value.get("file"), str):
                yield {"record": record, "error": 'a line is an object with a "file" name'}
                continue
            items = value.get("instances", [value] if "label" in value else [])
            if not isinstance(items, list):
                yield {"record": record, "error": '"instances" must be a list'}
                continue
            for i, item in enumerate(items):
                where = record if "instances" not in value else f"{record} instances[{i}]"
                if not isinstance(item, dict):
                    yield {"record": where, "error": "an instance must be an object"}
                    continue
                yield {**item, "file": value["file"], "record": where}


def jsonl_labels(path: Path) -> set[str]:
    """Every label name a JSONL file uses (a first, cheap pass, to create missing labels)."""
    names: set[str] = set()
    for draft in read_jsonl(path):
        if isinstance(draft.get("label"), str):
            names.add(draft["label"])
    return names


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


def yolo_labels(folder: Path) -> set[str]:
    return set(_yolo_classes(folder))


def _yolo_classes(folder: Path) -> list[str]:
    classes = folder / "classes.txt"
    if not classes.is_file():
        raise FormatError(f"{folder}: a YOLO folder holds classes.txt (one class name a line)")
    return [line.strip() for line in classes.read_text().splitlines() if line.strip()]


def read_yolo(folder: Path) -> Iterator[Draft]:
    """The drafts of a YOLO folder: `classes.txt` and `labels/<name>.txt` files of normalized
    `class cx cy w h [score]` lines. `<name>` is the file's name on the branch without its
    extension (an `images/` prefix is ignored), so `labels/cam1/0001.txt` annotates
    `cam1/0001.jpg`. Boxes stay normalized (`ybox`) until the file's size is known."""
    classes = _yolo_classes(folder)
    labels = folder / "labels"
    for path in sorted(labels.rglob("*.txt")) if labels.is_dir() else []:
        stem = path.relative_to(labels).with_suffix("").as_posix()
        with path.open() as stream:
            for number, line in enumerate(stream, start=1):
                fields = line.split()
                if not fields:
                    continue
                record = f"labels/{path.relative_to(labels).as_posix()}:{number}"
                draft: Draft = {"record": record, "stem": stem}
                try:
                    index = int(fields[0])
                    values = [float(f) for f in fields[1:]]
                except ValueError:
                    yield {**draft, "error": "a line is: class cx cy w h [score], as numbers"}
                    continue
                if len(values) not in (4, 5) or not 0 <= index < len(classes):
                    yield {
                        **draft,
                        "error": f"a line is: class cx cy w h [score], with class in "
                        f"0..{len(classes) - 1}",
                    }
                    continue
                draft.update(label=classes[index], kind="box", ybox=values[:4])
                if len(values) == 5:
                    draft["score"] = values[4]
                yield draft
