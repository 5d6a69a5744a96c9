"""Export: the instances a version holds that match a filter, written as COCO, YOLO, JSONL or
Parquet, streaming. `rows.py` reads them; one module per format writes them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection

from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.versions import resolve

from .coco import write_coco
from .jsonl import write_jsonl
from .parquet import write_parquet
from .rows import ExportResult, Slice
from .yolo import write_yolo

FORMATS = ("coco", "yolo", "jsonl", "parquet")
__all__ = ["FORMATS", "ExportResult", "export"]


def export(
    conn: Connection,
    dataset_id: int,
    ref: str,
    fmt: str,
    target: Path,
    query: str | None = None,
) -> ExportResult:
    """export: the instances at `ref` matching `query`, as `fmt`, to `target` (a file; a folder
    for yolo); streaming. Without `query`, the whole version: files and frames with no
    instance too, where the format can say so."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    sl = Slice(conn, resolve(conn, dataset_id, ref), query)
    if fmt == "yolo":
        return write_yolo(sl, target)
    with target.open("wb") as out:
        if fmt == "coco":
            return write_coco(sl, out)
        if fmt == "parquet":
            return write_parquet(sl.instances(), out)
        return write_jsonl(sl, out)
