"""JSONL export: the native import shape (`ingest/formats.py` describes it), one line per
file, so an export imports again as it is. A whole version's files with no instance are lines
with no instances."""

from __future__ import annotations

from typing import Any, BinaryIO

import orjson

from .rows import ExportResult, Slice, by_file

_OPTIONAL = (
    ("points", "points"),
    ("frame", "frame_number"),
    ("text_start", "text_start"),
    ("text_end", "text_end"),
    ("score", "score"),
    ("track_id", "track_id"),
    ("extra", "extra"),
)


def _instance(row: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"label": row.label_name, "kind": row.kind}
    if row.x is not None:
        item["bbox"] = [row.x, row.y, row.w, row.h]
    for key, column in _OPTIONAL:
        if getattr(row, column) is not None:
            item[key] = getattr(row, column)
    if row.attributes:
        item["attributes"] = row.attributes
    return item


def write_jsonl(sl: Slice, out: BinaryIO) -> ExportResult:
    instances = files = 0
    labels: set[str] = set()
    for group in by_file(sl.instances()):
        out.write(
            orjson.dumps({"file": group[0].file_name, "instances": [_instance(r) for r in group]})
        )
        out.write(b"\n")
        files += 1
        instances += len(group)
        labels.update(r.label_name for r in group)
    for row in sl.bare():
        if row.frame_number is None:
            out.write(orjson.dumps({"file": row.file_name, "instances": []}) + b"\n")
            files += 1
    return ExportResult("jsonl", instances, files, len(labels))
