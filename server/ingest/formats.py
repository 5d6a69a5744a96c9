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

from typing import Any

Draft = dict[str, Any]


class FormatError(ValueError):
    """The annotation file itself cannot be read; the message names it and where."""
