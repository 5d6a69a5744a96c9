"""compile: a filter tree over a target, at a version, as one SQLAlchemy boolean expression.

The only place user input becomes SQL: field names are looked up in `fields.py` (never
interpolated) and every value is a bound parameter. Related entities are read at the same
version as the rows they qualify: each relation is a correlated EXISTS / count subquery carrying
its own `visible()` predicate. Frames are groups of instances, so their filters compile to
aggregates over the group (`bool_or`, `count(*) FILTER`), for a HAVING clause.

Every value is checked before it becomes a parameter (`coerce`, `check_json`): a number must fit
its column, JSON numbers must be finite and integers fit 64 bits, and text holds no NUL and no
lone surrogate, so PostgreSQL and the driver never see what they would refuse with an internal
error. The readers of both languages call the same checks, with their own positions.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
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
    MAX_DEPTH,
    MAX_TREE_DEPTH,
    And,
    Box,
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
from .fields import (
    FLOAT8,
    FRAMES,
    INSTANCES,
    INT64,
    Field,
    FieldType,
    NumberRange,
    Relation,
    Target,
    shown,
)

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


def text_problem(value: str) -> str | None:
    """Why PostgreSQL cannot take `value` as text (a NUL, a lone surrogate), or None."""
    if "\x00" in value:
        return f"text may not hold a NUL (U+0000), found at offset {value.index(chr(0))}"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return (
                f"text may not hold a lone surrogate (U+{ord(value[error.start]):04X}), found at "
                f"offset {error.start}"
            )
    return None


def _text(value: str, where: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise InvalidFilterError(f"{where}: {problem}")
    return value


def _number(value: int | float, numbers: NumberRange, what: str, where: str) -> None:
    problem = numbers.problem(value, what)
    if problem is not None:
        raise InvalidFilterError(f"{where}: {problem}")


def coerce(
    field: Field, op: Op, value: object, where: str, numbers: NumberRange | None = None
) -> Any:
    """`value` checked (and converted: ids to UUIDs) for `field` under `op`; a number must fit
    `numbers`, the range of the field's column (`Target.number_range`); INVALID_FILTER."""
    if op is Op.IS_NULL:
        if not isinstance(value, bool):
            raise InvalidFilterError(f"{where}: _is_null takes true or false, not {shown(value)}")
        return value
    if op in (Op.IN, Op.NIN):
        if not isinstance(value, list | tuple):
            raise InvalidFilterError(f"{where}: {op} takes a list, not {shown(value)}")
        return [coerce(field, Op.EQ, v, f"{where}[{i}]", numbers) for i, v in enumerate(value)]
    if value is None:
        raise InvalidFilterError(f"{where}: {op} null is never true; use _is_null")
    match field.type:
        case FieldType.INT if isinstance(value, int) and not isinstance(value, bool):
            _number(value, numbers or INT64, field.name, where)
            return value
        case FieldType.FLOAT if _is_number(value):
            _number(value, numbers or FLOAT8, field.name, where)  # type: ignore[arg-type]
            return float(value)  # type: ignore[arg-type]
        case FieldType.STRING if isinstance(value, str):
            if field.choices and op in (Op.EQ, Op.NEQ) and value not in field.choices:
                raise InvalidFilterError(
                    f"{where}: {value!r} is not a {field.name}; one of {', '.join(field.choices)}"
                )
            return _text(value, where)
        case FieldType.ID:
            try:
                return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
            except ValueError:
                raise InvalidFilterError(f"{where}: {shown(value)} is not an id (a UUID)") from None
    raise InvalidFilterError(
        f"{where}: {shown(value)} is not a valid {field.type} for {field.name}"
    )


def checked(target: Target, name: str, op: Op, value: object, where: str) -> Any:
    """The value of a comparison of `target`'s field `name`, checked (`coerce`), once the field
    is known to take `op`; INVALID_FILTER naming `where` otherwise."""
    field = target.field(name, where)
    if op not in field.ops:
        raise InvalidFilterError(
            f"{where}: {field.name} ({field.type}) takes {', '.join(sorted(field.ops))}"
        )
    return coerce(field, op, value, where, target.number_range(field))


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if key.isidentifier() else f"{where}[{key!r}]"


def check_json(value: object, where: str) -> None:
    """INVALID_FILTER unless `value` is JSON PostgreSQL takes: strings with no NUL or lone
    surrogate (keys too), finite numbers, integers that fit 64 bits, at most MAX_DEPTH levels.
    Iterative: a value nested beyond any stack is reported, not recursed into."""
    stack: list[tuple[object, str, int]] = [(value, where, 0)]
    while stack:
        item, at, depth = stack.pop()
        if isinstance(item, Mapping | list | tuple):
            if depth >= MAX_DEPTH:
                raise too_deep(at)
            if isinstance(item, Mapping):
                for key, child in item.items():
                    if not isinstance(key, str):
                        raise InvalidFilterError(f"{at}: a JSON key is a string, not {shown(key)}")
                    _text(key, f"{at} (a key)")
                    stack.append((child, _key(at, key), depth + 1))
            else:
                stack += [(child, f"{at}[{i}]", depth + 1) for i, child in enumerate(item)]
        elif isinstance(item, str):
            _text(item, at)
        elif isinstance(item, int) and not isinstance(item, bool):
            _number(item, INT64, "a JSON integer", at)
        elif isinstance(item, float):
            _number(item, FLOAT8, "a JSON number", at)
        elif not (item is None or isinstance(item, bool)):
            raise InvalidFilterError(f"{at}: {shown(item)} is not a JSON value")


def check_box(box: Box, where: str) -> None:
    for corner in (box.x0, box.y0, box.x1, box.y1):
        if not _is_number(corner):
            raise InvalidFilterError(f"{where}: inside takes numbers, not {shown(corner)}")
        _number(corner, FLOAT8, "a coordinate", where)


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
    check_json(list(test.path), f"{where}.path")
    check_json(test.value, f"{where}.{test.op}")
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
        self,
        target: Target,
        flt: Filter,
        row: FromClause,
        where: str,
        depth: int = 0,
        level: int = 0,
    ) -> ColumnElement[bool]:
        """`flt` over rows `row` of `target` (a table or alias). `depth` counts the relations
        around (naming aliases), `level` every node around (bounding the recursion)."""
        if level > MAX_TREE_DEPTH:
            raise InvalidFilterError(f"{where}: nested deeper than {MAX_TREE_DEPTH} levels")
        inner = level + 1
        match flt:
            case And(parts):
                return and_(
                    true(),
                    *(
                        self.condition(target, p, row, f"{where}._and[{i}]", depth, inner)
                        for i, p in enumerate(parts)
                    ),
                )
            case Or(parts):
                return or_(
                    false(),
                    *(
                        self.condition(target, p, row, f"{where}._or[{i}]", depth, inner)
                        for i, p in enumerate(parts)
                    ),
                )
            case Not(part):
                return not_(self.condition(target, part, row, f"{where}._not", depth, inner))
            case Compare(name, op, value):
                column = row.c[target.field(name, where).column]
                return _scalar(column, op, checked(target, name, op, value, f"{where}.{name}.{op}"))
            case JsonTest(name, _, _, _):
                field = target.field(name, where)
                if field.type is not FieldType.JSON:
                    raise InvalidFilterError(f"{where}.{name}: {name} is not a JSON field")
                return _json(row.c[field.column], flt, f"{where}.{name}")
            case Inside(box):
                if not target.spatial:
                    raise InvalidFilterError(f"{where}.inside: {target.name} have no geometry")
                check_box(box, f"{where}.inside")
                c = row.c
                return and_(c.x >= box.x0, c.y >= box.y0, c.x + c.w <= box.x1, c.y + c.h <= box.y1)
            case Related():
                return self._related(target, flt, row, where, depth, inner)
        raise InvalidFilterError(f"{where}: not a filter: {flt!r}")

    def _related(
        self, target: Target, rel: Related, row: FromClause, where: str, depth: int, level: int
    ) -> ColumnElement[bool]:
        relation = target.relation(rel.relation, where)
        at = f"{where}.{rel.relation}"
        if target is FRAMES and relation.target is INSTANCES:
            return self._frame_instances(rel, row, at, depth, level)
        other = self.rows(relation.target, f"{relation.target.name}_{depth + 1}")
        joined = and_(
            visible(other, self.version),
            other.c[relation.remote] == row.c[relation.local],
        )
        matches = self.condition(relation.target, rel.filter, other, at, depth + 1, level)
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
        self, rel: Related, group: FromClause, where: str, depth: int, level: int
    ) -> ColumnElement[bool]:
        """A frame's instances are the rows of its group: an aggregate, for HAVING."""
        matches = func.coalesce(
            self.condition(INSTANCES, rel.filter, group, where, depth + 1, level), false()
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
    # count(*) is a bigint: a wider number would reach PostgreSQL as an out-of-range error.
    _number(n, INT64, "a count", f"{where}.count")
    return op, n


def compile_filter(
    version: Version, target: Target, flt: Filter, row: FromClause, where: str = "where"
) -> ColumnElement[bool]:
    """The SQL condition for `flt` on rows `row` of `target` at `version`."""
    return Compiler(version).condition(target, flt, row, where)


def fields_named(target: Target, names: Sequence[str], where: str) -> list[Field]:
    """The fields called `names` (for orderBy); INVALID_FILTER for an unknown one."""
    return [target.field(n, where) for n in names]
