"""The rows an export reads: the instances a version holds that match a filter, joined to their
file and label, from one server-side cursor ordered by file, frame and entity, so each format
writes as rows arrive (memory holds one batch, never the export). Filters are the GraphQL ones:
the `query:` text language, compiled by `graphql_schema.filters`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, select, text

from trainingdb.graphql_schema.filters.compiler import Compiler
from trainingdb.graphql_schema.filters.fields import INSTANCES
from trainingdb.graphql_schema.filters.query_language import parse_query
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import Version, resolve
from trainingdb.versioning.visibility import visible

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


def by_file(stream: Iterator[Any]) -> Iterator[list[Any]]:
    group: list[Any] = []
    for row in stream:
        if group and row.file_entity_id != group[0].file_entity_id:
            yield group
            group = []
        group.append(row)
    if group:
        yield group
