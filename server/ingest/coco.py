"""The COCO reader: detection/segmentation JSON (COCO-video too), or a results list, as drafts.

Boxes become `box` instances; polygon segmentations `polygon` (one polygon) or `segment`
(several, or RLE), with the box as their extent. An image with a `video_id` is a frame of that
video (`frame_id`, or TAO's `frame_index`); the video names its file by `file_name`, else by
`name` (the file's name without extension). Every key of an annotation with no draft key of
its own (`id`, `area`, `iscrowd`, a producer's keys) goes to `extra`, verbatim; image,
video, category and document keys are kept by `coco_sources.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from .coco_head import CocoHead, read_head
from .formats import Draft, FormatError

# Annotation keys the draft takes (the rest are `extra`); video_id follows from the image.
_TAKEN = frozenset({"image_id", "category_id", "bbox", "segmentation", "score", "video_id"})
_TRACK_KEYS = ("track_id", "instance_id")  # TAO's, and CocoVID's (mmtracking)
_TRACK_LENGTH = 200  # instance.track_id's width


def _coco_items(path: Path, prefix: str) -> Iterator[Any]:
    """The items of one top-level list of a COCO file, parsed as they are read (ijson's C
    parser): memory holds one item, not the document."""
    try:
        with path.open("rb") as stream:
            yield from ijson.items(stream, prefix, use_float=True)
    except ijson.JSONError as error:
        raise FormatError(f"{path.name}: not JSON ({error})") from None


def coco_labels(path: Path) -> set[str]:
    return {
        str(c["name"])
        for c in _coco_items(path, "categories.item")
        if isinstance(c, dict) and "name" in c
    }


def id_key(value: Any) -> Any:
    """A COCO id as a dict key (a number or a text), or None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    return value


def frame_number(image: dict[str, Any]) -> int | None:
    """The frame a COCO-video image is: `frame_id` (CocoVID), else `frame_index` (TAO)."""
    frame = image.get("frame_id", image.get("frame_index"))
    if isinstance(frame, bool) or not isinstance(frame, int) or frame < 0:
        return None
    return frame


def video_target(video: dict[str, Any]) -> Draft:
    """How a draft names a COCO-video video's file: by `file_name`, else by its `name`."""
    if isinstance(video.get("file_name"), str):
        return {"file": video["file_name"]}
    if isinstance(video.get("name"), str):
        return {"stem": video["name"]}
    return {"error": f"video {video.get('id')!r} names no file (file_name or name)"}


def image_targets(head: CocoHead) -> dict[Any, Draft]:
    """For each image id, the draft keys naming its file (and frame), or an `error`."""
    videos = {
        id_key(v.get("id")): video_target(v)
        for v in head.videos
        if isinstance(v, dict) and id_key(v.get("id")) is not None
    }
    targets: dict[Any, Draft] = {}
    for image in head.images:
        if not isinstance(image, dict) or id_key(image.get("id")) is None:
            continue
        targets[id_key(image["id"])] = _image_target(image, videos)
    return targets


def _image_target(image: dict[str, Any], videos: dict[Any, Draft]) -> Draft:
    where = f"image {image['id']!r}"
    if "video_id" in image:
        video = videos.get(id_key(image["video_id"]))
        if video is None:
            return {"error": f"{where}: video_id {image['video_id']!r} is not a video"}
        frame = frame_number(image)
        if frame is None:
            return {"error": f"{where}: a frame needs frame_id (or frame_index), a whole number"}
        return {**video, "frame": frame}
    if not isinstance(image.get("file_name"), str):
        return {"error": f"{where}: file_name must be text"}
    return {"file": image["file_name"]}


def read_coco(path: Path) -> Iterator[Draft]:
    """The drafts of a COCO file, in two streaming passes: the head (images, videos,
    categories; small), then the annotations one by one."""
    head = read_head(path)
    images = image_targets(head)
    categories = {
        id_key(c.get("id")): str(c["name"])
        for c in head.categories
        if isinstance(c, dict) and "name" in c and id_key(c.get("id")) is not None
    }
    prefix = "item" if head.results else "annotations.item"
    for i, ann in enumerate(_coco_items(path, prefix)):
        yield annotation_draft(ann, f"{path.name} annotations[{i}]", images, categories)


def annotation_draft(
    ann: Any, record: str, images: dict[Any, Draft], categories: dict[Any, str]
) -> Draft:
    """One COCO annotation as a draft; every key it does not map stays in `extra`."""
    if not isinstance(ann, dict):
        return {"record": record, "error": "an annotation must be an object"}
    target = images.get(id_key(ann.get("image_id")))
    if target is None:
        return {"record": record, "error": f"image_id {ann.get('image_id')!r} is not an image"}
    if "error" in target:
        return {"record": record, "error": target["error"]}
    label = categories.get(id_key(ann.get("category_id")))
    if label is None:
        return {"record": record, "error": f"category_id {ann.get('category_id')!r} unknown"}
    geometry = _geometry(ann.get("segmentation"))
    if isinstance(geometry, str):
        return {"record": record, "error": geometry}
    draft: Draft = {"record": record, **target, "label": label, "kind": geometry[0]}
    if geometry[1] is not None:
        draft["points"] = geometry[1]
    if "bbox" in ann:
        draft["bbox"] = ann["bbox"]
    if "score" in ann:
        draft["score"] = ann["score"]
    extra = {k: v for k, v in ann.items() if k not in _TAKEN}
    if isinstance(extra.get("attributes"), dict):
        draft["attributes"] = extra.pop("attributes")
    track = next((t for k in _TRACK_KEYS if (t := _track(extra.get(k))) is not None), None)
    if track is not None:
        draft["track_id"] = track
        for key in _TRACK_KEYS:
            if _track(extra.get(key)) == track:
                del extra[key]
    if extra:
        draft["extra"] = extra
    return draft


def _track(value: Any) -> str | None:
    """A track id as instance.track_id's text: COCO's are numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= _TRACK_LENGTH:
        return value
    return None


def _geometry(segmentation: Any) -> tuple[str, Any] | str:
    """(kind, points) of a segmentation, or what is wrong with it. None and `[]` are a box:
    the export writes no segmentation for those (pycocotools cannot read an empty one)."""
    if segmentation is None or segmentation == []:
        return "box", None
    if isinstance(segmentation, dict):
        return "segment", segmentation
    if not isinstance(segmentation, list):
        return f"segmentation must be polygons or RLE, not {segmentation!r}"
    polygons = []
    for polygon in segmentation:
        if (
            not isinstance(polygon, list)
            or not polygon
            or len(polygon) % 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in polygon)
        ):
            return f"segmentation: a polygon is a list of x, y numbers, not {polygon!r}"
        polygons.append([[polygon[i], polygon[i + 1]] for i in range(0, len(polygon), 2)])
    return ("polygon", polygons[0]) if len(polygons) == 1 else ("segment", polygons)
