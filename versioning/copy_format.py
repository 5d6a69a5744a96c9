"""Rows as lines of COPY's text format, by one function generated for the columns' types.

A bulk import formats millions of rows; calling a formatter per value was a third of its Python
time. `line_function` compiles the columns into one expression instead (as `dataclasses`
compiles `__init__`): one call per row, each type's conversion inline. NULL is `\\N`; text is
escaped (backslash, tab, newline, carriage return); JSON values go as JSON text; a UUID column
takes a `uuid.UUID` or its text (32 hex digits, with or without hyphens).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import Float, Integer, String, Uuid

Line = Callable[[Mapping[str, Any]], str]

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def text_value(value: Any) -> str:
    """`value` in COPY's text format, whatever its type."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _escaped(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float | uuid.UUID):
        return str(value)
    return _json(value)


def _json(value: Any) -> str:
    # JSON text escapes control characters itself; only its backslashes need doubling.
    text = orjson.dumps(value).decode()
    return text.replace("\\", "\\\\") if "\\" in text else text


def _escaped(value: str) -> str:
    # translate() costs a dictionary lookup per character; most values need none.
    if value.isprintable() and "\\" not in value:
        return value
    return value.translate(_ESCAPES)


def _expression(column_type: Any) -> str:
    """Python source turning a non-null `v` of `column_type` into COPY text."""
    if isinstance(column_type, JSONB):
        return "_json(v)"
    if isinstance(column_type, Uuid | Float | Integer):
        # str() of a UUID, of its text, or of a number is already COPY text.
        return "str(v)"
    if isinstance(column_type, String):
        return "(_escaped(v) if type(v) is str else _text(v))"
    return "_text(v)"


def line_function(columns: Sequence[str], types: Sequence[Any]) -> Line:
    """line_function: a function from a row (a mapping with every column) to its COPY text
    line, without the newline; built once per COPY, O(columns)."""
    parts = [
        f"('\\\\N' if (v := row[{column!r}]) is None else {_expression(kind)})"
        for column, kind in zip(columns, types, strict=True)
    ]
    source = "def line(row):\n    return '\\t'.join((" + ", ".join(parts) + ",))\n"
    namespace: dict[str, Any] = {"_json": _json, "_text": text_value, "_escaped": _escaped}
    exec(compile(source, "<copy_format.line>", "exec"), namespace)  # noqa: S102 - source built above from column names
    line: Line = namespace["line"]
    return line
