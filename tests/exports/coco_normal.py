"""What a COCO export of an imported file must equal: the input with the normalisations
docs/INGEST.md ("What each format keeps") lists, and nothing else changed.

`expected(input)` applies them to an input; `ordered(export)` only sorts an export's lists by
id (an export writes files in its own order). Areas are computed here independently of the
server's code: the shoelace formula by hand, RLE with pycocotools.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

from pycocotools import mask as coco_mask

LISTS = ("images", "videos", "categories", "annotations", "licenses")


def _shoelace(flat: list[float]) -> float:
    xs, ys = flat[0::2], flat[1::2]
    total = 0.0
    for i in range(len(xs)):
        j = (i + 1) % len(xs)
        total += xs[i] * ys[j] - xs[j] * ys[i]
    return abs(total) / 2


def computed_area(annotation: dict[str, Any]) -> float | int:
    segmentation = annotation.get("segmentation")
    if isinstance(segmentation, dict):
        rle = {**segmentation, "counts": segmentation["counts"].encode()}
        pixels: int = int(coco_mask.area(rle))
        return pixels
    if segmentation:
        return round(sum(_shoelace(p) for p in segmentation), 6)
    _, _, w, h = annotation["bbox"]
    box: float = round(w * h, 6)
    return box


def _strip(name: str) -> str:
    for prefix in ("images/", "media/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def expected(document: dict[str, Any]) -> dict[str, Any]:
    """The export an import of `document` must give (its lists sorted by id)."""
    doc = copy.deepcopy(document)
    videos = {v["id"]: v for v in doc.get("videos", [])}
    for video in videos.values():
        video["file_name"] = _strip(video["file_name"])
        video.setdefault("name", PurePosixPath(video["file_name"]).with_suffix("").as_posix())
    frames: dict[Any, Any] = {}
    for image in doc.get("images", []):
        if "video_id" in image:
            video = videos[image["video_id"]]
            frame = image.setdefault("frame_id", image.get("frame_index"))
            image.setdefault("file_name", f"{video['name']}/{frame:06d}.jpg")
            image.setdefault("width", video["width"])
            image.setdefault("height", video["height"])
            frames[image["id"]] = image["video_id"]
        else:
            image["file_name"] = _strip(image["file_name"])
    for annotation in doc.get("annotations", []):
        if annotation.get("segmentation") == []:
            del annotation["segmentation"]  # box only: pycocotools cannot read an empty one
        if annotation.get("attributes") == {}:
            del annotation["attributes"]
        annotation.setdefault("iscrowd", 0)
        annotation.setdefault("area", computed_area(annotation))
        if annotation["image_id"] in frames:
            annotation["video_id"] = frames[annotation["image_id"]]
        track = annotation.get("track_id", annotation.get("instance_id"))
        if track is not None:
            annotation.setdefault("track_id", track)
            annotation.setdefault("instance_id", track)
    if not doc.get("videos"):
        doc.pop("videos", None)
    return ordered(doc)


def ordered(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with its id-keyed lists sorted by id."""
    return {
        key: sorted(value, key=lambda item: str(item.get("id")))
        if key in LISTS and isinstance(value, list)
        else value
        for key, value in document.items()
    }


def decimals(value: Any) -> Any:
    """`value` with every number as a Decimal: JSON numbers are decimals, and PostgreSQL's
    jsonb, which holds kept keys, writes `7.023099445175089e+16` as `70230994451750890`,
    the same number, which Python reads back as an int."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return Decimal(repr(value))
    if isinstance(value, list):
        return [decimals(v) for v in value]
    return {k: decimals(v) for k, v in value.items()}
