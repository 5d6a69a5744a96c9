"""The rows an export reads: the instances a version holds that match a filter, joined to their
file and label, from one server-side cursor ordered by file, frame and entity, so each format
writes as rows arrive (memory holds one batch, never the export). Filters are the GraphQL ones:
the `query:` text language, compiled by `graphql_schema.filters`.

Without a query an export is the whole version: files and frames nobody annotated are part of
it (`bare`). A query selects instances, so an export of a slice holds the files it touches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, exists, literal, null, select, text, union_all
from sqlalchemy.sql.elements import ColumnElement

from trainingdb.graphql_schema.filters.compiler import Compiler
from trainingdb.graphql_schema.filters.fields import INSTANCES
from trainingdb.graphql_schema.filters.query_language import parse_query
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import Version
from trainingdb.versioning.visibility import visible

BATCH = 50_000
_COLUMNS = (
    "entity_id", "file_entity_id", "frame_number", "label_entity_id", "kind", "x", "y", "w",
    "h", "points", "text_start", "text_end", "attributes", "score", "source", "model_run",
    "track_id", "extra",
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


@dataclass(frozen=True, slots=True)
class Slice:
    """What one export reads: `version`, and the instances matching `query` (all if None)."""

    conn: Connection
    version: Version
    query: str | None

    @property
    def whole(self) -> bool:
        return not self.query

    def matching(self) -> list[ColumnElement[bool]]:
        """The conditions, on the instance table itself, of the instances exported."""
        instance = KINDS[EntityType.INSTANCE].table
        conditions = [visible(instance, self.version)]
        if self.query:
            flt = parse_query(self.query, INSTANCES)
            conditions.append(
                Compiler(self.version).condition(INSTANCES, flt, instance, "export.query")
            )
        return conditions

    def stream(self, statement: Select[Any]) -> Iterator[Any]:
        result = self.conn.execution_options(stream_results=True, yield_per=BATCH).execute(
            statement
        )
        yield from result

    def instances(self) -> Iterator[Any]:
        """The matching instances with their file and label, streamed in batches."""
        # Right after a bulk import the new rows have no statistics; the planner then joins a
        # million instances to their files by nested loop (minutes). Hash joins, whatever it
        # believes: this statement reads every matching row anyway.
        self.conn.execute(text("SELECT set_config('enable_nestloop', 'off', true)"))
        return self.stream(self._instances())

    def _instances(self) -> Select[Any]:
        instance = KINDS[EntityType.INSTANCE].table
        file = KINDS[EntityType.FILE].table.alias("f")
        label = KINDS[EntityType.LABEL].table.alias("l")
        version = self.version
        return (
            select(
                *(instance.c[c] for c in _COLUMNS),
                file.c.name.label("file_name"),
                file.c.width.label("file_width"),
                file.c.height.label("file_height"),
                file.c.media_type.label("file_media_type"),
                label.c.name.label("label_name"),
            )
            .join(file, and_(file.c.entity_id == instance.c.file_entity_id, visible(file, version)))
            .join(
                label,
                and_(label.c.entity_id == instance.c.label_entity_id, visible(label, version)),
            )
            .where(*self.matching())
            .order_by(instance.c.file_entity_id, instance.c.frame_number, instance.c.entity_id)
        )

    def labels(self) -> list[Any]:
        """Every label at the version (the ontology, whatever the slice), by name."""
        label = KINDS[EntityType.LABEL].table
        return list(
            self.conn.execute(
                select(label.c.entity_id, label.c.name, label.c["metadata"])
                .where(visible(label, self.version))
                .order_by(label.c.name)
            )
        )

    def bare(self) -> Iterator[Any]:
        """Of a whole version, the files no instance is on (`frame_number` NULL) and the frame
        rows no instance is on, by file and frame; nothing for a slice."""
        if not self.whole:
            return iter(())
        version = self.version
        file = KINDS[EntityType.FILE].table.alias("f")
        frame = KINDS[EntityType.FRAME].table.alias("fr")
        instance = KINDS[EntityType.INSTANCE].table.alias("i")
        on_file = [instance.c.file_entity_id == file.c.entity_id, visible(instance, version)]
        files = select(file.c.entity_id.label("file_id"), null().label("frame")).where(
            visible(file, version), ~exists().where(*on_file)
        )
        frames = (
            select(frame.c.file_entity_id, frame.c.frame_number)
            .join(file, and_(file.c.entity_id == frame.c.file_entity_id, visible(file, version)))
            .where(
                visible(frame, version),
                ~exists().where(*on_file, instance.c.frame_number == frame.c.frame_number),
            )
        )
        keys = union_all(files, frames).subquery("k")
        named = KINDS[EntityType.FILE].table.alias("n")
        return self.stream(
            select(
                keys.c.file_id.label("file_entity_id"),
                keys.c.frame.label("frame_number"),
                named.c.name.label("file_name"),
                named.c.media_type.label("file_media_type"),
                literal(True).label("bare"),
            )
            .join(named, and_(named.c.entity_id == keys.c.file_id, visible(named, version)))
            .order_by(keys.c.file_id, keys.c.frame.nulls_first())
        )


def by_file(stream: Iterator[Any]) -> Iterator[list[Any]]:
    group: list[Any] = []
    for row in stream:
        if group and row.file_entity_id != group[0].file_entity_id:
            yield group
            group = []
        group.append(row)
    if group:
        yield group


def by_frame(stream: Iterator[Any]) -> Iterator[list[Any]]:
    """Rows grouped by (file, frame): a still's instances, or one frame's."""
    group: list[Any] = []
    for row in stream:
        if group and (row.file_entity_id, row.frame_number) != (
            group[0].file_entity_id,
            group[0].frame_number,
        ):
            yield group
            group = []
        group.append(row)
    if group:
        yield group
