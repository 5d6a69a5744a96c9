"""`where:` arguments: their GraphQL input types, and their conversion to the filter tree.

The vocabulary is Hasura's (`_eq _neq _gt _gte _lt _lte _in _nin _is_null _like _ilike`, JSON
`_contains _has_key` and `path`, `_and _or _not`) with PostGraphile-style relation filters
(`some / none / every`) and a count comparison ("files with >= 3 cars"). Keys of one object are
ANDed. Conversion reads the coerced argument dicts (GraphQL names), so top-level and nested
arguments take one path. A variable is not bounded by the document's depth or size limits, so
conversion enforces the filter limits of `ast.py` itself, naming the path (`where._or[3]._not`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.scalars import JSON

from trainingdb.versioning.errors import InvalidFilterError

from .ast import (
    MAX_DEPTH,
    MAX_LIST_RELATIONS,
    MAX_TERMS,
    And,
    Box,
    Budget,
    Compare,
    Filter,
    Inside,
    JsonTest,
    Not,
    Op,
    Or,
    Quantifier,
    Related,
    too_deep,
)
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


def _deeper(depth: int, where: str) -> int:
    """The depth inside a level at `where`, which is `depth` deep; INVALID_FILTER past MAX_DEPTH,
    before anything recurses (a variable is not bounded by GraphQL's document depth)."""
    if depth >= MAX_DEPTH:
        raise too_deep(where)
    return depth + 1


def _values(value: object) -> int:
    return len(value) if isinstance(value, list | tuple) else 0


@dataclass(slots=True)
class _Reader:
    """Converts one `where:` argument, counting its terms and values against one budget."""

    budget: Budget

    def filter(
        self, target: Target, where: Mapping[str, Any] | None, at: str, depth: int, lists: int
    ) -> Filter:
        """`where` over `target`; `depth` levels and `lists` list relations are around it."""
        if not where:
            return And(())
        parts: list[Filter] = []
        for key, value in where.items():
            if value is None:
                continue
            if key in ("_and", "_or"):
                parts.append(self._group(target, key, value, f"{at}.{key}", depth, lists))
            elif key == "_not":
                inner = self._part(target, value, f"{at}._not", _deeper(depth, f"{at}._not"), lists)
                parts.append(Not(inner))
            elif key == "inside":
                self.budget.term(f"{at}.inside")
                parts.append(Inside(Box(value["x0"], value["y0"], value["x1"], value["y1"])))
            elif key == "label" and "label" in target.relations:
                compared = self._comparisons("name", value, f"{at}.label")
                parts += [Related("label", c) for c in compared]
            elif snake(key) in target.relations:
                parts += self._relation(target, snake(key), value, at, depth, lists)
            else:
                field = target.field(snake(key), at)
                if field.type is FieldType.JSON:
                    parts += self._json(field.name, value, f"{at}.{key}")
                else:
                    parts += self._comparisons(field.name, value, f"{at}.{key}")
        return _all(parts) if parts else And(())

    def _group(
        self, target: Target, key: str, value: list[Any], at: str, depth: int, lists: int
    ) -> Filter:
        """`_and` / `_or`: refused by length first, so a huge list costs nothing."""
        if len(value) > MAX_TERMS:
            raise InvalidFilterError(f"{at}: {len(value)} parts; at most {MAX_TERMS} are allowed")
        inner = _deeper(depth, at)
        parts = tuple(
            self._part(target, w, f"{at}[{i}]", inner, lists) for i, w in enumerate(value)
        )
        return And(parts) if key == "_and" else Or(parts)

    def _part(
        self, target: Target, where: Mapping[str, Any], at: str, depth: int, lists: int
    ) -> Filter:
        """An element of `_and` / `_or`, or `_not`: an empty one still counts as a term, or a
        list of them would cost without limit."""
        if not _given(where):
            self.budget.term(at)
        return self.filter(target, where, at, depth, lists)

    def _comparisons(self, field: str, ops: Mapping[str, Any], where: str) -> list[Filter]:
        parts: list[Filter] = []
        for key, value in _given(ops).items():
            self.budget.term(f"{where}.{key}", _values(value))
            parts.append(Compare(field, OPS[key], value))
        return parts

    def _json(self, field: str, ops: Mapping[str, Any], where: str) -> list[Filter]:
        path = tuple(ops.get("path") or ())
        if len(path) > MAX_DEPTH:
            raise InvalidFilterError(
                f"{where}.path: {len(path)} keys; at most {MAX_DEPTH} are allowed"
            )
        tests: list[Filter] = []
        for key, value in _given(ops).items():
            if key != "path":
                self.budget.term(f"{where}.{key}", _values(value))
                tests.append(JsonTest(field, path, OPS[key], value))
        if not tests:
            raise InvalidFilterError(f"{where}: give an operator (_contains, _has_key, _eq, ...)")
        return tests

    def _relation(
        self,
        target: Target,
        name: str,
        value: Mapping[str, Any],
        where: str,
        depth: int,
        lists: int,
    ) -> list[Filter]:
        relation = target.relation(name, where)
        other, at = relation.target, f"{where}.{name}"
        depth = _deeper(depth, at)
        if not relation.to_many:
            self.budget.term(at)
            return [Related(name, self.filter(other, value, at, depth, lists))]
        if lists >= MAX_LIST_RELATIONS:
            raise InvalidFilterError(
                f"{at}: {name} is a list inside another list relation; lists nest at most "
                f"{MAX_LIST_RELATIONS} deep, since each multiplies the rows read"
            )
        parts: list[Filter] = []
        for key, inner in _given(value).items():
            self.budget.term(f"{at}.{key}")
            if key == "count":
                counts = {k: v for k, v in _given(inner).items() if k != "where"}
                if len(counts) != 1:
                    raise InvalidFilterError(
                        f"{at}.{key}: give exactly one comparison (_gte: 3, ...)"
                    )
                ((op, n),) = counts.items()
                matched = self.filter(
                    other, inner.get("where") or {}, f"{at}.count.where", depth, lists + 1
                )
                parts.append(Related(name, matched, count=(OPS[op], n)))
            else:
                matched = self.filter(other, inner, f"{at}.{key}", depth, lists + 1)
                parts.append(Related(name, matched, Quantifier(key)))
        return parts


def to_filter(target: Target, where: Mapping[str, Any] | None, at: str = "where") -> Filter:
    """The filter tree for a coerced `where:` argument over `target`; INVALID_FILTER naming the
    position past a limit of `ast.py` (nesting, terms, in-list values, list relations)."""
    budget = Budget()
    flt = _Reader(budget).filter(target, where, at, 0, 0)
    budget.close("the filter")
    return flt


def entity_id(value: object, where: str) -> uuid.UUID:
    """An ID argument as a UUID; INVALID_FILTER naming `where` otherwise."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidFilterError(f"{where}: {value!r} is not an id (a UUID)") from None
