"""compile: a filter tree over a target, at a version, as one SQLAlchemy boolean expression.

The only place user input becomes SQL: field names are looked up in `fields.py` (never
interpolated) and every value is a bound parameter. Related entities are read at the same
version as the rows they qualify: each relation is a correlated EXISTS / count subquery carrying
its own `visible()` predicate. Frames are groups of instances, so their filters compile to
aggregates over the group (`bool_or`, `count(*) FILTER`), for a HAVING clause.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Double,
    FromClause,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from trainingdb.versioning.errors import InvalidFilterError
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import Version
from trainingdb.versioning.visibility import visible

from .ast import (
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
from .fields import FRAMES, INSTANCES, Field, FieldType, Relation, Target

_COMPARE: dict[Op, Callable[[Any, Any], ColumnElement[bool]]] = {
    Op.EQ: lambda c, v: c == v,
    Op.NEQ: lambda c, v: c != v,
    Op.GT: lambda c, v: c > v,
    Op.GTE: lambda c, v: c >= v,
    Op.LT: lambda c, v: c < v,
    Op.LTE: lambda c, v: c <= v,
}
COUNT_OPS = frozenset(_COMPARE)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def coerce(field: Field, op: Op, value: object, where: str) -> Any:
    """`value` checked (and converted: ids to UUIDs) for `field` under `op`; INVALID_FILTER."""
    if op is Op.IS_NULL:
        if not isinstance(value, bool):
            raise InvalidFilterError(f"{where}: _is_null takes true or false, not {value!r}")
        return value
    if op in (Op.IN, Op.NIN):
        if not isinstance(value, list | tuple):
            raise InvalidFilterError(f"{where}: {op} takes a list, not {value!r}")
        return [coerce(field, Op.EQ, item, f"{where}[{i}]") for i, item in enumerate(value)]
    if value is None:
        raise InvalidFilterError(f"{where}: {op} null is never true; use _is_null")
    match field.type:
        case FieldType.INT if isinstance(value, int) and not isinstance(value, bool):
            return value
        case FieldType.FLOAT if _is_number(value):
            return float(value)  # type: ignore[arg-type]
        case FieldType.STRING if isinstance(value, str):
            if field.choices and op in (Op.EQ, Op.NEQ) and value not in field.choices:
                raise InvalidFilterError(
                    f"{where}: {value!r} is not a {field.name}; one of {', '.join(field.choices)}"
                )
            return value
        case FieldType.ID:
            try:
                return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
            except ValueError:
                raise InvalidFilterError(f"{where}: {value!r} is not an id (a UUID)") from None
    raise InvalidFilterError(f"{where}: {value!r} is not a valid {field.type} for {field.name}")


def _scalar(column: Any, op: Op, value: Any) -> ColumnElement[bool]:
    if op is Op.IS_NULL:
        return column.is_(None) if value else column.is_not(None)  # type: ignore[no-any-return]
    if op is Op.IN:
        return column.in_(value)  # type: ignore[no-any-return]
    if op is Op.NIN:
        return column.not_in(value)  # type: ignore[no-any-return]
    if op is Op.LIKE:
        return column.like(value)  # type: ignore[no-any-return]
    if op is Op.ILIKE:
        return column.ilike(value)  # type: ignore[no-any-return]
    return _COMPARE[op](column, value)


def _json(column: Any, test: JsonTest, where: str) -> ColumnElement[bool]:
    if not test.path:
        if test.op is Op.CONTAINS:
            return column.contains(cast(literal(test.value, JSONB), JSONB))  # type: ignore[no-any-return]
        if test.op is Op.HAS_KEY:
            if not isinstance(test.value, str):
                raise InvalidFilterError(f"{where}: _has_key takes a key (a string)")
            return column.has_key(test.value)  # type: ignore[no-any-return]
        raise InvalidFilterError(
            f"{where}: a JSON field takes _contains, _has_key, or a path (path: [...]) to compare"
        )
    path = literal(list(test.path), ARRAY(String))
    at = column.op("#>")(path)
    if test.op is Op.IS_NULL:
        if not isinstance(test.value, bool):
            raise InvalidFilterError(f"{where}: _is_null takes true or false")
        return at.is_(None) if test.value else at.is_not(None)  # type: ignore[no-any-return]
    if test.op is Op.CONTAINS:
        return at.op("@>")(cast(literal(test.value, JSONB), JSONB))  # type: ignore[no-any-return]
    if test.op is Op.HAS_KEY:
        if not isinstance(test.value, str):
            raise InvalidFilterError(f"{where}: _has_key takes a key (a string)")
        return at.has_key(test.value)  # type: ignore[no-any-return]
    values = test.value if test.op in (Op.IN, Op.NIN) else [test.value]
    if not isinstance(values, list | tuple) or not values:
        raise InvalidFilterError(f"{where}: {test.op} takes a non-empty list")
    if all(_is_number(v) for v in values):
        # Only JSON numbers compare as numbers; any other value at the path is unknown (NULL).
        typed: Any = case(
            (func.jsonb_typeof(at) == "number", cast(column.op("#>>")(path), Double)),
            else_=None,
        )
        values = [float(v) for v in values]
    elif all(isinstance(v, str) for v in values):
        typed = case((func.jsonb_typeof(at) == "string", column.op("#>>")(path)), else_=None)
    elif all(isinstance(v, bool) for v in values) and test.op in (Op.EQ, Op.NEQ, Op.IN, Op.NIN):
        typed = case((func.jsonb_typeof(at) == "boolean", cast(at, String) == "true"), else_=None)
    else:
        raise InvalidFilterError(
            f"{where}: compare a JSON path with numbers, strings or booleans, one type at a time"
        )
    if test.op in (Op.LIKE, Op.ILIKE, *_COMPARE, Op.IN, Op.NIN):
        value = values if test.op in (Op.IN, Op.NIN) else values[0]
        return _scalar(typed, test.op, value)
    raise InvalidFilterError(f"{where}: {test.op} does not apply to a JSON path")


@dataclass(frozen=True, slots=True)
class Compiler:
    """Compiles filters at one version."""

    version: Version

    def rows(self, target: Target, alias: str) -> FromClause:
        """A fresh alias of `target`'s table (every subquery gets its own)."""
        return KINDS[target.entity].table.alias(alias)

    def condition(
        self, target: Target, flt: Filter, row: FromClause, where: str, depth: int = 0
    ) -> ColumnElement[bool]:
        """`flt` over rows `row` of `target` (a table or alias)."""
        match flt:
            case And(parts):
                return and_(
                    true(),
                    *(
                        self.condition(target, p, row, f"{where}._and[{i}]", depth)
                        for i, p in enumerate(parts)
                    ),
                )
            case Or(parts):
                return or_(
                    false(),
                    *(
                        self.condition(target, p, row, f"{where}._or[{i}]", depth)
                        for i, p in enumerate(parts)
                    ),
                )
            case Not(part):
                return not_(self.condition(target, part, row, f"{where}._not", depth))
            case Compare(name, op, value):
                return self._compare(target, name, op, value, row, where)
            case JsonTest(name, _, _, _):
                field = target.field(name, where)
                if field.type is not FieldType.JSON:
                    raise InvalidFilterError(f"{where}.{name}: {name} is not a JSON field")
                return _json(row.c[field.column], flt, f"{where}.{name}")
            case Inside(box):
                if not target.spatial:
                    raise InvalidFilterError(f"{where}.inside: {target.name} have no geometry")
                c = row.c
                return and_(c.x >= box.x0, c.y >= box.y0, c.x + c.w <= box.x1, c.y + c.h <= box.y1)
            case Related():
                return self._related(target, flt, row, where, depth)
        raise InvalidFilterError(f"{where}: not a filter: {flt!r}")

    def _compare(
        self, target: Target, name: str, op: Op, value: object, row: FromClause, where: str
    ) -> ColumnElement[bool]:
        field = target.field(name, where)
        at = f"{where}.{name}.{op}"
        if op not in field.ops:
            raise InvalidFilterError(
                f"{at}: {field.name} ({field.type}) takes {', '.join(sorted(field.ops))}"
            )
        return _scalar(row.c[field.column], op, coerce(field, op, value, at))

    def _related(
        self, target: Target, rel: Related, row: FromClause, where: str, depth: int
    ) -> ColumnElement[bool]:
        relation = target.relation(rel.relation, where)
        at = f"{where}.{rel.relation}"
        if target is FRAMES and relation.target is INSTANCES:
            return self._frame_instances(rel, row, at, depth)
        other = self.rows(relation.target, f"{relation.target.name}_{depth + 1}")
        joined = and_(
            visible(other, self.version),
            other.c[relation.remote] == row.c[relation.local],
        )
        matches = self.condition(relation.target, rel.filter, other, at, depth + 1)
        if rel.count is not None:
            op, n = _count(relation, rel.count, at)
            counted = select(func.count()).where(joined, matches).scalar_subquery()
            return _COMPARE[op](counted, n)
        if rel.quantifier is Quantifier.EVERY:
            _to_many(relation, "every", at)
            # "Every" fails on an entity whose test is unknown (a NULL field), as "some" ignores it.
            return ~exists().where(joined, not_(func.coalesce(matches, false())))
        found = exists().where(joined, matches)
        return found if rel.quantifier is Quantifier.SOME else ~found

    def _frame_instances(
        self, rel: Related, group: FromClause, where: str, depth: int
    ) -> ColumnElement[bool]:
        """A frame's instances are the rows of its group: an aggregate, for HAVING."""
        matches = func.coalesce(
            self.condition(INSTANCES, rel.filter, group, where, depth + 1), false()
        )
        if rel.count is not None:
            op, n = _count(FRAMES.relations["instances"], rel.count, where)
            return _COMPARE[op](func.count().filter(matches), n)
        match rel.quantifier:
            case Quantifier.SOME:
                return func.bool_or(matches)
            case Quantifier.NONE:
                return not_(func.bool_or(matches))
            case Quantifier.EVERY:
                return func.bool_and(matches)


def _to_many(relation: Relation, what: str, where: str) -> None:
    if not relation.to_many:
        raise InvalidFilterError(
            f"{where}: {what} applies to lists; {relation.name} is one entity (use its filter)"
        )


def _count(relation: Relation, count: tuple[Any, Any], where: str) -> tuple[Op, int]:
    _to_many(relation, "count", where)
    op, n = count
    if op not in COUNT_OPS or not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise InvalidFilterError(
            f"{where}.count: compare the count with one of {', '.join(sorted(COUNT_OPS))} "
            "and a whole number >= 0"
        )
    return op, n


def compile_filter(
    version: Version, target: Target, flt: Filter, row: FromClause, where: str = "where"
) -> ColumnElement[bool]:
    """The SQL condition for `flt` on rows `row` of `target` at `version`."""
    return Compiler(version).condition(target, flt, row, where)


def fields_named(target: Target, names: Sequence[str], where: str) -> list[Field]:
    """The fields called `names` (for orderBy); INVALID_FILTER for an unknown one."""
    return [target.field(n, where) for n in names]
