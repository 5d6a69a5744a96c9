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
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Select,
    String,
    and_,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from trainingdb.versioning.errors import InvalidInputError

from .filters.fields import FieldType
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


def _sort(row: FromClause, keys: Sequence[Key]) -> list[Any]:
    terms: list[Any] = []
    for key in keys:
        c = row.c[key.column]
        terms += [c.is_(None), c.desc() if key.desc else c.asc()]
    return terms


def _order_of(keys: Sequence[Key]) -> str:
    """The order a cursor belongs to, stored in it so another order's cursor is refused."""
    return ",".join(k.column + (" desc" if k.desc else "") for k in keys)


def _cursor(row: FromClause, keys: Sequence[Key]) -> ColumnElement[str]:
    values = func.json_build_array(literal(_order_of(keys)), *(row.c[k.column] for k in keys))
    # encode() wraps base64 at 76 characters; a cursor is one token.
    return func.translate(
        func.encode(func.convert_to(cast(values, String), "UTF8"), "base64"), "\n", ""
    )


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


def after(row: FromClause, keys: Sequence[Key], values: Sequence[object]) -> ColumnElement[bool]:
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


def _edge(shaper: Shaper, type_name: str, picked: Picked, row: FromClause, cursor: Any) -> Any:
    pairs: list[Any] = []
    for p in picked.children:
        if p.name == "cursor":
            pairs += [literal(p.key), cursor]
        elif p.name == "node":
            pairs += [literal(p.key), shaper.node(type_name, p.children, row)]
        else:
            pairs += [literal(p.key), literal(f"{type_name}Edge")]
    return func.json_build_object(*pairs)


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
    source = rows.subquery("source")
    ordered = select(source)
    if cursor is not None:
        ordered = ordered.where(after(source, keys, decode_cursor(cursor, keys, f"{where}.after")))
    page = ordered.order_by(*_sort(source, keys)).limit(first + 1).subquery("page")
    numbered = select(
        page, func.row_number().over(order_by=_sort(page, keys)).label("page_rn")
    ).subquery("numbered")
    rn, cur = numbered.c.page_rn, _cursor(numbered, keys)
    in_page = rn <= first
    columns: list[Any] = [
        (func.count() > first).label("has_next"),
        func.array_agg(aggregate_order_by(cur, rn.asc())).filter(in_page)[1].label("start_cursor"),
        func.array_agg(aggregate_order_by(cur, rn.desc())).filter(in_page)[1].label("end_cursor"),
    ]
    lists = [p for p in picked if p.name in ("nodes", "edges")]
    for i, p in enumerate(lists):
        item = (
            shaper.node(type_name, p.children, numbered)
            if p.name == "nodes"
            else _edge(shaper, type_name, p, numbered, cur)
        )
        agg = func.json_agg(aggregate_order_by(item, rn.asc())).filter(in_page)
        columns.append(cast(func.coalesce(agg, text("'[]'::json")), String).label(f"list_{i}"))
    row = conn.execute(select(*columns).select_from(numbered)).one()
    total = None
    if any(p.name == "totalCount" for p in picked):
        total = conn.scalar(select(func.count()).select_from(source))
    return PageResult(
        {p.key: Shaped(row[3 + i].encode()) for i, p in enumerate(lists)},
        row.has_next,
        row.start_cursor,
        row.end_cursor,
        total,
    )
