"""Branches, commits and tags: the names that make a sequence number a version.

A branch is a line of sequence numbers. Its committed states are `1 .. head_seq`; its working
state (writes not yet committed) lives at `head_seq + 1`. A child branch starts at
`(parent_branch_id, fork_seq)` and sees the parent's rows as they were at `fork_seq`.
A commit records one `(branch, seq)`; a tag names one commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at_column
from .vocabulary import Role, sql_in


class Branch(Base):
    __tablename__ = "branch"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_branch_id: Mapped[int | None]
    fork_seq: Mapped[int | None]
    head_seq: Mapped[int] = mapped_column(server_default=text("0"))
    protected: Mapped[bool] = mapped_column(server_default=text("false"))
    # A protected branch takes changes only by merge, from this role up (NULL: editor).
    merge_role: Mapped[str | None] = mapped_column(String(16))
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(server_default=text("''"))
    created_at: Mapped[datetime] = created_at_column()
    # Deleted branches keep their rows until garbage collection proves nothing can see them.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        ForeignKeyConstraint(
            ["dataset_id", "parent_branch_id"], ["branch.dataset_id", "branch.id"]
        ),
        CheckConstraint("(parent_branch_id IS NULL) = (fork_seq IS NULL)", name="fork_point"),
        CheckConstraint(sql_in("merge_role", Role), name="merge_role"),
        CheckConstraint("fork_seq >= 0 AND head_seq >= 0", name="seq_non_negative"),
        CheckConstraint(r"name ~ '^[A-Za-z0-9][A-Za-z0-9._/-]*$'", name="name_format"),
        # Live names are unique; a deleted branch's name can be reused.
        Index(
            "uq_branch_live_name",
            "dataset_id",
            "name",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )


class Commit(Base):
    __tablename__ = "commit"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=text("gen_random_uuid()")
    )
    branch_id: Mapped[int]
    seq: Mapped[int]
    message: Mapped[str] = mapped_column(server_default=text("''"))
    author: Mapped[str] = mapped_column(server_default=text("''"))
    # Set on merge commits: the source state merged in, so the next merge of the same branch
    # uses it as its base and brings only what changed since.
    merged_branch_id: Mapped[int | None]
    merged_seq: Mapped[int | None]
    created_at: Mapped[datetime] = created_at_column()
    # Total order of commits: merge picks its base by the most recent merge commit, and
    # created_at (the transaction's start) ties for commits made in one transaction.
    ordinal: Mapped[int] = mapped_column(Identity())

    __table_args__ = (
        ForeignKeyConstraint(["dataset_id", "branch_id"], ["branch.dataset_id", "branch.id"]),
        ForeignKeyConstraint(
            ["dataset_id", "merged_branch_id"], ["branch.dataset_id", "branch.id"]
        ),
        UniqueConstraint("dataset_id", "branch_id", "seq"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        # merge: the merge commits along a lineage, to find the base.
        Index(
            "ix_commit_merges",
            "dataset_id",
            "branch_id",
            "seq",
            postgresql_where=text("merged_branch_id IS NOT NULL"),
        ),
        CheckConstraint("(merged_branch_id IS NULL) = (merged_seq IS NULL)", name="merge_source"),
    )


class Tag(Base):
    __tablename__ = "tag"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    branch_id: Mapped[int]
    seq: Mapped[int]
    message: Mapped[str] = mapped_column(server_default=text("''"))
    created_by: Mapped[str] = mapped_column(server_default=text("''"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        # A tag can only name a committed state.
        ForeignKeyConstraint(
            ["dataset_id", "branch_id", "seq"],
            ["commit.dataset_id", "commit.branch_id", "commit.seq"],
        ),
        UniqueConstraint("dataset_id", "name"),
        CheckConstraint(r"name ~ '^[A-Za-z0-9][A-Za-z0-9._/-]*$'", name="name_format"),
    )
