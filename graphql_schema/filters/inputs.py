"""`where:` arguments: their GraphQL input types, and their conversion to the filter tree.

The vocabulary is Hasura's (`_eq _neq _gt _gte _lt _lte _in _nin _is_null _like _ilike`, JSON
`_contains _has_key` and `path`, `_and _or _not`) with PostGraphile-style relation filters
(`some / none / every`) and a count comparison ("files with >= 3 cars"). Keys of one object are
ANDed. Conversion reads the coerced argument dicts (GraphQL names), so top-level and nested
arguments take one path.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.scalars import JSON

from trainingdb.versioning.errors import InvalidFilterError

from .ast import And, Box, Compare, Filter, Inside, JsonTest, Not, Op, Or, Quantifier, Related
from .fields import FieldType, Target

OPS = {op.value: op for op in Op}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    """`frameNumber` -> `frame_number` (GraphQL names to the catalog's)."""
    return _CAMEL.sub("_", name).lower()


def _f(name: str, description: str | None = None) -> Any:
    return strawberry.field(name=name, default=None, description=description)


@strawberry.input(description="Compare an Int field.")
class IntComparison:
    eq: int | None = _f("_eq")
    neq: int | None = _f("_neq")
    gt: int | None = _f("_gt")
    gte: int | None = _f("_gte")
    lt: int | None = _f("_lt")
    lte: int | None = _f("_lte")
    in_: list[int] | None = _f("_in")
    nin: list[int] | None = _f("_nin")
    is_null: bool | None = _f("_is_null", "true: the field is missing; false: it is set.")


@strawberry.input(description="Compare a Float field.")
class FloatComparison:
    eq: float | None = _f("_eq")
    neq: float | None = _f("_neq")
    gt: float | None = _f("_gt")
    gte: float | None = _f("_gte")
    lt: float | None = _f("_lt")
    lte: float | None = _f("_lte")
    in_: list[float] | None = _f("_in")
    nin: list[float] | None = _f("_nin")
    is_null: bool | None = _f("_is_null", "true: the field is missing; false: it is set.")


@strawberry.input(description="Compare a String field; _like/_ilike take SQL patterns (% and _).")
class StringComparison:
    eq: str | None = _f("_eq")
    neq: str | None = _f("_neq")
    gt: str | None = _f("_gt")
    gte: str | None = _f("_gte")
    lt: str | None = _f("_lt")
    lte: str | None = _f("_lte")
    in_: list[str] | None = _f("_in")
    nin: list[str] | None = _f("_nin")
    is_null: bool | None = _f("_is_null", "true: the field is missing; false: it is set.")
    like: str | None = _f("_like")
    ilike: str | None = _f("_ilike", "_like, ignoring case.")


@strawberry.input(description="Compare a field with a closed vocabulary (kind, source, mediaType).")
class ChoiceComparison:
    eq: str | None = _f("_eq")
    neq: str | None = _f("_neq")
    in_: list[str] | None = _f("_in")
    nin: list[str] | None = _f("_nin")


@strawberry.input(description="Compare an entity id.")
class IDComparison:
    eq: strawberry.ID | None = _f("_eq")
    neq: strawberry.ID | None = _f("_neq")
    in_: list[strawberry.ID] | None = _f("_in")
    nin: list[strawberry.ID] | None = _f("_nin")
    is_null: bool | None = _f("_is_null")


@strawberry.input(
    description="Test a JSON object field. Without `path`: `_contains` (JSON containment) and "
    "`_has_key` on the whole object. With `path` (keys from the top): the value there compared "
    "with numbers, strings or booleans (only a value of the same JSON type compares), or "
    "`_is_null` (true: nothing at the path)."
)
class JsonComparison:
    path: list[str] | None = _f("path")
    contains: JSON | None = _f("_contains")
    has_key: str | None = _f("_has_key")
    is_null: bool | None = _f("_is_null")
    eq: JSON | None = _f("_eq")
    neq: JSON | None = _f("_neq")
    gt: float | None = _f("_gt")
    gte: float | None = _f("_gte")
    lt: float | None = _f("_lt")
    lte: float | None = _f("_lte")
    in_: list[JSON] | None = _f("_in")
    nin: list[JSON] | None = _f("_nin")


@strawberry.input(description="An axis-aligned box in pixels: x0 <= x, y0 <= y, x + w <= x1, ...")
class BoxInput:
    x0: float
    y0: float
    x1: float
    y1: float


@strawberry.input(description="A count of related instances matching `where`, compared.")
class CountComparison:
    where: InstanceWhere | None = None
    eq: int | None = _f("_eq")
    neq: int | None = _f("_neq")
    gt: int | None = _f("_gt")
    gte: int | None = _f("_gte")
    lt: int | None = _f("_lt")
    lte: int | None = _f("_lte")


@strawberry.input(description="Related instances: some, none or every one matching, or a count.")
class InstancesRelation:
    some: InstanceWhere | None = None
    none: InstanceWhere | None = None
    every: InstanceWhere | None = None
    count: CountComparison | None = None


@strawberry.input(description="Labels whose fields match; keys are ANDed.")
class LabelWhere:
    id: IDComparison | None = None
    name: StringComparison | None = None
    color: StringComparison | None = None
    description: StringComparison | None = None
    and_: list[LabelWhere] | None = _f("_and")
    or_: list[LabelWhere] | None = _f("_or")
    not_: LabelWhere | None = _f("_not")


@strawberry.input(description="Files whose fields and instances match; keys are ANDed.")
class FileWhere:
    id: IDComparison | None = None
    name: StringComparison | None = None
    blob_sha256: StringComparison | None = None
    media_type: ChoiceComparison | None = None
    width: IntComparison | None = None
    height: IntComparison | None = None
    fps: FloatComparison | None = None
    frame_count: IntComparison | None = None
    duration: FloatComparison | None = None
    author: StringComparison | None = None
    metadata: JsonComparison | None = None
    instances: InstancesRelation | None = None
    and_: list[FileWhere] | None = _f("_and")
    or_: list[FileWhere] | None = _f("_or")
    not_: FileWhere | None = _f("_not")


@strawberry.input(description="Instances whose fields, label and file match; keys are ANDed.")
class InstanceWhere:
    id: IDComparison | None = None
    file_id: IDComparison | None = None
    frame_number: IntComparison | None = None
    label_id: IDComparison | None = None
    label: StringComparison | None = _f("label", "The label's name.")
    kind: ChoiceComparison | None = None
    x: FloatComparison | None = None
    y: FloatComparison | None = None
    w: FloatComparison | None = None
    h: FloatComparison | None = None
    area: FloatComparison | None = _f("area", "w * h, in pixels.")
    score: FloatComparison | None = None
    source: ChoiceComparison | None = None
    model_run: StringComparison | None = None
    track_id: StringComparison | None = None
    author: StringComparison | None = None
    text_start: IntComparison | None = None
    text_end: IntComparison | None = None
    attributes: JsonComparison | None = None
    inside: BoxInput | None = _f("inside", "The bounding box lies inside this box.")
    file: FileWhere | None = None
    and_: list[InstanceWhere] | None = _f("_and")
    or_: list[InstanceWhere] | None = _f("_or")
    not_: InstanceWhere | None = _f("_not")


@strawberry.input(description="Frames (a video's instances grouped by frame number) that match.")
class FrameWhere:
    file_id: IDComparison | None = None
    frame_number: IntComparison | None = None
    file: FileWhere | None = None
    instances: InstancesRelation | None = None
    and_: list[FrameWhere] | None = _f("_and")
    or_: list[FrameWhere] | None = _f("_or")
    not_: FrameWhere | None = _f("_not")


def _given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The keys a client set: GraphQL coercion fills the others with their default, null."""
    return {k: v for k, v in values.items() if v is not None}


def _all(parts: list[Filter]) -> Filter:
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _comparisons(field: str, ops: Mapping[str, Any], where: str) -> list[Filter]:
    return [Compare(field, OPS[key], value) for key, value in _given(ops).items()]


def _json(field: str, ops: Mapping[str, Any], where: str) -> list[Filter]:
    path = tuple(ops.get("path") or ())
    tests = [JsonTest(field, path, OPS[k], v) for k, v in _given(ops).items() if k != "path"]
    if not tests:
        raise InvalidFilterError(f"{where}: give an operator (_contains, _has_key, _eq, ...)")
    return list(tests)


def _relation(target: Target, name: str, value: Mapping[str, Any], where: str) -> list[Filter]:
    relation = target.relation(name, where)
    other = relation.target
    if not relation.to_many:
        return [Related(name, to_filter(other, value, f"{where}.{name}"))]
    parts: list[Filter] = []
    for key, inner in _given(value).items():
        at = f"{where}.{name}.{key}"
        if key == "count":
            counts = {k: v for k, v in _given(inner).items() if k != "where"}
            if len(counts) != 1:
                raise InvalidFilterError(f"{at}: give exactly one comparison (_gte: 3, ...)")
            ((op, n),) = counts.items()
            matched = to_filter(other, inner.get("where") or {}, f"{at}.where")
            parts.append(Related(name, matched, count=(OPS[op], n)))
        else:
            parts.append(Related(name, to_filter(other, inner, at), Quantifier(key)))
    return parts


def to_filter(target: Target, where: Mapping[str, Any] | None, at: str = "where") -> Filter:
    """The filter tree for a coerced `where:` argument over `target`."""
    if not where:
        return And(())
    parts: list[Filter] = []
    for key, value in where.items():
        if value is None:
            continue
        if key == "_and":
            parts.append(
                And(tuple(to_filter(target, w, f"{at}._and[{i}]") for i, w in enumerate(value)))
            )
        elif key == "_or":
            parts.append(
                Or(tuple(to_filter(target, w, f"{at}._or[{i}]") for i, w in enumerate(value)))
            )
        elif key == "_not":
            parts.append(Not(to_filter(target, value, f"{at}._not")))
        elif key == "inside":
            parts.append(Inside(Box(value["x0"], value["y0"], value["x1"], value["y1"])))
        elif key == "label" and "label" in target.relations:
            parts += [Related("label", c) for c in _comparisons("name", value, f"{at}.label")]
        elif snake(key) in target.relations:
            parts += _relation(target, snake(key), value, at)
        else:
            field = target.field(snake(key), at)
            if field.type is FieldType.JSON:
                parts += _json(field.name, value, f"{at}.{key}")
            else:
                parts += _comparisons(field.name, value, f"{at}.{key}")
    return _all(parts) if parts else And(())


def entity_id(value: object, where: str) -> uuid.UUID:
    """An ID argument as a UUID; INVALID_FILTER naming `where` otherwise."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidFilterError(f"{where}: {value!r} is not an id (a UUID)") from None
