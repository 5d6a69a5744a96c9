"""Small SQL building blocks shared by the core."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import orjson
import psycopg
from psycopg import sql as psycopg_sql
from sqlalchemy import ColumnElement, Connection, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import TypeEngine


def among(column: ColumnElement[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """`column = ANY(:array)`: one bound array, however many values (IN would bind each one)."""
    item: TypeEngine[Any] = column.type
    return column == any_(bindparam(None, list(values), type_=ARRAY(item)))


def copy_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (all with the same keys) with one COPY, in the connection's transaction.

    For thousands of rows COPY beats any INSERT: no per-row statement, no bind-parameter limit.
    JSONB values are sent as JSON text.
    """
    if not rows:
        return
    columns = list(rows[0])
    as_json = [isinstance(table.c[c].type, JSONB) for c in columns]
    statement = psycopg_sql.SQL("COPY {} ({}) FROM STDIN").format(
        psycopg_sql.Identifier(table.name),
        psycopg_sql.SQL(", ").join(psycopg_sql.Identifier(c) for c in columns),
    )
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [
                    orjson.dumps(row[c]).decode() if json and row[c] is not None else row[c]
                    for c, json in zip(columns, as_json, strict=True)
                ]
            )
