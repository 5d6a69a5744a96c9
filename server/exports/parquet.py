"""Parquet export: one row per instance with its file and label names, in row groups of
50,000."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from .rows import BATCH, ExportResult

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
        ("extra", pa.string()),
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
            columns[:15]
        )
        extra = columns[15]
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
            extra.append(None if row.extra is None else orjson.dumps(row.extra).decode())
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
