"""Content checks of one entity revision, before anything is written.

They mirror the tables' CHECK constraints (models/entities.py) so that bad input fails with a
message naming the row and the field, in the caller's words, instead of a constraint name from
the database; the constraints stay as the last line of defence. Checks that need other rows
(names taken, references, blobs) are in `invariants.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Integer, String

from .errors import InvalidInputError
from .models import EntityType, File, Frame, Instance, Label
from .models.vocabulary import NON_SPATIAL_KINDS, InstanceKind, MediaType, Source

Content = Mapping[str, Any]
_MODELS = {
    EntityType.LABEL: Label,
    EntityType.FILE: File,
    EntityType.FRAME: Frame,
    EntityType.INSTANCE: Instance,
}
# Each column's own limit, read off the tables so the two cannot drift: the longest text a
# VARCHAR(n) holds, and the int32 range of INTEGER columns (BIGINT is a subclass: excluded).
_LENGTHS: dict[EntityType, dict[str, int]] = {
    kind: {
        c.name: c.type.length
        for c in model.__table__.columns
        if isinstance(c.type, String) and c.type.length is not None
    }
    for kind, model in _MODELS.items()
}
_INT32 = frozenset(
    c.name for model in _MODELS.values() for c in model.__table__.columns if type(c.type) is Integer
)
INT32_MAX = 2**31 - 1
# Pixels, on either side of an image: room for any real media, and `area` (w * h, a stored
# column) stays finite, where 1e308 * 1e308 overflows PostgreSQL's double.
COORDINATE_LIMIT = 1e9
_COORDINATES = ("x", "y", "w", "h")
_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
SHA256 = re.compile(r"[0-9a-f]{64}")
_NUMBER = (int, float)


def _is(types: tuple[type, ...] | type, name: str) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        if value is None:
            return None
        # bool is an int to Python, never a number or a count to a user; NaN and infinities
        # are no measurement (and JSON cannot carry them).
        number = isinstance(value, types) and not isinstance(value, bool)
        if number and (not isinstance(value, float) or math.isfinite(value)):
            return None
        return f"must be {name}, not {value!r}"

    return check


def _text(value: object) -> str | None:
    return None if value is None or isinstance(value, str) else f"must be text, not {value!r}"


def _object(value: object) -> str | None:
    return None if isinstance(value, dict) else f"must be a JSON object, not {value!r}"


def _object_or_null(value: object) -> str | None:
    return None if value is None else _object(value)


_TYPES: dict[str, Callable[[object], str | None]] = {
    "name": _text,
    "color": _text,
    "description": _text,
    "attribute_schema": _object,
    "blob_sha256": _text,
    "media_type": _text,
    "width": _is(int, "a whole number"),
    "height": _is(int, "a whole number"),
    "fps": _is(_NUMBER, "a number"),
    "frame_count": _is(int, "a whole number"),
    "duration": _is(_NUMBER, "a number"),
    "metadata": _object,
    "author": _text,
    "frame_number": _is(int, "a whole number"),
    "timestamp": _is(_NUMBER, "a number"),
    "image_sha256": _text,
    "kind": _text,
    "x": _is(_NUMBER, "a number"),
    "y": _is(_NUMBER, "a number"),
    "w": _is(_NUMBER, "a number"),
    "h": _is(_NUMBER, "a number"),
    "text_start": _is(int, "a whole number"),
    "text_end": _is(int, "a whole number"),
    "attributes": _object,
    "score": _is(_NUMBER, "a number"),
    "source": _text,
    "model_run": _text,
    "track_id": _text,
    "extra": _object_or_null,
}


# Optional on input (they have defaults) but never null in a stored revision.
_NOT_NULL = (
    "color",
    "description",
    "attribute_schema",
    "metadata",
    "author",
    "attributes",
    "source",
)
_POSITIVE = ("width", "height", "fps")
_NON_NEGATIVE = ("frame_count", "duration", "frame_number", "timestamp", "w", "h", "text_start")


def _rules(kind: EntityType, row: Content) -> list[str]:
    """What is wrong with `row` beyond field types: each a `field: reason` phrase."""
    get = row.get
    wrong = _limits(kind, row)
    wrong += [
        f"{f} must be positive, not {v}" for f in _POSITIVE if (v := get(f)) is not None and v <= 0
    ]
    wrong += [
        f"{f} must not be negative, not {v}"
        for f in _NON_NEGATIVE
        if (v := get(f)) is not None and v < 0
    ]
    if kind in (EntityType.LABEL, EntityType.FILE) and not get("name"):
        wrong.append("name must not be empty")
    if kind is EntityType.LABEL and not _HEX_COLOR.fullmatch(get("color") or ""):
        wrong.append(f"color must be #rrggbb, not {get('color')!r}")
    for field in ("blob_sha256", "image_sha256"):
        if field not in row:
            continue
        sha = row[field]
        optional = kind is EntityType.FRAME and sha is None
        if not optional and not SHA256.fullmatch(sha or ""):
            wrong.append(f"{field} must be 64 lowercase hex digits, not {sha!r}")
    if kind is EntityType.FILE:
        if get("media_type") not in set(MediaType):
            wrong.append(f"media_type {get('media_type')!r} is not one of {', '.join(MediaType)}")
        elif get("media_type") == MediaType.VIDEO and None in (get("fps"), get("frame_count")):
            wrong.append("a video needs fps and frame_count")
    if kind is EntityType.INSTANCE:
        wrong += _instance_rules(row)
    return wrong


def _limits(kind: EntityType, row: Content) -> list[str]:
    """Values too long or too large for their column: each a `field: reason` phrase."""
    lengths = _LENGTHS[kind]
    wrong = [
        f"{f} is {len(v):,} characters long; at most {lengths[f]:,} are allowed"
        for f, v in row.items()
        if f in lengths and isinstance(v, str) and len(v) > lengths[f]
    ]
    wrong += [
        f"{f} must be at most {INT32_MAX:,}, not {v}"
        for f, v in row.items()
        if f in _INT32 and isinstance(v, int) and abs(v) > INT32_MAX
    ]
    wrong += [
        f"{f} must be within ±{COORDINATE_LIMIT:g} pixels, not {v}"
        for f in _COORDINATES
        if isinstance(v := row.get(f), int | float) and abs(v) > COORDINATE_LIMIT
    ]
    return wrong


_INSTANCE_KINDS = frozenset(k.value for k in InstanceKind)
_SPATIAL = _INSTANCE_KINDS - {k.value for k in NON_SPATIAL_KINDS}
_SOURCES = frozenset(s.value for s in Source)


def _instance_rules(row: Content) -> list[str]:
    get = row.get
    if get("kind") not in _INSTANCE_KINDS:
        return [f"kind {get('kind')!r} is not one of {', '.join(InstanceKind)}"]
    wrong: list[str] = []
    kind = InstanceKind(row["kind"])
    if kind not in NON_SPATIAL_KINDS:
        missing = [f for f in ("x", "y", "w", "h") if get(f) is None]
        if missing:
            wrong.append(f"a {kind} instance needs {', '.join(missing)}")
    if kind is InstanceKind.TEXT_SPAN and (get("text_start") is None or get("text_end") is None):
        wrong.append("a text_span instance needs text_start and text_end")
    start, end = get("text_start"), get("text_end")
    if start is not None and end is not None and end < start:
        wrong.append(f"text_end {end} is before text_start {start}")
    score = get("score")
    if score is not None and not 0 <= score <= 1:
        wrong.append(f"score {score} is outside [0, 1]")
    if get("source") not in _SOURCES:
        wrong.append(f"source {get('source')!r} is not one of {', '.join(Source)}")
    elif get("model_run") is not None and get("source") != Source.MODEL:
        wrong.append("model_run is set only on instances whose source is model")
    return wrong


# Exact types each field accepts (bool is not a number here), for the fast pass below.
_NUMBER_TYPES = frozenset({int, float})
_ALLOWED: dict[str, frozenset[type]] = {
    **dict.fromkeys(
        ("width", "height", "frame_count", "frame_number", "text_start", "text_end"),
        frozenset({int}),
    ),
    **dict.fromkeys(("fps", "duration", "timestamp", "x", "y", "w", "h", "score"), _NUMBER_TYPES),
    **dict.fromkeys(("attribute_schema", "metadata", "attributes", "extra"), frozenset({dict})),
    **dict.fromkeys(
        (
            *("name", "color", "description", "blob_sha256", "media_type", "author"),
            *("image_sha256", "kind", "source", "model_run", "track_id"),
        ),
        frozenset({str}),
    ),
}
_NOT_NULL_SET = frozenset(_NOT_NULL)
_BOUNDED = {
    **dict.fromkeys(_INT32, INT32_MAX),
    **dict.fromkeys(_COORDINATES, COORDINATE_LIMIT),
}


def _plainly_valid(kind: EntityType, row: Content) -> bool:
    """A fast pass for the common case (bulk imports): every field of an allowed type, and for
    instances the usual rules; False sends the row to the full check, which explains."""
    lengths = _LENGTHS[kind]
    for field, value in row.items():
        if value is None:
            if field in _NOT_NULL_SET:
                return False
            continue
        allowed = _ALLOWED.get(field)
        if allowed is not None:
            if type(value) not in allowed:
                return False
            if type(value) is float and not math.isfinite(value):
                return False
            if field in _NON_NEGATIVE and value < 0:
                return False
            if type(value) is str and len(value) > lengths.get(field, len(value)):
                return False
            if field in _BOUNDED and not -_BOUNDED[field] <= value <= _BOUNDED[field]:
                return False
    if kind is not EntityType.INSTANCE:
        return False  # rare kinds: no fast path
    get = row.get
    kind_name = get("kind")
    if kind_name not in _INSTANCE_KINDS or get("source") not in _SOURCES:
        return False
    if kind_name in _SPATIAL and (get("x") is None or get("y") is None or get("w") is None):
        return False
    if get("h") is None and kind_name in _SPATIAL:
        return False
    score = get("score")
    if score is not None and not 0 <= score <= 1:
        return False
    if get("model_run") is not None and get("source") != "model":
        return False
    start, end = get("text_start"), get("text_end")
    if kind_name == "text_span" and (start is None or end is None):
        return False
    return start is None or end is None or end >= start


def check_content(kind: EntityType, row: Content, where: str) -> None:
    """check_content: BAD_USER_INPUT naming `where` and every wrong field of `row`; O(fields)."""
    if _plainly_valid(kind, row):
        return
    wrong = [
        f"{field} {problem}"
        for field, value in row.items()
        if field in _TYPES and (problem := _TYPES[field](value)) is not None
    ]
    wrong += [
        f"{field} cannot be null" for field in _NOT_NULL if field in row and row[field] is None
    ]
    if not wrong:
        wrong = _rules(kind, row)
    if wrong:
        raise InvalidInputError(f"{where}: {'; '.join(wrong)}")
