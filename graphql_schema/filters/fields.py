"""What each filter target offers: its scalar and JSON fields, their types, and its relations.

Field names are the snake_case content names (`frame_number`, `model_run`); the GraphQL inputs
spell them in camelCase and the text language accepts both. `id` is the entity id, and `*_id`
fields name the referenced entity's id (`file_id` is `file_entity_id`). A number compared with
a field must fit the field's column (`NumberRange`), read from the table itself so the two cannot
drift apart.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import REAL, BigInteger, Float, Integer, SmallInteger
from sqlalchemy.types import TypeEngine

from trainingdb.versioning.errors import InvalidFilterError
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.models.vocabulary import InstanceKind, MediaType, Source
from trainingdb.versioning.tables import KINDS

from .ast import EQUALITY, ORDERING, TEXT, Op


class FieldType(StrEnum):
    INT = "Int"
    FLOAT = "Float"
    STRING = "String"
    ID = "ID"
    JSON = "JSON"


JSON_OPS = frozenset({Op.CONTAINS, Op.HAS_KEY, Op.IS_NULL})


@dataclass(frozen=True, slots=True)
class NumberRange:
    """The numbers a column holds: whole numbers from `low` to `high`, or finite floats of at
    most `high` in magnitude. PostgreSQL refuses a parameter outside it (an internal error), so
    filters check first."""

    name: str
    low: float
    high: float
    whole: bool

    def problem(self, value: int | float, what: str) -> str | None:
        """Why `value` does not fit `what` (a field, a JSON value), or None."""
        if isinstance(value, float) and not math.isfinite(value):
            # A literal too large for a float reads as inf.
            return f"{what} takes finite numbers, not {value}"
        if self.low <= value <= self.high:
            return None
        low, high = (int(self.low), int(self.high)) if self.whole else (self.low, self.high)
        return f"{shown(value)} is out of range for {what}, {self.name} ({low} to {high})"


def shown(value: object) -> str:
    """`value` for a message: a long number abbreviated (str() of a huge int can even raise)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return repr(value)
    if value.bit_length() > 14_000:  # past ~4,300 digits, Python refuses to print an int
        return "a number of thousands of digits"
    text = str(value)
    return text if len(text) <= 24 else f"{text[:12]}... ({len(text.lstrip('-'))} digits)"


INT16 = NumberRange("a 16-bit integer", -(2**15), 2**15 - 1, whole=True)
INT32 = NumberRange("a 32-bit integer", -(2**31), 2**31 - 1, whole=True)
INT64 = NumberRange("a 64-bit integer", -(2**63), 2**63 - 1, whole=True)
FLOAT4 = NumberRange("a 4-byte float", -3.4028234663852886e38, 3.4028234663852886e38, whole=False)
FLOAT8 = NumberRange("a double", -sys.float_info.max, sys.float_info.max, whole=False)


def column_range(column_type: TypeEngine[object]) -> NumberRange | None:
    """The numbers a column of `column_type` holds; None for a column that is not numeric."""
    # Subclasses first: BigInteger and SmallInteger are Integers, REAL and Double are Floats.
    for kind, numbers in (
        (SmallInteger, INT16),
        (BigInteger, INT64),
        (Integer, INT32),
        (REAL, FLOAT4),
        (Float, FLOAT8),
    ):
        if isinstance(column_type, kind):
            return numbers
    return None


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    column: str
    type: FieldType
    # The closed vocabulary of a string field (kind, source, media type): other values are errors.
    choices: tuple[str, ...] = ()

    @property
    def ops(self) -> frozenset[Op]:
        match self.type:
            case FieldType.INT | FieldType.FLOAT:
                return ORDERING
            case FieldType.STRING:
                return EQUALITY if self.choices else TEXT
            case FieldType.ID:
                return EQUALITY
            case FieldType.JSON:
                return JSON_OPS


@dataclass(frozen=True, slots=True)
class Relation:
    name: str
    target: Target
    # Column of this target and of the related one that join them (entity ids).
    local: str
    remote: str
    to_many: bool


@dataclass(slots=True)
class Target:
    """A kind of row a filter applies to; `entity` is the versioned table behind it."""

    name: str
    entity: EntityType
    fields: Mapping[str, Field]
    relations: dict[str, Relation]
    # Whether `inside` (a bounding box test) applies.
    spatial: bool = False

    def field(self, name: str, where: str) -> Field:
        """The field called `name`; INVALID_FILTER naming `where` and the choices otherwise."""
        found = self.fields.get(name)
        if found is None:
            raise InvalidFilterError(
                f"{where}: {self.name} have no field {name!r}; fields are "
                f"{', '.join(sorted(self.fields))}"
            )
        return found

    def number_range(self, field: Field) -> NumberRange | None:
        """The numbers `field`'s column holds (None if it is not numeric)."""
        return column_range(KINDS[self.entity].table.c[field.column].type)

    def relation(self, name: str, where: str) -> Relation:
        found = self.relations.get(name)
        if found is None:
            raise InvalidFilterError(
                f"{where}: {self.name} have no relation {name!r}; relations are "
                f"{', '.join(sorted(self.relations)) or 'none'}"
            )
        return found


def _fields(*fields: Field) -> dict[str, Field]:
    return {f.name: f for f in fields}


def _choices(vocabulary: type[StrEnum]) -> tuple[str, ...]:
    return tuple(v.value for v in vocabulary)


ID = Field("id", "entity_id", FieldType.ID)

LABELS = Target(
    "labels",
    EntityType.LABEL,
    _fields(
        ID,
        Field("name", "name", FieldType.STRING),
        Field("color", "color", FieldType.STRING),
        Field("description", "description", FieldType.STRING),
    ),
    {},
)

FILES = Target(
    "files",
    EntityType.FILE,
    _fields(
        ID,
        Field("name", "name", FieldType.STRING),
        Field("blob_sha256", "blob_sha256", FieldType.STRING),
        Field("media_type", "media_type", FieldType.STRING, _choices(MediaType)),
        Field("width", "width", FieldType.INT),
        Field("height", "height", FieldType.INT),
        Field("fps", "fps", FieldType.FLOAT),
        Field("frame_count", "frame_count", FieldType.INT),
        Field("duration", "duration", FieldType.FLOAT),
        Field("author", "author", FieldType.STRING),
        Field("metadata", "metadata", FieldType.JSON),
    ),
    {},
)

INSTANCES = Target(
    "instances",
    EntityType.INSTANCE,
    _fields(
        ID,
        Field("file_id", "file_entity_id", FieldType.ID),
        Field("frame_number", "frame_number", FieldType.INT),
        Field("label_id", "label_entity_id", FieldType.ID),
        Field("kind", "kind", FieldType.STRING, _choices(InstanceKind)),
        Field("x", "x", FieldType.FLOAT),
        Field("y", "y", FieldType.FLOAT),
        Field("w", "w", FieldType.FLOAT),
        Field("h", "h", FieldType.FLOAT),
        Field("area", "area", FieldType.FLOAT),
        Field("score", "score", FieldType.FLOAT),
        Field("source", "source", FieldType.STRING, _choices(Source)),
        Field("model_run", "model_run", FieldType.STRING),
        Field("track_id", "track_id", FieldType.STRING),
        Field("author", "author", FieldType.STRING),
        Field("text_start", "text_start", FieldType.INT),
        Field("text_end", "text_end", FieldType.INT),
        Field("attributes", "attributes", FieldType.JSON),
    ),
    {},
    spatial=True,
)

# Frames of a video as groups of its frame-level instances: `(file_id, frame_number)`.
FRAMES = Target(
    "frames",
    EntityType.INSTANCE,
    _fields(
        Field("file_id", "file_entity_id", FieldType.ID),
        Field("frame_number", "frame_number", FieldType.INT),
    ),
    {},
)

INSTANCES.relations.update(
    label=Relation("label", LABELS, "label_entity_id", "entity_id", to_many=False),
    file=Relation("file", FILES, "file_entity_id", "entity_id", to_many=False),
)
FILES.relations.update(
    instances=Relation("instances", INSTANCES, "entity_id", "file_entity_id", to_many=True),
)
FRAMES.relations.update(
    # Every instance of the frame: same file, same frame number (see compiler.frame_groups).
    instances=Relation("instances", INSTANCES, "file_entity_id", "file_entity_id", to_many=True),
    file=Relation("file", FILES, "file_entity_id", "entity_id", to_many=False),
)

TARGETS: dict[str, Target] = {t.name: t for t in (LABELS, FILES, INSTANCES, FRAMES)}
