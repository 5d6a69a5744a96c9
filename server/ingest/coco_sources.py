"""What a COCO import keeps beside its instances, for its export to write back.

- a category's keys but `name` → its label's `metadata.coco` (`id`, `supercategory`, ...);
- an image's keys but `file_name` (and `width`/`height` when they are the file's) → its
  file's `metadata.coco.image` (`id`, `license`, `coco_url`, `date_captured`, ...);
- a COCO-video video's keys but `file_name` (and `name`, `width`, `height` when they are what
  the export would write) → its file's `metadata.coco.video`;
- a frame image's keys but `video_id`, `frame_id` (and `file_name`, `width`, `height` when
  conventional) → the frame's row, `metadata.coco.image`;
- every other top-level key (`info`, `licenses`, ...) → a source document, named by its digest
  in each listed file's `metadata.coco.document`.

An import replaces the `coco` entry of what it lists: the latest import is what exports write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from .coco import frame_number, id_key
from .coco_head import read_head
from .conventions import frame_image, video_stem
from .formats import branch_name, stem_index, without_media_prefix
from .kept import Kept, SizedFacts


def document_digest(content: Mapping[str, Any]) -> str:
    """The sha256 of a document as canonical JSON: equal documents, one digest."""
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _conventional(given: Any, expected: str) -> bool:
    return isinstance(given, str) and without_media_prefix(given) == without_media_prefix(expected)


def _without_size(item: dict[str, Any], facts: SizedFacts) -> dict[str, Any]:
    """`item` without `width`/`height` where they are the file's own (the export writes those)."""
    return {
        k: v
        for k, v in item.items()
        if not (k == "width" and v == facts.width) and not (k == "height" and v == facts.height)
    }


def coco_kept(path: Path, files: Mapping[str, SizedFacts]) -> Kept:
    """What the COCO file at `path` says beyond its annotations (module docstring), with an
    error for each image or video that names no file on the branch."""
    head = read_head(path)
    kept = Kept()
    if head.results:
        return kept
    digest = None
    if head.document and kept.storable(f"{path.name} (its top level)", head.document):
        digest = document_digest(head.document)
        kept.documents[digest] = ("coco", head.document)
    for i, category in enumerate(head.categories):
        where = f"{path.name} categories[{i}]"
        if (
            isinstance(category, dict)
            and isinstance(category.get("name"), str)
            and kept.storable(where, category)
        ):
            source = {k: v for k, v in category.items() if k != "name"}
            kept.labels.setdefault(category["name"], {"coco": source})
    coco: dict[str, dict[str, Any]] = {}
    videos = _videos(path.name, head.videos, files, kept, coco)
    for i, image in enumerate(head.images):
        where = f"{path.name} images[{i}]"
        if not isinstance(image, dict):
            kept.error(where, "an image must be an object")
        elif not kept.storable(where, image):
            continue
        elif "video_id" in image:
            _frame(where, image, videos, files, kept)
        else:
            name = image.get("file_name")
            found = branch_name(files, name) if isinstance(name, str) else None
            if found is None:
                kept.error(where, f"no file named {name!r} on the branch")
                continue
            source = {k: v for k, v in image.items() if k != "file_name"}
            coco.setdefault(found, {})["image"] = _without_size(source, files[found])
    for name, entry in coco.items():
        if digest is not None:
            entry["document"] = digest
        kept.files[name] = {"coco": entry}
    return kept


def _videos(
    source: str,
    videos: list[Any],
    files: Mapping[str, SizedFacts],
    kept: Kept,
    coco: dict[str, dict[str, Any]],
) -> dict[Any, str]:
    """The branch's video for each COCO-video video id, keeping each video's own keys."""
    found: dict[Any, str] = {}
    index: dict[str, list[str]] | None = None
    for i, video in enumerate(videos):
        where = f"{source} videos[{i}]"
        if not isinstance(video, dict):
            kept.error(where, "a video must be an object")
            continue
        if not kept.storable(where, video):
            continue
        name: str | None = None
        if isinstance(video.get("file_name"), str):
            name = branch_name(files, video["file_name"])
        elif isinstance(video.get("name"), str):
            index = index if index is not None else stem_index(files)
            named = [n for n in index.get(video["name"], []) if files[n].frame_count is not None]
            name = named[0] if len(named) == 1 else None
        if name is None or files[name].frame_count is None:
            given = video.get("file_name", video.get("name"))
            kept.error(where, f"no video named {given!r} on the branch")
            continue
        own = {k: v for k, v in video.items() if k != "file_name"}
        if _conventional(own.get("name"), video_stem(name)):
            del own["name"]
        coco.setdefault(name, {})["video"] = _without_size(own, files[name])
        if id_key(video.get("id")) is not None:
            found[id_key(video["id"])] = name
    return found


def _frame(
    where: str,
    image: dict[str, Any],
    videos: Mapping[Any, str],
    files: Mapping[str, SizedFacts],
    kept: Kept,
) -> None:
    name = videos.get(id_key(image["video_id"]))
    if name is None:
        kept.error(where, f"video_id {image['video_id']!r} is not a video on the branch")
        return
    frame = frame_number(image)
    count = files[name].frame_count or 0
    if frame is None or frame >= count:
        kept.error(where, f"frame {frame!r} is not one of the {count} frames of {name!r}")
        return
    own = {k: v for k, v in image.items() if k not in ("video_id", "frame_id")}
    if _conventional(own.get("file_name"), frame_image(name, frame)):
        del own["file_name"]
    kept.frames[(name, frame)] = {"coco": {"image": _without_size(own, files[name])}}
