"""Entity nodes shaped as JSON by PostgreSQL, keyed by response keys, at one version.

`Shaper.node(type, picked, row)` is the JSON text of one object over a row source holding the
entity's columns (`json_text.py`): one pair per selected response key, scalar fields print their
column, related entities are correlated subqueries at the same version (`label`, `file`: one
object; a file's or a frame's `instances`: an ordered, limited list). However deep the
selection, a list of entities is one statement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Text,
    and_,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import Version
from trainingdb.versioning.visibility import visible

from .filters.ast import And, Filter
from .filters.compiler import Compiler
from .filters.fields import FILES, INSTANCES, LABELS, Field, Target
from .filters.inputs import to_filter
from .filters.query_language import parse_query
from .global_ids import VERSIONED, sql_global_id
from .json_text import Json, array_of, as_json, joined, obj, text_literal
from .links import BlobLinks
from .selection import Picked

# PostgreSQL functions take at most 100 arguments: 50 key/value pairs per object.
MAX_KEYS = 50
MAX_PAGE = 10_000
DEFAULT_PAGE = 100

Builder = Callable[["Shaper", Picked, FromClause], ColumnElement[Any]]


def column(name: str) -> Builder:
    return lambda shaper, picked, row: as_json(row.c[name])


def _typename(type_name: str) -> Builder:
    return lambda shaper, picked, row: text_literal(f'"{type_name}"')


@dataclass
class Shaper:
    """Builds JSON expressions for one version; numbers the aliases of one statement."""

    version: Version
    links: BlobLinks | None = None
    aliases: int = field(default=0)

    @property
    def compiler(self) -> Compiler:
        return Compiler(self.version)

    def alias(self, entity: EntityType) -> FromClause:
        self.aliases += 1
        return KINDS[entity].table.alias(f"{entity.value}_{self.aliases}")

    def node(self, type_name: str, picked: tuple[Picked, ...], row: FromClause) -> Json:
        """JSON text of the object `picked` selects over `row`, a source of `type_name` rows."""
        if len(picked) > MAX_KEYS:
            raise InvalidInputError(
                f"{type_name}: select at most {MAX_KEYS} fields of one object, not {len(picked)}"
            )
        builders = NODE_FIELDS[type_name]
        pairs: list[tuple[str, Json]] = []
        for p in picked:
            build = _typename(type_name) if p.name == "__typename" else builders[p.name]
            pairs.append((p.key, build(self, p, row)))
        return obj(pairs)

    def filter_of(self, target: Target, args: dict[str, Any], at: str) -> Filter:
        """The `where:` and `query:` arguments of a field, ANDed."""
        parts = [to_filter(target, args.get("where"), f"{at}.where")]
        if args.get("query"):
            parts.append(parse_query(args["query"], target))
        return And(tuple(parts))


def _related_one(target: Target, local: str) -> Builder:
    """The one `target` entity whose id is in column `local` of the row, at the same version."""

    def build(shaper: Shaper, picked: Picked, row: FromClause) -> ColumnElement[Any]:
        other = shaper.alias(target.entity)
        found = (
            select(shaper.node(_TYPE[target.name], picked.children, other))
            .where(visible(other, shaper.version), other.c.entity_id == row.c[local])
            .scalar_subquery()
        )
        return func.coalesce(found, text_literal("null"), type_=Text)

    return build


def page_size(first: int | None, where: str) -> int:
    if first is None:
        return DEFAULT_PAGE
    if not 0 <= first <= MAX_PAGE:
        raise InvalidInputError(f"{where}: first must be between 0 and {MAX_PAGE}, not {first}")
    return first


def order_fields(
    target: Target, order_by: list[dict[str, Any]] | None, at: str
) -> list[tuple[Field, bool]]:
    """orderBy as (field, descending) pairs; the entity id always ends the key (ties, cursors)."""
    keys: list[tuple[Field, bool]] = []
    for i, item in enumerate(order_by or ()):
        name = getattr(item["field"], "value", item["field"])
        keys.append((target.field(name, f"{at}.orderBy[{i}]"), _is_desc(item.get("direction"))))
    return keys


def _is_desc(direction: object) -> bool:
    # Coerced enum arguments arrive as the enum member or its value, depending on the path.
    return str(getattr(direction, "value", direction)).lower() == "desc"


def sort_columns(
    row: FromClause, keys: list[tuple[Field, bool]], id_column: str = "entity_id"
) -> list[Any]:
    """ORDER BY terms: each key nulls last, then the entity id."""
    terms = [
        (row.c[f.column].desc() if desc else row.c[f.column].asc()).nulls_last() for f, desc in keys
    ]
    terms.append(row.c[id_column].asc())
    return terms


def _to_many_instances(local: str, remote: str, frame: bool = False) -> Builder:
    """A list of the instances of a file (or of a frame: same file and frame number)."""

    def build(shaper: Shaper, picked: Picked, row: FromClause) -> ColumnElement[Any]:
        other = shaper.alias(EntityType.INSTANCE)
        at = f"{picked.key}"
        flt = shaper.filter_of(INSTANCES, picked.args, at)
        keys = order_fields(
            INSTANCES, picked.args.get("order_by") or picked.args.get("orderBy"), at
        )
        first = page_size(picked.args.get("first"), f"{at}.first")
        match = other.c[remote] == row.c[local]
        if frame:
            match = and_(match, other.c.frame_number == row.c.frame_number)
        limited = (
            select(other)
            .where(
                visible(other, shaper.version),
                match,
                shaper.compiler.condition(INSTANCES, flt, other, f"{at}.where"),
            )
            .order_by(*sort_columns(other, keys))
            .limit(first)
            # A derived table in the scalar subquery: it must see the outer row, not join it.
            .correlate(row)
            .subquery(f"list_{shaper.aliases}")
        )
        node = shaper.node("Instance", picked.children, limited)
        items = select(joined(node, sort_columns(limited, keys))).scalar_subquery()
        return array_of(items)

    return build


def _count_instances(local: str, remote: str, frame: bool = False) -> Builder:
    def build(shaper: Shaper, picked: Picked, row: FromClause) -> ColumnElement[Any]:
        other = shaper.alias(EntityType.INSTANCE)
        flt = shaper.filter_of(INSTANCES, picked.args, picked.key)
        match = other.c[remote] == row.c[local]
        if frame:
            match = and_(match, other.c.frame_number == row.c.frame_number)
        counted = (
            select(func.count())
            .where(
                visible(other, shaper.version),
                match,
                shaper.compiler.condition(INSTANCES, flt, other, picked.key),
            )
            .scalar_subquery()
        )
        return as_json(counted)

    return build


def _frame_row(name: str, default: Any) -> Builder:
    """A field of the frame's own row (timestamp, metadata), if the frame has one."""

    def build(shaper: Shaper, picked: Picked, row: FromClause) -> ColumnElement[Any]:
        frame = shaper.alias(EntityType.FRAME)
        value = (
            select(frame.c[name])
            .where(
                visible(frame, shaper.version),
                frame.c.file_entity_id == row.c.file_entity_id,
                frame.c.frame_number == row.c.frame_number,
            )
            .scalar_subquery()
        )
        return as_json(value if default is None else func.coalesce(value, default))

    return build


_TYPE = {"labels": "Label", "files": "File", "instances": "Instance"}
_LABEL_SCALARS = {
    "id": "entity_id",
    "name": "name",
    "color": "color",
    "description": "description",
    "attributeSchema": "attribute_schema",
    "metadata": "metadata",
    "createdAt": "created_at",
}


def _version(shaper: Shaper, picked: Picked, row: FromClause) -> Json:
    """The ref the statement reads at, as a JSON string (a bound parameter)."""
    return text_literal(orjson.dumps(shaper.version.ref).decode())


def _node_id(type_name: str) -> Builder:
    """The Relay global id (`global_ids.py`) built by PostgreSQL: a File's or an Instance's
    names the ref the statement reads at, as `version` prints it."""

    def build(shaper: Shaper, picked: Picked, row: FromClause) -> Json:
        version = shaper.version.ref if type_name in VERSIONED else None
        return sql_global_id(type_name, row.c.entity_id, version)

    return build


def _model_run(shaper: Shaper, picked: Picked, row: FromClause) -> Json:
    """The model run a prediction came from, as a reference to the models team's subgraph
    entity (its id alone); null for what no model made."""
    pairs = [
        (p.key, text_literal('"ModelRun"') if p.name == "__typename" else as_json(row.c.model_run))
        for p in picked.children
    ]
    return case((row.c.model_run.is_(None), text_literal("null")), else_=obj(pairs))


def _file_url(shaper: Shaper, picked: Picked, row: FromClause) -> Json:
    """A signed link to the file's bytes, when the server serves blobs; else null."""
    if shaper.links is None:
        return text_literal("null")
    return shaper.links.sql_url(row.c.blob_sha256)


_FILE_SCALARS = {
    "id": "entity_id",
    "name": "name",
    "blobSha256": "blob_sha256",
    "mediaType": "media_type",
    "width": "width",
    "height": "height",
    "fps": "fps",
    "frameCount": "frame_count",
    "duration": "duration",
    "metadata": "metadata",
    "author": "author",
    "createdAt": "created_at",
}
_INSTANCE_SCALARS = {
    "id": "entity_id",
    "fileId": "file_entity_id",
    "frameNumber": "frame_number",
    "labelId": "label_entity_id",
    "kind": "kind",
    "x": "x",
    "y": "y",
    "w": "w",
    "h": "h",
    "area": "area",
    "points": "points",
    "textStart": "text_start",
    "textEnd": "text_end",
    "attributes": "attributes",
    "score": "score",
    "source": "source",
    "modelRun": "model_run",
    "trackId": "track_id",
    "author": "author",
    "extra": "extra",
    "createdAt": "created_at",
}

# Entity content columns by GraphQL field name, per kind (history and diff content use them too).
SCALAR_COLUMNS: dict[EntityType, dict[str, str]] = {
    EntityType.LABEL: _LABEL_SCALARS,
    EntityType.FILE: _FILE_SCALARS,
    EntityType.INSTANCE: _INSTANCE_SCALARS,
    EntityType.FRAME: {
        "fileId": "file_entity_id",
        "frameNumber": "frame_number",
        "timestamp": "timestamp",
        "imageSha256": "image_sha256",
        "metadata": "metadata",
    },
}

NODE_FIELDS: dict[str, dict[str, Builder]] = {
    "Label": {**{k: column(c) for k, c in _LABEL_SCALARS.items()}, "nodeId": _node_id("Label")},
    "File": {
        **{k: column(c) for k, c in _FILE_SCALARS.items()},
        "instances": _to_many_instances("entity_id", "file_entity_id"),
        "instanceCount": _count_instances("entity_id", "file_entity_id"),
        "url": _file_url,
        "version": _version,
        "nodeId": _node_id("File"),
    },
    "Instance": {
        **{k: column(c) for k, c in _INSTANCE_SCALARS.items()},
        "modelRun": _model_run,
        "label": _related_one(LABELS, "label_entity_id"),
        "file": _related_one(FILES, "file_entity_id"),
        "version": _version,
        "nodeId": _node_id("Instance"),
    },
    "Frame": {
        "fileId": column("file_entity_id"),
        "frameNumber": column("frame_number"),
        "timestamp": _frame_row("timestamp", None),
        "metadata": _frame_row("metadata", literal({}, JSONB)),
        "file": _related_one(FILES, "file_entity_id"),
        "instances": _to_many_instances("file_entity_id", "file_entity_id", frame=True),
        "instanceCount": _count_instances("file_entity_id", "file_entity_id", frame=True),
    },
}
