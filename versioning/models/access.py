"""Who may do what: teams, their members, API keys and per-dataset grants.

These are small reference tables (replicated to every node under Citus), not distributed by
dataset, except `dataset_grant`, which every dataset read composes with and so carries
`dataset_id`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at_column
from .vocabulary import Role, sql_in


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (CheckConstraint("name <> ''", name="name_not_empty"),)


class Member(Base):
    __tablename__ = "member"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("team_id", "name"),
        CheckConstraint("name <> ''", name="name_not_empty"),
    )


class ApiKey(Base):
    """A key is shown once at creation; only its hash and a visible lookup prefix are kept."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    is_admin: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # An admin key may stand alone; any other key acts for a team.
        CheckConstraint("is_admin OR team_id IS NOT NULL", name="team_or_admin"),
    )


class DatasetGrant(Base):
    """`grant` is an SQL keyword; the table is `dataset_grant` so psql needs no quoting."""

    __tablename__ = "dataset_grant"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    # fnmatch-style pattern over ref names ('*' = every branch and tag of the dataset).
    refs: Mapped[str] = mapped_column(String(200), server_default=text("'*'"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("dataset_id", "team_id", "refs"),
        CheckConstraint(sql_in("role", Role), name="role"),
        Index(None, "team_id"),
    )


class AuditEvent(Base):
    """One change and who made it, appended in the change's own transaction; never updated or
    deleted (a trigger refuses it, migration 0007). No foreign keys: the trail outlives the
    datasets, teams and keys it names, so it keeps their names as they were."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = created_at_column()
    actor: Mapped[str] = mapped_column(String(401))
    credential: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(64))
    dataset_id: Mapped[int | None]
    dataset: Mapped[str | None] = mapped_column(String(200))
    ref: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    request_id: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint("jsonb_typeof(detail) = 'object'", name="detail_object"),
        Index(None, "dataset_id", "id"),
    )
