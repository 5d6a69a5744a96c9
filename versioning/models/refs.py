"""Branches, commits and tags: the names that make a sequence number a version.

A branch is a line of sequence numbers. Its committed states are `1 .. head_seq`; its working
state (writes not yet committed) lives at `head_seq + 1`. A child branch starts at
`(parent_branch_id, fork_seq)` and sees the parent's rows as they were at `fork_seq`.

Commits form a graph (versioning/graph.py). A commit is one `(branch, seq)`, its canonical
coordinates; `seq = 0` only for the dataset's root commit (the empty state on the root branch,
no parent, generation 0). Every other commit has a first parent (the branch's previous commit,
or the commit the branch was made from) and a merge commit a second (the source merged);
`generation` is 1 + the greatest generation of its parents. A tag names one commit.
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
    SmallInteger,
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
    created_at: Mapped[datetime] = created_at_column()
    # Creation order: a parent's ordinal is never above its child's, so a walk of ancestors
    # newest first can stop below an ordinal (log), and merge bases break ties by it.
    ordinal: Mapped[int] = mapped_column(Identity())
    # Longest path to the root commit: a parent's generation is below its child's, so a walk
    # for common ancestors can stop below a generation (graph.merge_base).
    generation: Mapped[int]
    # Set by gc on a commit of a deleted branch that nothing needs to read any more: the row
    # stays (its descendants' ancestry goes through it), its state does not; it no longer
    # resolves as a version.
    pruned: Mapped[bool] = mapped_column(server_default=text("false"))

    __table_args__ = (
        ForeignKeyConstraint(["dataset_id", "branch_id"], ["branch.dataset_id", "branch.id"]),
        UniqueConstraint("dataset_id", "branch_id", "seq"),
        CheckConstraint("seq >= 0", name="seq_non_negative"),
        # Only the root commit has seq 0, and only it has generation 0 (it has no parent).
        CheckConstraint("(seq = 0) = (generation = 0)", name="root_commit"),
    )


class CommitParent(Base):
    """Parent `position` of commit `commit_id`: 0 the first parent, 1 a merge's source."""

    __tablename__ = "commit_parent"

    dataset_id: Mapped[int] = mapped_column(primary_key=True)
    commit_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    parent_id: Mapped[uuid.UUID]

    __table_args__ = (
        ForeignKeyConstraint(
            ["dataset_id", "commit_id"], ["commit.dataset_id", "commit.id"], ondelete="CASCADE"
        ),
        # No cascade: a commit that is still some commit's parent cannot be deleted. Checked at
        # the transaction's end, because a dataset's deletion removes both through cascades in
        # an order of PostgreSQL's choosing.
        ForeignKeyConstraint(
            ["dataset_id", "parent_id"],
            ["commit.dataset_id", "commit.id"],
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint("position IN (0, 1)", name="position"),
        CheckConstraint("parent_id <> commit_id", name="not_own_parent"),
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
