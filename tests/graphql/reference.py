"""A plain-Python evaluation of filter trees, to check the SQL compiler against.

Written from the semantics in `filters/ast.py` (SQL's three-valued logic: None is unknown), not
from the compiler: it shares only the tree and the field catalog with it.
"""

from __future__ import annotations

import operator
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trainingdb.graphql_schema.filters.ast import (
    And,
    Compare,
    Filter,
    Inside,
    JsonTest,
    Not,
    Op,
    Or,
    Quantifier,
    Related,
)
from trainingdb.graphql_schema.filters.fields import Target

Row = Mapping[str, Any]
Truth = bool | None

_ORDER: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: operator.eq,
    Op.NEQ: operator.ne,
    Op.GT: operator.gt,
    Op.GTE: operator.ge,
    Op.LT: operator.lt,
    Op.LTE: operator.le,
}


@dataclass
class State:
    """Every entity visible at one version, content plus `entity_id`, by target name."""

    rows: dict[str, list[dict[str, Any]]]

    def by_id(self, target: str) -> dict[uuid.UUID, dict[str, Any]]:
        return {r["entity_id"]: r for r in self.rows[target]}


def _like(value: str, pattern: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return (
        re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)
        is not None
    )


def _scalar(value: Any, op: Op, operand: Any) -> Truth:
    if op is Op.IS_NULL:
        return (value is None) is operand
    if op is Op.IN:
        if not operand:
            return False
        return None if value is None else value in operand
    if op is Op.NIN:
        if not operand:
            return True
        return None if value is None else value not in operand
    if value is None:
        return None
    if op is Op.LIKE:
        return _like(value, operand, ignore_case=False)
    if op is Op.ILIKE:
        return _like(value, operand, ignore_case=True)
    return _ORDER[op](value, operand)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def contains(doc: Any, needle: Any) -> bool:
    """PostgreSQL's jsonb `@>`."""
    if isinstance(needle, dict):
        return isinstance(doc, dict) and all(
            k in doc and contains(doc[k], v) for k, v in needle.items()
        )
    if isinstance(needle, list):
        if not isinstance(doc, list):
            return False
        return all(any(contains(d, n) for d in doc) for n in needle)
    if isinstance(doc, list):
        return False
    return (type(doc) is type(needle) and doc == needle) or (
        _number(doc) and _number(needle) and doc == needle
    )


def _at(doc: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if isinstance(doc, dict) and key in doc:
            doc = doc[key]
        elif (
            isinstance(doc, list) and key.lstrip("-").isdigit() and -len(doc) <= int(key) < len(doc)
        ):
            doc = doc[int(key)]
        else:
            return _MISSING
    return doc


_MISSING = object()


def _has_key(doc: Any, key: str) -> bool:
    if isinstance(doc, dict):
        return key in doc
    if isinstance(doc, list):
        return key in doc
    return False


def _json(doc: Any, test: JsonTest) -> Truth:
    if not test.path:
        if test.op is Op.CONTAINS:
            return contains(doc, test.value)
        return _has_key(doc, test.value)
    at = _at(doc, test.path)
    if test.op is Op.IS_NULL:
        # `#>` yields SQL NULL only for a missing path; a JSON null is a value.
        return (at is _MISSING) is test.value
    if at is _MISSING:
        return None
    if test.op is Op.CONTAINS:
        return contains(at, test.value)
    if test.op is Op.HAS_KEY:
        return _has_key(at, test.value)
    operands = test.value if test.op in (Op.IN, Op.NIN) else [test.value]
    typed: Any
    if all(_number(v) for v in operands):
        typed = float(at) if _number(at) else None
        operands = [float(v) for v in operands]
    elif all(isinstance(v, str) for v in operands):
        typed = at if isinstance(at, str) else None
    else:
        typed = at if isinstance(at, bool) else None
    return _scalar(typed, test.op, operands if test.op in (Op.IN, Op.NIN) else operands[0])


def _and(values: list[Truth]) -> Truth:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: list[Truth]) -> Truth:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def evaluate(state: State, target: Target, flt: Filter, row: Row) -> Truth:
    """Whether `row` of `target` matches `flt` (None: unknown, which a WHERE drops)."""
    match flt:
        case And(parts):
            return _and([evaluate(state, target, p, row) for p in parts])
        case Or(parts):
            return _or([evaluate(state, target, p, row) for p in parts])
        case Not(part):
            inner = evaluate(state, target, part, row)
            return None if inner is None else not inner
        case Compare(name, op, value):
            field = target.fields[name]
            operand = value
            if field.type == "ID":
                operand = (
                    [uuid.UUID(str(v)) for v in value]
                    if op in (Op.IN, Op.NIN)
                    else value
                    if op is Op.IS_NULL
                    else uuid.UUID(str(value))
                )
            elif field.type == "Float" and op not in (Op.IS_NULL,):
                operand = [float(v) for v in value] if op in (Op.IN, Op.NIN) else float(value)
            return _scalar(row[field.column], op, operand)
        case JsonTest(name, _, _, _):
            return _json(row[target.fields[name].column], flt)
        case Inside(box):
            x, y, w, h = row["x"], row["y"], row["w"], row["h"]
            if None in (x, y, w, h):
                return None
            return bool(x >= box.x0 and y >= box.y0 and x + w <= box.x1 and y + h <= box.y1)
        case Related(relation, inner, quantifier, count):
            rel = target.relations[relation]
            key = row[rel.local]
            related = [r for r in state.rows[rel.target.name] if r[rel.remote] == key]
            results = [evaluate(state, rel.target, inner, r) for r in related]
            if count is not None:
                op, n = count
                return _ORDER[op](sum(1 for r in results if r is True), n)
            if quantifier is Quantifier.SOME:
                return any(r is True for r in results)
            if quantifier is Quantifier.NONE:
                return not any(r is True for r in results)
            return all(r is True for r in results)
    raise AssertionError(f"not a filter: {flt!r}")


def matching(state: State, target: Target, flt: Filter) -> set[uuid.UUID]:
    """Entity ids of the `target` rows of `state` that `flt` matches."""
    return {
        row["entity_id"]
        for row in state.rows[target.name]
        if evaluate(state, target, flt, row) is True
    }
