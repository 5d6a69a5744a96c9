"""Datasets and the media bytes they reference.

A blob row records that a dataset references some content-addressed bytes; the bytes exist once
in the blob store whatever number of datasets or revisions point at them. Blob rows are never
versioned: a file revision names its blob by sha256, and the blob row outlives every revision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Identity, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at_column


class Dataset(Base):
    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(server_default=text("''"))
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    # A name, not a branch id: the branch table references the dataset, and a cycle of foreign
    # keys would make creating either row a two-step dance.
    default_branch: Mapped[str] = mapped_column(String(200), server_default=text("'main'"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        # Names appear in URLs, CLI arguments and `dataset@version` strings.
        CheckConstraint(r"name ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$'", name="name_format"),
    )


class Blob(Base):
    __tablename__ = "blob"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    mime: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("size >= 0", name="size_non_negative"),
    )
