"""COCO export: detection/segmentation JSON, COCO-video for videos; `pycocotools.COCO` loads it.

What an import kept is written back (ids.py, docs/INGEST.md "What each format keeps"):
categories with their source ids and keys, images with theirs, annotations with `extra`
(id, area, iscrowd, a producer's keys), and the documents (`info`, `licenses`) of the files
exported. Videos follow CocoVID (mmtracking; TAO alike): each in `videos`, each frame an image
with `video_id`, `frame_id` and the name `<video stem>/<frame:06d>.jpg` (ingest/conventions.py).

The output is written in one pass over each query: images (and the videos, few, gathered
before), categories, annotations as they stream, then the documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from trainingdb.server.ingest.conventions import frame_image, video_stem
from trainingdb.versioning.models import MediaType

from .coco_annotations import annotation, annotation_ids
from .coco_documents import documents
from .coco_images import image_ids, images, videos
from .ids import Ids
from .rows import ExportResult, Slice


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _coco(metadata: Any, key: str) -> dict[str, Any]:
    """`metadata.coco.<key>`, the source keys an import kept, or {}."""
    return _object(_object(_object(metadata).get("coco")).get(key))


def _with_kept(entry: dict[str, Any], kept: dict[str, Any], derived: tuple[str, ...]) -> None:
    """`entry` with the kept keys added; `derived` ones stay the export's own."""
    entry.update((k, v) for k, v in kept.items() if k not in derived)


def categories(labels: list[Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every label as a category (kept id and keys), and the category id of each name."""
    kept_all = [_object(_object(label.metadata).get("coco")) for label in labels]
    ids = Ids.of(kept.get("id") for kept in kept_all)
    found: list[dict[str, Any]] = []
    for label, kept in zip(labels, kept_all, strict=True):
        entry = {"id": ids.take(kept.get("id")), "name": label.name}
        _with_kept(entry, kept, ("id", "name"))
        found.append(entry)
    return found, {c["name"]: c["id"] for c in found}


def write_coco(sl: Slice, out: BinaryIO) -> ExportResult:
    labels, category_of = categories(sl.labels())
    video_rows = videos(sl)
    vids = Ids.of(_coco(r.metadata, "video").get("id") for r in video_rows)
    video_list: list[dict[str, Any]] = []
    video_of: dict[Any, Any] = {}
    for row in video_rows:
        kept = _coco(row.metadata, "video")
        entry = {
            "id": vids.take(kept.get("id")),
            "file_name": row.name,
            "name": video_stem(row.name),
            "width": row.width,
            "height": row.height,
        }
        _with_kept(entry, kept, ("id", "file_name"))
        video_list.append(entry)
        video_of[row.entity_id] = entry["id"]
    out.write(b'{"images":[')
    image_of, digests, files = _write_images(images(sl), image_ids(sl), video_of, out)
    out.write(b"]")
    if video_list:
        out.write(b',"videos":' + orjson.dumps(video_list))
    out.write(b',"categories":' + orjson.dumps(labels) + b',"annotations":[')
    instance_ids = annotation_ids(sl)
    count = skipped = 0
    for row in sl.instances():
        image_id = image_of.get((row.file_entity_id, row.frame_number))
        if image_id is None:  # a frame of a file that is no video: nothing to put it on
            skipped += 1
            continue
        video_id = video_of.get(row.file_entity_id) if row.frame_number is not None else None
        item = annotation(row, instance_ids, image_id, category_of[row.label_name], video_id)
        out.write((b"," if count else b"") + orjson.dumps(item))
        count += 1
    out.write(b"]")
    for key, value in documents(sl.conn, sl.version.dataset_id, digests):
        out.write(b"," + orjson.dumps(key) + b":" + orjson.dumps(value))
    out.write(b"}")
    return ExportResult("coco", count, files, len(labels), skipped)


def _write_images(
    rows: Iterator[Any], ids: Ids, video_of: dict[Any, Any], out: BinaryIO
) -> tuple[dict[tuple[Any, int | None], Any], set[str], int]:
    """Write the image entries; their ids by (file, frame), the documents named, and the
    number of files."""
    image_of: dict[tuple[Any, int | None], Any] = {}
    digests: set[str] = set()
    files: set[Any] = set()
    for row in rows:
        entry = _image(row, ids, video_of)
        digest = _object(_object(row.metadata).get("coco")).get("document")
        if isinstance(digest, str):
            digests.add(digest)
        if entry is None:
            continue
        files.add(row.entity_id)
        out.write((b"," if image_of else b"") + orjson.dumps(entry))
        image_of[(row.entity_id, row.frame)] = entry["id"]
    return image_of, digests, len(files | set(video_of))


def _image(row: Any, ids: Ids, video_of: dict[Any, Any]) -> dict[str, Any] | None:
    """The image entry of an image key, or None for a key COCO lists no image for (a bare
    file that is no image, a video without instances on it as a whole)."""
    if row.frame is None:
        if not row.annotated and row.media_type != MediaType.IMAGE.value:
            return None
        kept = _coco(row.metadata, "image")
        entry = {"id": ids.take(kept.get("id")), "file_name": row.name}
    elif row.entity_id in video_of:
        kept = _coco(row.frame_metadata, "image")
        entry = {
            "id": ids.take(kept.get("id")),
            "video_id": video_of[row.entity_id],
            "frame_id": row.frame,
            "file_name": frame_image(row.name, row.frame),
        }
    else:
        return None
    entry["width"], entry["height"] = row.width, row.height
    derived = ("id", "file_name") if row.frame is None else ("id", "video_id", "frame_id")
    _with_kept(entry, kept, derived)
    return entry
