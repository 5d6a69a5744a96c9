"""Declarative base, constraint naming, and the column helpers every table shares.

Constraint and index names follow one convention so that Alembic revisions name (and can later
drop) every constraint deterministically, whatever server generated them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, DateTime, MetaData, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every integer column is BIGINT: row counts and sequence numbers outgrow 2**31 on real data.
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONB, int: BigInteger}


def created_at_column() -> Mapped[datetime]:
    """A `created_at timestamptz NOT NULL DEFAULT now()` column."""
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def jsonb_object_column(name: str | None = None) -> Mapped[dict[str, Any]]:
    """A JSONB column that always holds an object (default `{}`), optionally named `name`."""
    args: tuple[Any, ...] = (JSONB,) if name is None else (name, JSONB)
    return mapped_column(
        *args,
        nullable=False,
        server_default=text("'{}'::jsonb"),
        info={"json_object": True},
    )
