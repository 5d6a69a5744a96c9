"""Annotation files read as a stream of drafts: one dict per instance, in the native shape.

Native shape (JSONL, one object per line; a line is one file's instances, or one instance):

    {"file": "img/0001.jpg", "instances": [
        {"label": "car", "kind": "box", "bbox": [x, y, w, h], "score": 0.91,
         "attributes": {"occluded": false}},
        {"label": "person", "kind": "keypoints", "bbox": [...], "points": [[x, y], ...]},
        {"label": "car", "kind": "box", "bbox": [...], "frame": 12, "track_id": "t3"}]}

Keys of an instance: `label` (a name), `kind` (default `box`), `bbox` ([x, y, w, h] in pixels,
or `x`, `y`, `w`, `h`), `points`, `frame`, `text_start`, `text_end`, `score`, `attributes`,
`track_id`, `extra` (a JSON object of source fields with no key here, written back on export).
COCO detection/segmentation JSON (ground truth, or a results file with `score`) and YOLO are
converted to the same drafts. Each draft carries `record`: where it came from
(`labels.jsonl:12`, `annotations[40]`), for error messages. A draft names its file by `file`
(its name) or `stem` (its name without extension); `frame` picks a video's frame.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any, Protocol

from .conventions import frame_of_stem, video_stem

Draft = dict[str, Any]

# The folders a checkout puts media in (client/checkout_formats.py): an annotation file written
# beside them names `images/a.jpg` for the branch's `a.jpg`.
MEDIA_PREFIXES = ("images/", "media/")


class FormatError(ValueError):
    """The annotation file itself cannot be read; the message names it and where."""


def branch_name(names: Container[str], name: str) -> str | None:
    """The file on the branch that `name` means: itself, else `name` without a checkout's
    media folder (`images/a.jpg` is `a.jpg`); None if neither is there."""
    if name in names:
        return name
    for prefix in MEDIA_PREFIXES:
        if name.startswith(prefix) and name[len(prefix) :] in names:
            return name[len(prefix) :]
    return None


def without_media_prefix(name: str) -> str:
    """`name` without a checkout's media folder in front, if it has one."""
    for prefix in MEDIA_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


class Facts(Protocol):
    """What stem lookups need of a file on the branch."""

    @property
    def frame_count(self) -> int | None: ...


def stem_index(files: Mapping[str, Facts]) -> dict[str, list[str]]:
    """The branch's file names by their name without extension, with and without a
    checkout's media folder (a YOLO label file names its image so)."""
    index: dict[str, list[str]] = {}
    for name in files:
        stem = video_stem(name)
        for key in dict.fromkeys((stem, without_media_prefix(stem))):
            index.setdefault(key, []).append(name)
    return index


def find_stem(
    files: Mapping[str, Facts], index: Mapping[str, list[str]], stem: str
) -> tuple[str, int | None]:
    """(file name, frame) that `stem` names: a file by its name without extension, else a frame
    of a video (`cam1/drive/000012` is frame 12 of `cam1/drive.mp4`, conventions.py); a
    LookupError saying why when it names no file, or several."""
    found = index.get(stem, [])
    if len(found) == 1:
        return found[0], None
    if not found and (frame := frame_of_stem(stem)) is not None:
        found = [n for n in index.get(frame[0], []) if files[n].frame_count is not None]
        if len(found) == 1:
            return found[0], frame[1]
    why = "no file" if not found else f"{len(found)} files ({', '.join(found)})"
    raise LookupError(f"{why} on the branch named {stem}.*")
