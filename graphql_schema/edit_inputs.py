"""Inputs of the entity mutations (labels, files, instances), and their conversion to the
engine's content dicts.

A `...Input` creates an entity: omitted optional fields take the engine's defaults. A `...Patch`
changes an existing one: omitted fields are kept, a field given as null is cleared. Field names
are the entity types' own; `fileId` / `labelId` hold entity ids, and an instance may name its
label by `label` (its name at the branch's head) instead of `labelId`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import fields as dataclass_fields
from typing import Any

import strawberry
from sqlalchemy import Connection, select
from strawberry.scalars import JSON

from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.sql import among
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import Version
from trainingdb.versioning.visibility import visible

from .shapes import SCALAR_COLUMNS

UNSET: Any = strawberry.UNSET


@strawberry.input(description="A new label.")
class LabelInput:
    name: str
    color: str | None = strawberry.field(default=UNSET, description="#rrggbb; default #888888.")
    description: str | None = UNSET
    attribute_schema: JSON | None = strawberry.field(
        default=UNSET, description="JSON Schema of the attributes of this label's instances."
    )
    metadata: JSON | None = strawberry.field(
        default=UNSET, description="A JSON object: where the label came from (default {})."
    )


@strawberry.input(description="Changes to a label; omitted fields are kept.")
class LabelPatch:
    id: strawberry.ID
    name: str | None = UNSET
    color: str | None = UNSET
    description: str | None = UNSET
    attribute_schema: JSON | None = UNSET
    metadata: JSON | None = UNSET


@strawberry.input(description="A new file, naming a blob the dataset already holds.")
class FileInput:
    name: str
    blob_sha256: str = strawberry.field(description="sha256 of the bytes in the blob store.")
    media_type: str = strawberry.field(
        description="image, video, text, audio, pointcloud or document."
    )
    width: int | None = UNSET
    height: int | None = UNSET
    fps: float | None = strawberry.field(default=UNSET, description="Required for a video.")
    frame_count: int | None = strawberry.field(default=UNSET, description="Required for a video.")
    duration: float | None = UNSET
    metadata: JSON | None = UNSET
    author: str | None = UNSET


@strawberry.input(description="Changes to a file; omitted fields are kept.")
class FilePatch:
    id: strawberry.ID
    name: str | None = UNSET
    blob_sha256: str | None = UNSET
    media_type: str | None = UNSET
    width: int | None = UNSET
    height: int | None = UNSET
    fps: float | None = UNSET
    frame_count: int | None = UNSET
    duration: float | None = UNSET
    metadata: JSON | None = UNSET
    author: str | None = UNSET


@strawberry.input(
    description="A new instance: a box, polygon, keypoints, classification, text span ... on a "
    "file, or on one frame of a video. Name the label by `label` or by `labelId`."
)
class InstanceInput:
    file_id: strawberry.ID
    kind: str
    label: str | None = strawberry.field(default=UNSET, description="The label's name.")
    label_id: strawberry.ID | None = UNSET
    frame_number: int | None = UNSET
    x: float | None = UNSET
    y: float | None = UNSET
    w: float | None = UNSET
    h: float | None = UNSET
    points: JSON | None = UNSET
    text_start: int | None = UNSET
    text_end: int | None = UNSET
    attributes: JSON | None = UNSET
    score: float | None = UNSET
    source: str | None = strawberry.field(default=UNSET, description="human (default) or model.")
    model_run: str | None = UNSET
    track_id: str | None = UNSET
    author: str | None = UNSET
    extra: JSON | None = strawberry.field(
        default=UNSET, description="A JSON object of source fields with no field here, or null."
    )


@strawberry.input(description="Changes to an instance; omitted fields are kept.")
class InstancePatch:
    id: strawberry.ID
    file_id: strawberry.ID | None = UNSET
    kind: str | None = UNSET
    label: str | None = UNSET
    label_id: strawberry.ID | None = UNSET
    frame_number: int | None = UNSET
    x: float | None = UNSET
    y: float | None = UNSET
    w: float | None = UNSET
    h: float | None = UNSET
    points: JSON | None = UNSET
    text_start: int | None = UNSET
    text_end: int | None = UNSET
    attributes: JSON | None = UNSET
    score: float | None = UNSET
    source: str | None = UNSET
    model_run: str | None = UNSET
    track_id: str | None = UNSET
    author: str | None = UNSET
    extra: JSON | None = strawberry.field(
        default=UNSET, description="A JSON object of source fields with no field here, or null."
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _given(value: object) -> dict[str, Any]:
    """The fields of an input object that the caller gave, by GraphQL name."""
    return {
        _camel(f.name): getattr(value, f.name)
        for f in dataclass_fields(value)  # type: ignore[arg-type]
        if getattr(value, f.name) is not UNSET
    }


def content(kind: EntityType, value: object, where: str) -> dict[str, Any]:
    """The engine content of an input or patch (without `id` and `label`), by column name.

    In an input (no `id`), null means "the default", as omitting the field does.
    """
    columns = SCALAR_COLUMNS[kind]
    row: dict[str, Any] = {}
    creating = not hasattr(value, "id")
    for name, given in _given(value).items():
        if name in ("id", "label") or (creating and given is None):
            continue
        column = columns[name]
        if column in ("file_entity_id", "label_entity_id") and given is not None:
            given = entity_uuid(given, f"{where}: {name}")
        row[column] = given
    return row


def entity_uuid(value: object, where: str) -> uuid.UUID:
    """An entity id argument as a UUID; BAD_USER_INPUT naming `where` otherwise."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInputError(f"{where}: {value!r} is not an entity id") from None


def label_names(
    conn: Connection, version: Version, values: Sequence[object], where: str
) -> list[uuid.UUID | None]:
    """For each instance input, the id of the label it names by `label`, else None; one
    statement. BAD_USER_INPUT when a name is unknown at `version`, or both ways are given."""
    wanted: list[str | None] = []
    for i, value in enumerate(values):
        given = _given(value)
        name = given.get("label")
        if name is not None and given.get("labelId") is not None:
            raise InvalidInputError(f"{where} #{i}: give label or labelId, not both")
        wanted.append(name)
    names = {n for n in wanted if n is not None}
    found = dict(_labels_named(conn, version, names)) if names else {}
    for i, name in enumerate(wanted):
        if name is not None and name not in found:
            raise InvalidInputError(
                f"{where} #{i}: label: no label named {name!r} on {version.ref!r}"
            )
    return [None if n is None else found[n] for n in wanted]


def _labels_named(
    conn: Connection, version: Version, names: Iterable[str]
) -> Iterable[tuple[str, uuid.UUID]]:
    table = KINDS[EntityType.LABEL].table
    rows = conn.execute(
        select(table.c.name, table.c.entity_id).where(
            visible(table, version), among(table.c.name, set(names))
        )
    )
    return [(name, eid) for name, eid in rows]
