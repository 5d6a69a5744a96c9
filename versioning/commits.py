"""Commits: recording a branch's working state as its next committed state, with its parents.

A commit's first parent is the branch's current commit (its last own commit, or the commit it was
made from); a merge commit's second parent is the source commit (models/refs.py). The graph
they form is walked in `graph.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, insert, select, tuple_, update
from sqlalchemy.orm import aliased

from .atomic import atomic
from .events import RefChange, RefEvent, ref_changed
from .models import Branch, Commit, CommitParent
from .refs import BranchRow, load_branches, lock_branch
from .versions import canonical


@dataclass(frozen=True, slots=True)
class CommitRow:
    dataset_id: int
    id: uuid.UUID
    branch_id: int
    seq: int
    message: str
    author: str
    created_at: datetime
    ordinal: int
    generation: int
    # The branch's previous commit (None only for the root commit), and a merge's source.
    first_parent: uuid.UUID | None
    merge_parent: uuid.UUID | None
    # The canonical coordinates of `merge_parent`.
    merged_from: tuple[int, int] | None

    @property
    def parents(self) -> tuple[uuid.UUID, ...]:
        return tuple(p for p in (self.first_parent, self.merge_parent) if p is not None)


ROOT_MESSAGE = "Dataset created"
_FIRST = aliased(CommitParent, name="first_parent")
_MERGED = aliased(CommitParent, name="merge_parent")
_SOURCE = aliased(Commit, name="merge_source")


def _parent_at(edge: Any, position: int) -> ColumnElement[bool]:
    return and_(
        edge.dataset_id == Commit.dataset_id,
        edge.commit_id == Commit.id,
        edge.position == position,
    )


def commit_rows(*where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """SELECT the CommitRow columns of the commits matching `where` (outer-joined parents)."""
    return (
        select(
            Commit.dataset_id,
            Commit.id,
            Commit.branch_id,
            Commit.seq,
            Commit.message,
            Commit.author,
            Commit.created_at,
            Commit.ordinal,
            Commit.generation,
            _FIRST.parent_id.label("first_parent"),
            _MERGED.parent_id.label("merge_parent"),
            _SOURCE.branch_id.label("source_branch"),
            _SOURCE.seq.label("source_seq"),
        )
        .select_from(Commit)
        .outerjoin(_FIRST, _parent_at(_FIRST, 0))
        .outerjoin(_MERGED, _parent_at(_MERGED, 1))
        .outerjoin(
            _SOURCE,
            and_(_SOURCE.dataset_id == Commit.dataset_id, _SOURCE.id == _MERGED.parent_id),
        )
        .where(*where)
    )


def as_commit_row(row: Any) -> CommitRow:
    """A CommitRow from a row of `commit_rows`."""
    merged = None if row.source_branch is None else (row.source_branch, row.source_seq)
    return CommitRow(
        row.dataset_id,
        row.id,
        row.branch_id,
        row.seq,
        row.message,
        row.author,
        row.created_at,
        row.ordinal,
        row.generation,
        row.first_parent,
        row.merge_parent,
        merged,
    )


def commit_at(conn: Connection, dataset_id: int, branch_id: int, seq: int) -> CommitRow:
    """commit_at: the commit at canonical coordinates `(branch_id, seq)`; one statement."""
    row = conn.execute(
        commit_rows(
            Commit.dataset_id == dataset_id, Commit.branch_id == branch_id, Commit.seq == seq
        )
    ).one()
    return as_commit_row(row)


def current_commit(
    conn: Connection, branch: BranchRow, branches: Mapping[int, BranchRow] | None = None
) -> CommitRow:
    """current_commit: the branch's last own commit, or the commit it was made from; one
    statement (and the branches, for a branch without commits, unless given)."""
    if branch.head_seq >= 1 or branch.parent_branch_id is None:
        return commit_at(conn, branch.dataset_id, branch.id, branch.head_seq)
    if branches is None:
        branches = load_branches(conn, branch.dataset_id)
    return commit_at(conn, branch.dataset_id, *canonical(branches, branch.id, 0))


def record_root(conn: Connection, dataset_id: int, branch_id: int) -> None:
    """The dataset's root commit: the empty state `branch@0`, no parent, generation 0."""
    conn.execute(
        insert(Commit).values(
            dataset_id=dataset_id, branch_id=branch_id, seq=0, generation=0, message=ROOT_MESSAGE
        )
    )


def record_commit(
    conn: Connection,
    branch: BranchRow,
    message: str,
    author: str,
    parent: CommitRow,
    merged: CommitRow | None = None,
    change: RefChange = RefChange.COMMIT,
) -> CommitRow:
    """Commit the working state of `branch`, which the caller has locked and whose current
    commit is `parent`: O(1), no row copied; `merged` is a merge's source. Listeners hear of it
    as `change` (MERGE when `merged` is given)."""
    seq = branch.head_seq + 1
    parents = [parent] if merged is None else [parent, merged]
    generation = 1 + max(p.generation for p in parents)
    made = conn.execute(
        insert(Commit)
        .values(
            dataset_id=branch.dataset_id,
            branch_id=branch.id,
            seq=seq,
            message=message,
            author=author,
            generation=generation,
        )
        .returning(Commit.id, Commit.created_at, Commit.ordinal)
    ).one()
    conn.execute(
        insert(CommitParent),
        [
            {
                "dataset_id": branch.dataset_id,
                "commit_id": made.id,
                "position": n,
                "parent_id": p.id,
            }
            for n, p in enumerate(parents)
        ],
    )
    conn.execute(
        update(Branch)
        .where(Branch.dataset_id == branch.dataset_id, Branch.id == branch.id)
        .values(head_seq=seq)
    )
    row = CommitRow(
        branch.dataset_id,
        made.id,
        branch.id,
        seq,
        message,
        author,
        made.created_at,
        made.ordinal,
        generation,
        parent.id,
        None if merged is None else merged.id,
        None if merged is None else (merged.branch_id, merged.seq),
    )
    kind = RefChange.MERGE if merged else change
    ref_changed(conn, RefEvent(branch.dataset_id, kind, branch.name, branch.id, seq, row.id.hex))
    return row


@atomic
def commit(
    conn: Connection, dataset_id: int, branch: str, message: str = "", author: str = ""
) -> CommitRow:
    """commit: the branch's working state becomes committed state head_seq + 1; O(1)."""
    locked = lock_branch(conn, dataset_id, branch)
    return record_commit(conn, locked, message, author, current_commit(conn, locked))


def by_ids(conn: Connection, ids: Sequence[uuid.UUID]) -> list[CommitRow]:
    """by_ids: the commits with these ids, in any dataset (ids are UUIDs); one statement."""
    rows = conn.execute(commit_rows(Commit.id.in_(list(ids))))
    return [as_commit_row(row) for row in rows]


def by_coordinates(
    conn: Connection, dataset_id: int, coordinates: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], CommitRow]:
    """by_coordinates: the commits at these canonical `(branch, seq)`s; one statement."""
    if not coordinates:
        return {}
    rows = conn.execute(
        commit_rows(
            Commit.dataset_id == dataset_id,
            tuple_(Commit.branch_id, Commit.seq).in_(list(coordinates)),
        )
    )
    return {(r.branch_id, r.seq): as_commit_row(r) for r in rows}
