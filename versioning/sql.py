"""Small SQL building blocks shared by the core."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import TypeEngine


def among(column: ColumnElement[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """`column = ANY(:array)`: one bound array, however many values (IN would bind each one)."""
    item: TypeEngine[Any] = column.type
    return column == any_(bindparam(None, list(values), type_=ARRAY(item)))
