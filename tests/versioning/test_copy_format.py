"""copy_format: every value comes back from a real COPY exactly as it went in."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Column, Connection, Double, Integer, MetaData, String, Table, Text, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import Uuid

from trainingdb.versioning.copy_format import line_function
from trainingdb.versioning.sql import copy_rows

TABLE = Table(
    "copy_probe",
    MetaData(),
    Column("t", Text),
    Column("s", String(40)),
    Column("j", JSONB),
    Column("u", Uuid),
    Column("d", Double),
    Column("i", Integer),
    prefixes=["TEMPORARY"],
)
AWKWARD = [
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "back\\slash \\N",
    "ünïcödé 日本 \u2028 \xa0",
    "",
]
ID = uuid.UUID("12345678-9abc-4def-8123-456789abcdef")


def test_values_round_trip_through_copy(conn: Connection) -> None:
    TABLE.create(conn)
    rows: list[dict[str, Any]] = [
        {
            "t": text,
            "s": text[:40],
            "j": {"k": text, "n": [1, 2.5, None, True], "q": '"quoted"'},
            "u": ID,
            "d": 0.1 + index,
            "i": -index,
        }
        for index, text in enumerate(AWKWARD)
    ]
    rows.append(dict.fromkeys(("t", "s", "j", "u", "d", "i")))
    copy_rows(conn, TABLE, rows)
    back = [dict(r) for r in conn.execute(select(TABLE)).mappings()]
    assert back == rows


@pytest.mark.parametrize("text", [str(ID), ID.hex])
def test_uuid_columns_take_the_text_form(conn: Connection, text: str) -> None:
    TABLE.create(conn)
    copy_rows(conn, TABLE, [{"u": text}])
    assert conn.scalar(select(TABLE.c.u)) == ID


def test_one_line_per_row_with_nulls_and_escapes() -> None:
    line = line_function(["t", "i", "j"], [Text(), Integer(), JSONB()])
    assert line({"t": "a\tb", "i": None, "j": {"x": "\\"}}) == 'a\\tb\t\\N\t{"x":"\\\\\\\\"}'
