"""Small SQL building blocks shared by the core."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import orjson
import psycopg
from psycopg import sql as psycopg_sql
from sqlalchemy import ColumnElement, Connection, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import Float, Integer, TypeEngine, Uuid


def among(column: ColumnElement[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """`column = ANY(:array)`: one bound array, however many values (IN would bind each one)."""
    item: TypeEngine[Any] = column.type
    return column == any_(bindparam(None, list(values), type_=ARRAY(item)))


def driver(conn: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under `conn`, for COPY and for composed identifiers."""
    found = conn.connection.driver_connection
    assert isinstance(found, psycopg.Connection)
    return found


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: Any) -> str:
    """`value` in COPY's text format (NULL is \\N; JSON values are passed as JSON text)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float | uuid.UUID):
        return str(value)
    return orjson.dumps(value).decode().translate(_ESCAPES)


def _formatter(column_type: Any) -> Any:
    """A fast `_text` for one column's type (the common types; anything else: `_text`)."""
    if isinstance(column_type, JSONB):
        return lambda v: "\\N" if v is None else orjson.dumps(v).decode().translate(_ESCAPES)
    if isinstance(column_type, Uuid):
        # Files and labels repeat across rows: their text is made once.
        seen: dict[Any, str] = {}

        def uuid_text(v: Any) -> str:
            found = seen.get(v)
            if found is None:
                found = "\\N" if v is None else str(v)
                if len(seen) < 100_000:
                    seen[v] = found
            return found

        return uuid_text
    if isinstance(column_type, Float | Integer):
        return lambda v: "\\N" if v is None else str(v)
    return _text


def copy_text(
    conn: Connection, name: str, columns: Sequence[str], types: Sequence[Any], rows: Any
) -> int:
    """COPY `rows` (mappings, or any iterable of them: streamed) into table `name`, in the
    connection's transaction, as text lines written in blocks; the number of rows.

    For thousands of rows COPY beats any INSERT: no per-row statement, no bind-parameter limit.
    Lines are formatted per column type rather than by psycopg's `write_row`, which was a third
    of a bulk import's Python time. JSONB values are sent as JSON text.
    """
    formats = [(column, _formatter(kind)) for column, kind in zip(columns, types, strict=True)]
    statement = psycopg_sql.SQL("COPY {} ({}) FROM STDIN").format(
        psycopg_sql.Identifier(name),
        psycopg_sql.SQL(", ").join(psycopg_sql.Identifier(c) for c in columns),
    )
    count = 0
    block: list[str] = []
    with driver(conn).cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            block.append("\t".join([fmt(row[column]) for column, fmt in formats]))
            count += 1
            if len(block) == 2000:
                copy.write("\n".join(block) + "\n")
                block = []
        if block:
            copy.write("\n".join(block) + "\n")
    return count


def copy_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (all with the same keys) into `table` with one COPY (`copy_text`)."""
    if not rows:
        return
    columns = list(rows[0])
    copy_text(conn, table.name, columns, [table.c[c].type for c in columns], rows)
