"""JSON text built by PostgreSQL with string concatenation: the response shapes of `shapes.py`.

`json_build_object` / `json_agg` look up how to print each argument's type on every call; for
a 10,000-row page of 8 fields that is most of the statement's time (38 ms against 17 ms for the
same text concatenated, on the benchmark machine). Every value here is printed by its type's own
text output, which is valid JSON for the types the schema exposes: uuids are quoted, numbers
printed as they are (the engine refuses NaN and infinities), text and timestamps go through
`to_json` (escaping, ISO 8601), JSON columns print themselves, and NULL becomes `null`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Text, cast, func, literal
from sqlalchemy.dialects.postgresql import JSON, JSONB, aggregate_order_by
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.sql.sqltypes import DateTime, Float, Integer, Numeric, String, Uuid

Json = ColumnElement[str]


def text_literal(value: str) -> Json:
    """A constant piece of JSON text, as a bound parameter."""
    return literal(value, Text)


def concat(*parts: Json) -> Json:
    # One variadic call builds faster in SQLAlchemy than a chain of `||` (and runs as fast);
    # every part is non-null by construction, so concat's NULL-skipping never applies.
    return func.concat(*parts, type_=Text)


def _null_safe(value: Json) -> Json:
    return func.coalesce(value, text_literal("null"), type_=Text)


def as_json(value: ColumnElement[Any]) -> Json:
    """`value` printed as JSON text, by its SQL type; NULL as `null`."""
    kind = value.type
    if isinstance(kind, Uuid | PG_UUID):
        return _null_safe(concat(text_literal('"'), cast(value, Text), text_literal('"')))
    if isinstance(kind, Integer | Float | Numeric | Boolean | JSON | JSONB):
        return _null_safe(cast(value, Text))
    if isinstance(kind, String | DateTime):
        return _null_safe(cast(func.to_json(value), Text))
    raise TypeError(f"no JSON text for {kind!r}")


def obj(pairs: Sequence[tuple[str, Json]]) -> Json:
    """A JSON object of (key, JSON text) pairs. Keys are GraphQL response names, which need no
    escaping, bound as parameters all the same."""
    if not pairs:
        return text_literal("{}")
    parts: list[Json] = []
    for i, (key, value) in enumerate(pairs):
        parts += [text_literal(("{" if i == 0 else ",") + f'"{key}":'), value]
    parts.append(text_literal("}"))
    return concat(*parts)


def array_of(items: Json) -> Json:
    """`[...]` around an aggregate of JSON texts joined by commas (empty: `[]`)."""
    return concat(text_literal("["), func.coalesce(items, text_literal("")), text_literal("]"))


def joined(item: Json, order_by: Sequence[Any]) -> Any:
    """string_agg of `item` with commas, in `order_by` (an aggregate: filter it as needed).

    When the rows come from a subquery already in that order, PostgreSQL skips the sort.
    """
    separator = text_literal(",")
    return func.string_agg(
        item, aggregate_order_by(separator, *order_by) if order_by else separator, type_=Text
    )
