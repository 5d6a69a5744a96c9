"""Commits: recording a branch's working state as its next committed state, and the log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, insert, or_, select, update

from .atomic import atomic
from .events import RefChange, RefEvent, ref_changed
from .models import Branch, Commit
from .refs import BranchRow, lock_branch
from .versions import resolve


@dataclass(frozen=True, slots=True)
class CommitRow:
    dataset_id: int
    id: uuid.UUID
    branch_id: int
    seq: int
    message: str
    author: str
    merged_branch_id: int | None
    merged_seq: int | None
    created_at: datetime
    ordinal: int


_COLUMNS = (
    Commit.dataset_id,
    Commit.id,
    Commit.branch_id,
    Commit.seq,
    Commit.message,
    Commit.author,
    Commit.merged_branch_id,
    Commit.merged_seq,
    Commit.created_at,
    Commit.ordinal,
)


def record_commit(
    conn: Connection,
    branch: BranchRow,
    message: str,
    author: str,
    merged: tuple[int, int] | None = None,
    change: RefChange = RefChange.COMMIT,
) -> CommitRow:
    """Commit the working state of `branch`, which the caller has locked: O(1), no row copied;
    listeners hear of it as `change` (MERGE when `merged` is given)."""
    seq = branch.head_seq + 1
    row = conn.execute(
        insert(Commit)
        .values(
            dataset_id=branch.dataset_id,
            branch_id=branch.id,
            seq=seq,
            message=message,
            author=author,
            merged_branch_id=merged[0] if merged else None,
            merged_seq=merged[1] if merged else None,
        )
        .returning(*_COLUMNS)
    ).one()
    conn.execute(
        update(Branch)
        .where(Branch.dataset_id == branch.dataset_id, Branch.id == branch.id)
        .values(head_seq=seq)
    )
    made = CommitRow(**row._asdict())
    kind = RefChange.MERGE if merged else change
    ref_changed(conn, RefEvent(branch.dataset_id, kind, branch.name, branch.id, seq, made.id.hex))
    return made


@atomic
def commit(
    conn: Connection, dataset_id: int, branch: str, message: str = "", author: str = ""
) -> CommitRow:
    """commit: the branch's working state becomes committed state head_seq + 1; O(1)."""
    return record_commit(conn, lock_branch(conn, dataset_id, branch), message, author)


def log(conn: Connection, dataset_id: int, ref: str, limit: int = 100) -> list[CommitRow]:
    """log: commits the version contains through its lineage, newest first; one statement."""
    version = resolve(conn, dataset_id, ref)
    # A working-state entry's seq is head_seq + 1, one past its last commit: `<=` still holds.
    reach = [
        and_(Commit.branch_id == entry.branch_id, Commit.seq <= entry.seq)
        for entry in version.lineage
    ]
    rows = conn.execute(
        select(*_COLUMNS)
        .where(Commit.dataset_id == dataset_id, or_(*reach))
        .order_by(Commit.ordinal.desc())
        .limit(limit)
    )
    return [CommitRow(**row._asdict()) for row in rows]


def by_ids(conn: Connection, ids: Sequence[uuid.UUID]) -> list[CommitRow]:
    """by_ids: the commits with these ids, in any dataset (ids are UUIDs); one statement."""
    rows = conn.execute(select(*_COLUMNS).where(Commit.id.in_(list(ids))))
    return [CommitRow(**row._asdict()) for row in rows]
