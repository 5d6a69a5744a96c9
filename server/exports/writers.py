"""Export: the instances a version holds that match a filter, written as COCO, YOLO, JSONL or
Parquet, streaming.

Rows come from one server-side cursor over instances joined to their file and label at the
version, ordered by file, frame and entity, so each format writes as rows arrive: memory holds
one batch of rows (and, for COCO, the map of image ids), never the export. Filters are the
GraphQL ones: the `query:` text language, compiled by `graphql_schema.filters`.

- `jsonl`: the native import shape, one line per file (`ingest/formats.py`), so an export
  imports again as it is.
- `coco`: detection JSON (`images`, `categories`, `annotations`; polygons as segmentation,
  scores kept for predictions); `pycocotools.COCO` loads it.
- `yolo`: a folder with `classes.txt` and one `labels/<file stem>.txt` per image of normalized
  `class cx cy w h` lines (boxes only: other kinds have no YOLO form and are counted as skipped).
- `parquet`: one row per instance with its file and label names, in row groups of 50,000.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Select, and_, select, text

from trainingdb.graphql_schema.filters.compiler import Compiler
from trainingdb.graphql_schema.filters.fields import INSTANCES
from trainingdb.graphql_schema.filters.query_language import parse_query
from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import Version, resolve
from trainingdb.versioning.visibility import visible

FORMATS = ("coco", "yolo", "jsonl", "parquet")
BATCH = 50_000
_COLUMNS = (
    "entity_id", "file_entity_id", "frame_number", "label_entity_id", "kind", "x", "y", "w",
    "h", "points", "text_start", "text_end", "attributes", "score", "source", "model_run",
    "track_id",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExportResult:
    format: str
    instances: int
    files: int
    labels: int
    skipped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "instances": self.instances,
            "files": self.files,
            "labels": self.labels,
            "skipped": self.skipped,
        }


def _statement(version: Version, query: str | None) -> Select[Any]:
    instance = KINDS[EntityType.INSTANCE].table
    file = KINDS[EntityType.FILE].table.alias("f")
    label = KINDS[EntityType.LABEL].table.alias("l")
    condition = []
    if query:
        flt = parse_query(query, INSTANCES)
        condition.append(Compiler(version).condition(INSTANCES, flt, instance, "export.query"))
    return (
        select(
            *(instance.c[c] for c in _COLUMNS),
            file.c.name.label("file_name"),
            file.c.width.label("file_width"),
            file.c.height.label("file_height"),
            label.c.name.label("label_name"),
        )
        .join(file, and_(file.c.entity_id == instance.c.file_entity_id, visible(file, version)))
        .join(label, and_(label.c.entity_id == instance.c.label_entity_id, visible(label, version)))
        .where(visible(instance, version), *condition)
        .order_by(instance.c.file_entity_id, instance.c.frame_number, instance.c.entity_id)
    )


def rows(conn: Connection, dataset_id: int, ref: str, query: str | None) -> Iterator[Any]:
    """The matching instances at `ref` with their file and label, streamed in batches."""
    version = resolve(conn, dataset_id, ref)
    # Right after a bulk import the new rows have no statistics; the planner then joins a
    # million instances to their files by nested loop (minutes). Hash joins, whatever it
    # believes: this statement reads every matching row anyway.
    conn.execute(text("SELECT set_config('enable_nestloop', 'off', true)"))
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
        _statement(version, query)
    )
    yield from result


def _by_file(stream: Iterator[Any]) -> Iterator[list[Any]]:
    group: list[Any] = []
    for row in stream:
        if group and row.file_entity_id != group[0].file_entity_id:
            yield group
            group = []
        group.append(row)
    if group:
        yield group


def _instance(row: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"label": row.label_name, "kind": row.kind}
    if row.x is not None:
        item["bbox"] = [row.x, row.y, row.w, row.h]
    for key, column in (
        ("points", "points"),
        ("frame", "frame_number"),
        ("text_start", "text_start"),
        ("text_end", "text_end"),
        ("score", "score"),
        ("track_id", "track_id"),
    ):
        if getattr(row, column) is not None:
            item[key] = getattr(row, column)
    if row.attributes:
        item["attributes"] = row.attributes
    return item


def write_jsonl(stream: Iterator[Any], out: BinaryIO) -> ExportResult:
    instances = files = 0
    labels: set[str] = set()
    for group in _by_file(stream):
        out.write(
            orjson.dumps({"file": group[0].file_name, "instances": [_instance(r) for r in group]})
        )
        out.write(b"\n")
        files += 1
        instances += len(group)
        labels.update(r.label_name for r in group)
    return ExportResult("jsonl", instances, files, len(labels))


def write_coco(stream: Iterator[Any], out: BinaryIO) -> ExportResult:
    """COCO JSON in one pass: annotations are written as they come; images and categories,
    which COCO lists by id, follow them (JSON objects are unordered; readers load the whole)."""
    images: dict[uuid.UUID, tuple[int, str, int | None, int | None]] = {}
    categories: dict[str, int] = {}
    out.write(b'{"annotations":[')
    count = 0
    for row in stream:
        image = images.get(row.file_entity_id)
        if image is None:
            image = (len(images) + 1, row.file_name, row.file_width, row.file_height)
            images[row.file_entity_id] = image
        category = categories.setdefault(row.label_name, len(categories) + 1)
        count += 1
        annotation: dict[str, Any] = {
            "id": count,
            "image_id": image[0],
            "category_id": category,
            "iscrowd": int(bool((row.attributes or {}).get("iscrowd"))),
        }
        if row.x is not None:
            annotation["bbox"] = [row.x, row.y, row.w, row.h]
            annotation["area"] = row.w * row.h
        annotation["segmentation"] = _segmentation(row)
        if row.score is not None:
            annotation["score"] = row.score
        if row.frame_number is not None:
            annotation["frame"] = row.frame_number
        out.write((b"," if count > 1 else b"") + orjson.dumps(annotation))
    out.write(b'],"images":[')
    for i, (image_id, name, width, height) in enumerate(images.values()):
        item = {"id": image_id, "file_name": name, "width": width, "height": height}
        out.write((b"," if i else b"") + orjson.dumps(item))
    out.write(b'],"categories":[')
    for i, (name, category_id) in enumerate(categories.items()):
        out.write((b"," if i else b"") + orjson.dumps({"id": category_id, "name": name}))
    out.write(b"]}")
    return ExportResult("coco", count, len(images), len(categories))


def _segmentation(row: Any) -> Any:
    points = row.points
    if row.kind == "polygon" and isinstance(points, list):
        return [[c for pair in points for c in pair]]
    if row.kind == "segment" and isinstance(points, list):
        return [[c for pair in polygon for c in pair] for polygon in points]
    if row.kind == "segment" and isinstance(points, dict):
        return points
    return []


def write_yolo(stream: Iterator[Any], folder: Path) -> ExportResult:
    labels_dir = folder / "labels"
    labels_dir.mkdir(parents=True, exist_ok=True)
    classes: dict[str, int] = {}
    instances = files = skipped = 0
    for group in _by_file(stream):
        first = group[0]
        lines = []
        for row in group:
            if row.kind != "box" or not first.file_width or not first.file_height:
                skipped += 1
                continue
            cls = classes.setdefault(row.label_name, len(classes))
            w, h = first.file_width, first.file_height
            lines.append(
                f"{cls} {(row.x + row.w / 2) / w:.6f} {(row.y + row.h / 2) / h:.6f} "
                f"{row.w / w:.6f} {row.h / h:.6f}"
            )
        if lines:
            stem = Path(first.file_name).with_suffix(".txt")
            target = labels_dir / stem
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(lines) + "\n")
            files += 1
            instances += len(lines)
    (folder / "classes.txt").write_text("".join(f"{name}\n" for name in classes))
    return ExportResult("yolo", instances, files, len(classes), skipped)


_PARQUET = pa.schema(
    [
        ("id", pa.string()),
        ("file", pa.string()),
        ("frame_number", pa.int64()),
        ("label", pa.string()),
        ("kind", pa.string()),
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("w", pa.float64()),
        ("h", pa.float64()),
        ("points", pa.string()),
        ("attributes", pa.string()),
        ("score", pa.float64()),
        ("source", pa.string()),
        ("model_run", pa.string()),
        ("track_id", pa.string()),
    ]
)


def write_parquet(stream: Iterator[Any], out: BinaryIO) -> ExportResult:
    """Columns are gathered as lists per batch (row dicts cost three times as much)."""
    instances = 0
    files: set[uuid.UUID] = set()
    labels: set[str] = set()
    names = _PARQUET.names
    with pq.ParquetWriter(out, _PARQUET) as writer:
        columns: list[list[Any]] = [[] for _ in names]
        (ids, file, frame, label, kind, x, y, w, h, points, attrs, score, source, run, track) = (
            columns
        )
        for row in stream:
            ids.append(str(row.entity_id))
            file.append(row.file_name)
            frame.append(row.frame_number)
            label.append(row.label_name)
            kind.append(row.kind)
            x.append(row.x)
            y.append(row.y)
            w.append(row.w)
            h.append(row.h)
            points.append(None if row.points is None else orjson.dumps(row.points).decode())
            attrs.append(orjson.dumps(row.attributes).decode())
            score.append(row.score)
            source.append(row.source)
            run.append(row.model_run)
            track.append(row.track_id)
            files.add(row.file_entity_id)
            labels.add(row.label_name)
            if len(ids) == BATCH:
                writer.write_table(pa.Table.from_arrays(columns, schema=_PARQUET))
                instances += len(ids)
                for values in columns:
                    values.clear()
        if ids or instances == 0:
            writer.write_table(pa.Table.from_arrays(columns, schema=_PARQUET))
            instances += len(ids)
    return ExportResult("parquet", instances, len(files), len(labels))


def export(
    conn: Connection,
    dataset_id: int,
    ref: str,
    fmt: str,
    target: Path,
    query: str | None = None,
) -> ExportResult:
    """export: the instances at `ref` matching `query`, as `fmt`, to `target` (a file; a folder
    for yolo); streaming."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    stream = rows(conn, dataset_id, ref, query)
    if fmt == "yolo":
        return write_yolo(stream, target)
    with target.open("wb") as out:
        if fmt == "coco":
            return write_coco(stream, out)
        if fmt == "parquet":
            return write_parquet(stream, out)
        return write_jsonl(stream, out)
