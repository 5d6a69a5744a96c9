"""Small SQL building blocks shared by the core."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql as psycopg_sql
from sqlalchemy import ColumnElement, Connection, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import TypeEngine

from .copy_format import line_function


def among(column: ColumnElement[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """`column = ANY(:array)`: one bound array, however many values (IN would bind each one)."""
    item: TypeEngine[Any] = column.type
    return column == any_(bindparam(None, list(values), type_=ARRAY(item)))


def driver(conn: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under `conn`, for COPY and for composed identifiers."""
    found = conn.connection.driver_connection
    assert isinstance(found, psycopg.Connection)
    return found


def copy_text(
    conn: Connection, name: str, columns: Sequence[str], types: Sequence[Any], rows: Any
) -> int:
    """COPY `rows` (mappings, or any iterable of them: streamed) into table `name`, in the
    connection's transaction, as text lines written in blocks; the number of rows.

    For thousands of rows COPY beats any INSERT: no per-row statement, no bind-parameter limit.
    Lines come from `copy_format.line_function` rather than psycopg's `write_row`, which was a
    third of a bulk import's Python time.
    """
    line = line_function(columns, types)
    statement = psycopg_sql.SQL("COPY {} ({}) FROM STDIN").format(
        psycopg_sql.Identifier(name),
        psycopg_sql.SQL(", ").join(psycopg_sql.Identifier(c) for c in columns),
    )
    count = 0
    block: list[str] = []
    with driver(conn).cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            block.append(line(row))
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
