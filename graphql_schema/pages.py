"""Relay connections as one statement: a keyset page, its nodes and edges shaped as JSON.

Order: the requested keys, each with nulls last, then the entity id, so every row has one place
and a cursor (base64 JSON of the order's name and the row's key values) resumes exactly after it;
a cursor is refused under any other order. The page query
takes `first + 1` rows under the keyset condition (`> cursor`, expanded per key so NULLs and
descending keys work); `nodes` / `edges` aggregate the first `first` rows, and the extra row says
whether there is a next page. `totalCount` is a second statement, run only when selected.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Select,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.base import ColumnCollection

from trainingdb.versioning.errors import InvalidInputError

from .filters.fields import FieldType
from .json_text import Json, array_of, as_json, joined, obj, text_literal
from .passthrough import Shaped
from .selection import Picked
from .shapes import Shaper


@dataclass(frozen=True, slots=True)
class Key:
    """One term of a page's order: a column of the page's rows."""

    column: str
    type: FieldType
    desc: bool = False


@dataclass(frozen=True, slots=True)
class PageResult:
    shaped: dict[str, Shaped]
    has_next: bool
    start_cursor: str | None
    end_cursor: str | None
    total: int | None


class Columns(Protocol):
    """A row source by column name: a table, a subquery, or a Select's selected columns."""

    @property
    def c(self) -> ColumnCollection[str, ColumnElement[Any]]: ...


@dataclass(frozen=True, slots=True)
class _Selected:
    c: ColumnCollection[str, ColumnElement[Any]]


def _sort(row: Columns, keys: Sequence[Key]) -> list[Any]:
    # NULLS LAST rather than an `IS NULL` term first: ascending, that is a btree's own order, so
    # an index on the key serves the page without sorting every matching row.
    return [
        (row.c[k.column].desc() if k.desc else row.c[k.column].asc()).nulls_last() for k in keys
    ]


def _order_of(keys: Sequence[Key]) -> str:
    """The order a cursor belongs to, stored in it so another order's cursor is refused."""
    return ",".join(k.column + (" desc" if k.desc else "") for k in keys)


def _cursor_json(row: FromClause, keys: Sequence[Key]) -> ColumnElement[str]:
    """The text a cursor encodes: the order's name and the row's key values, as JSON."""
    values = func.json_build_array(literal(_order_of(keys)), *(row.c[k.column] for k in keys))
    return cast(values, String)


def _cursor(row: FromClause, keys: Sequence[Key]) -> ColumnElement[str]:
    # encode() wraps base64 at 76 characters; a cursor is one token.
    return func.translate(
        func.encode(func.convert_to(_cursor_json(row, keys), "UTF8"), "base64"),
        "\n",
        "",
        type_=String,
    )


def _encode(cursor_json: str | None) -> str | None:
    """The cursor for `_cursor_json` text: what `_cursor` computes in SQL, byte for byte."""
    return None if cursor_json is None else base64.b64encode(cursor_json.encode()).decode()


def _value(raw: object, key: Key) -> object:
    if raw is None:
        return None
    match key.type:
        case FieldType.ID:
            return uuid.UUID(str(raw))
        case FieldType.INT if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        case FieldType.FLOAT if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        case FieldType.STRING if isinstance(raw, str):
            return raw
    raise ValueError(raw)


def decode_cursor(cursor: str, keys: Sequence[Key], where: str) -> list[object]:
    """The key values in `cursor`; BAD_USER_INPUT if it is not a cursor of this order."""
    try:
        raw = orjson.loads(base64.b64decode(cursor, validate=True))
        if not isinstance(raw, list) or len(raw) != len(keys) + 1 or raw[0] != _order_of(keys):
            raise ValueError(raw)
        return [_value(v, k) for v, k in zip(raw[1:], keys, strict=True)]
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidInputError(
            f"{where}: {cursor!r} is not a cursor of this connection and order"
        ) from None


def after(row: Columns, keys: Sequence[Key], values: Sequence[object]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order of `keys` (nulls last in each key)."""
    ors = []
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        equal = [
            row.c[k.column].is_(None) if v is None else row.c[k.column] == v
            for k, v in zip(keys[:i], values[:i], strict=True)
        ]
        c = row.c[key.column]
        # Past a NULL only other NULLs remain (nulls last): nothing is strictly after it here.
        strictly: ColumnElement[bool] = (
            false() if value is None else or_(c.is_(None), c < value if key.desc else c > value)
        )
        ors.append(and_(*equal, strictly))
    return or_(*ors)


def _edge(shaper: Shaper, type_name: str, picked: Picked, row: FromClause, cursor: Any) -> Json:
    pairs: list[tuple[str, Json]] = []
    for p in picked.children:
        if p.name == "cursor":
            pairs.append((p.key, as_json(cursor)))
        elif p.name == "node":
            pairs.append((p.key, shaper.node(type_name, p.children, row)))
        else:
            pairs.append((p.key, text_literal(f'"{type_name}Edge"')))
    return obj(pairs)


def fetch_page(
    conn: Connection,
    shaper: Shaper,
    type_name: str,
    rows: Select[Any],
    keys: Sequence[Key],
    first: int,
    cursor: str | None,
    picked: Sequence[Picked],
    where: str,
) -> PageResult:
    """One page of `rows` (a Select of whole rows, filtered, unordered) for the connection
    fields `picked` (edges, nodes, pageInfo, totalCount)."""
    # Numbered, ordered and limited in the rows' own SELECT: one derived table, not three (each
    # layer costs SQLAlchemy a proxy per column, which was most of a small page's Python time).
    # The window numbers rows in the order the LIMIT reads them, so it stops with the LIMIT.
    source = _Selected(rows.selected_columns)
    page = rows.add_columns(func.row_number().over(order_by=_sort(source, keys)).label("page_rn"))
    if cursor is not None:
        page = page.where(after(source, keys, decode_cursor(cursor, keys, f"{where}.after")))
    numbered = page.order_by(*_sort(source, keys)).limit(first + 1).subquery("numbered")
    rn, cur = numbered.c.page_rn, _cursor(numbered, keys)
    in_page = rn <= first
    # Every list aggregates in the page's own order, which the subquery already has: PostgreSQL
    # then sorts nothing. The last row's key values are the last elements of arrays in that
    # order (identical aggregates are computed once); only two rows' cursors are built.
    order = _sort(numbered, keys)
    last = [
        func.array_agg(aggregate_order_by(numbered.c[k.column], *order)).filter(in_page)
        for k in keys
    ]
    end = func.json_build_array(
        literal(_order_of(keys)), *(values[func.array_length(values, 1)] for values in last)
    )
    columns: list[Any] = [
        (func.count() > first).label("has_next"),
        func.max(_cursor_json(numbered, keys)).filter(rn == 1).label("start_cursor"),
        case((func.count().filter(in_page) > 0, cast(end, String))).label("end_cursor"),
    ]
    lists = [p for p in picked if p.name in ("nodes", "edges")]
    for i, p in enumerate(lists):
        item = (
            shaper.node(type_name, p.children, numbered)
            if p.name == "nodes"
            else _edge(shaper, type_name, p, numbered, cur)
        )
        columns.append(array_of(joined(item, order).filter(in_page)).label(f"list_{i}"))
    row = conn.execute(select(*columns).select_from(numbered)).one()
    total = None
    if any(p.name == "totalCount" for p in picked):
        total = conn.scalar(select(func.count()).select_from(rows.subquery("counted")))
    return PageResult(
        {p.key: Shaped(row[3 + i].encode()) for i, p in enumerate(lists)},
        row.has_next,
        _encode(row.start_cursor) if first > 0 else None,
        _encode(row.end_cursor),
        total,
    )
