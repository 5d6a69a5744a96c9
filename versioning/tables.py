"""The versioned entity kinds: their tables, content fields, defaults and required fields.

Content is what a user wrote; two revisions with equal content are the same state of the entity.
Revision bookkeeping (row_id, branch_id, seqs, created_at) and computed columns are not content.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table

from .checks import check_content
from .errors import InvalidInputError
from .models import EntityType, File, Frame, Instance, Label


@dataclass(frozen=True, slots=True)
class Reference:
    """`field` holds the entity_id of a `target` entity that must be visible."""

    field: str
    target: EntityType


@dataclass(frozen=True, slots=True)
class Kind:
    type: EntityType
    table: Table
    content: tuple[str, ...]
    required: frozenset[str]
    defaults: Mapping[str, Any]
    references: tuple[Reference, ...] = ()
    unique_name: bool = False

    def column(self, field: str) -> Column[Any]:
        """The table column holding content field `field` (`metadata` lives in `metadata`)."""
        return self.table.c[field]

    def content_of(self, row: Mapping[Any, Any]) -> dict[str, Any]:
        """The content fields of a row read from the table."""
        return {field: row[field] for field in self.content}

    def complete(self, values: Mapping[str, Any], where: str) -> dict[str, Any]:
        """`values` checked for unknown and missing fields, with defaults filled in."""
        unknown = sorted(set(values) - set(self.content) - {"entity_id"})
        if unknown:
            raise InvalidInputError(
                f"{where}: unknown {self.type} field(s) {', '.join(unknown)}; "
                f"fields are {', '.join(self.content)}"
            )
        missing = sorted(f for f in self.required if values.get(f) is None)
        if missing:
            raise InvalidInputError(f"{where}: {self.type} needs {', '.join(missing)}")
        row = {**self.defaults, **{k: v for k, v in values.items() if k != "entity_id"}}
        for ref in self.references:
            if row[ref.field] is not None:
                row[ref.field] = as_uuid(row[ref.field], f"{where}: {ref.field}")
        check_content(self.type, row, where)
        return row


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


KINDS: dict[EntityType, Kind] = {
    EntityType.LABEL: Kind(
        EntityType.LABEL,
        _table(Label),
        ("name", "color", "description", "attribute_schema", "metadata"),
        frozenset({"name"}),
        {"color": "#888888", "description": "", "attribute_schema": {}, "metadata": {}},
        unique_name=True,
    ),
    EntityType.FILE: Kind(
        EntityType.FILE,
        _table(File),
        (
            "name",
            "blob_sha256",
            "media_type",
            "width",
            "height",
            "fps",
            "frame_count",
            "duration",
            "metadata",
            "author",
        ),
        frozenset({"name", "blob_sha256", "media_type"}),
        {
            "width": None,
            "height": None,
            "fps": None,
            "frame_count": None,
            "duration": None,
            "metadata": {},
            "author": "",
        },
        unique_name=True,
    ),
    EntityType.FRAME: Kind(
        EntityType.FRAME,
        _table(Frame),
        ("file_entity_id", "frame_number", "timestamp", "image_sha256", "metadata"),
        frozenset({"file_entity_id", "frame_number"}),
        {"timestamp": None, "image_sha256": None, "metadata": {}},
        references=(Reference("file_entity_id", EntityType.FILE),),
    ),
    EntityType.INSTANCE: Kind(
        EntityType.INSTANCE,
        _table(Instance),
        (
            "file_entity_id",
            "frame_number",
            "label_entity_id",
            "kind",
            "x",
            "y",
            "w",
            "h",
            "points",
            "text_start",
            "text_end",
            "attributes",
            "score",
            "source",
            "model_run",
            "track_id",
            "author",
            "extra",
        ),
        frozenset({"file_entity_id", "label_entity_id", "kind"}),
        {
            "frame_number": None,
            "x": None,
            "y": None,
            "w": None,
            "h": None,
            "points": None,
            "text_start": None,
            "text_end": None,
            "attributes": {},
            "score": None,
            "source": "human",
            "model_run": None,
            "track_id": None,
            "author": "",
            "extra": None,
        },
        references=(
            Reference("file_entity_id", EntityType.FILE),
            Reference("label_entity_id", EntityType.LABEL),
        ),
    ),
}


def kind_of(kind: EntityType | str) -> Kind:
    """The Kind for `kind`; BAD_USER_INPUT naming it if there is none."""
    try:
        return KINDS[EntityType(kind)]
    except ValueError:
        raise InvalidInputError(
            f"unknown entity kind {kind!r}; kinds are {', '.join(t.value for t in EntityType)}"
        ) from None


def as_uuid(value: object, where: str) -> uuid.UUID:
    """`value` as a UUID; BAD_USER_INPUT naming `where` if it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInputError(f"{where}: {value!r} is not a UUID") from None
