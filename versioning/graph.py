"""The commit graph: merge bases and logs, answered by walks that stop early.

Two orders hold along every parent edge (models/refs.py):
- a parent's generation is below its child's (generation: the longest path to the root);
- a parent's ordinal (creation order) is at most its child's.
So a walk that follows only parents at or above a bound finds exactly the ancestors at or above
it: every path down to such an ancestor stays above the bound. A question whose answer lies
above some bound is answered by walking the commits in between, never the whole history; when
the bound is not known it is lowered geometrically, one statement (a recursive CTE) per try.

Merge base rule: of the common ancestors of two commits, the one of greatest generation, then
the most recently made (ordinal, then id). It is a best common ancestor in git's sense — no other
common ancestor descends from it, since a descendant's generation would be greater — and it is
chosen by the commits alone, never by the names they were reached by. In a criss-cross, where
several best common ancestors exist, the rule picks one of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    CTE,
    Connection,
    Integer,
    Uuid,
    and_,
    bindparam,
    column,
    distinct,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from .commits import CommitRow, as_commit_row, commit_at, commit_rows
from .models import Commit, CommitParent
from .refs import BranchRow, load_branches
from .versions import committed

FIRST_WINDOW = 16  # generations (or ordinals, per row asked for) below the start: one try
WIDEN = 4


def _walk(dataset_id: int, starts: list[tuple[uuid.UUID, int]], order: str, low: int) -> CTE:
    """Ancestors of each start (tagged with the start's side), following only parents whose
    `order` column (generation or ordinal) is at least `low`."""
    # Bound arrays, not a VALUES list: the statement's shape, and so SQLAlchemy's compiled
    # cache entry, stays the same whatever the starts.
    seeds = (
        func.unnest(
            bindparam("start_ids", [s for s, _ in starts], type_=ARRAY(Uuid)),
            bindparam("start_sides", [side for _, side in starts], type_=ARRAY(Integer)),
        )
        .table_valued(column("id", Uuid), column("side", Integer), name="seeds")
        .render_derived()
    )
    walk = select(seeds.c.id, seeds.c.side).cte("walk", recursive=True)
    parent = aliased(Commit, name="graph_parent")
    step = (
        select(CommitParent.parent_id, walk.c.side)
        .select_from(walk)
        .join(
            CommitParent,
            and_(CommitParent.dataset_id == dataset_id, CommitParent.commit_id == walk.c.id),
        )
        .join(parent, and_(parent.dataset_id == dataset_id, parent.id == CommitParent.parent_id))
        .where(getattr(parent, order) >= low)
    )
    return walk.union(step)


def _common_best(conn: Connection, dataset_id: int, a: uuid.UUID, b: uuid.UUID, low: int) -> Any:
    walk = _walk(dataset_id, [(a, 1), (b, 2)], "generation", low)
    best = (
        select(Commit.id)
        .select_from(walk)
        .join(Commit, and_(Commit.dataset_id == dataset_id, Commit.id == walk.c.id))
        .group_by(Commit.id, Commit.generation, Commit.ordinal)
        .having(func.count(distinct(walk.c.side)) == 2)
        .order_by(Commit.generation.desc(), Commit.ordinal.desc(), Commit.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return conn.execute(commit_rows(Commit.dataset_id == dataset_id, Commit.id == best)).first()


def merge_base_of(conn: Connection, a: CommitRow, b: CommitRow) -> CommitRow:
    """merge_base_of: the best common ancestor of commits `a` and `b` by the module's rule;
    O(log distance) statements, each walking only the commits above its generation window."""
    top = min(a.generation, b.generation)
    span = 0
    while True:
        low = max(top - span, 0)
        found = _common_best(conn, a.dataset_id, a.id, b.id, low)
        if found is not None:
            return as_commit_row(found)
        # Every commit descends from the root: a walk down to generation 0 always meets.
        assert low > 0, "commits of one dataset share the root commit"
        span = FIRST_WINDOW if span == 0 else span * WIDEN


def reachable(conn: Connection, dataset_id: int, starts: list[uuid.UUID]) -> set[uuid.UUID]:
    """reachable: the commits `starts` descend from, themselves included; one statement,
    O(their ancestors)."""
    if not starts:
        return set()
    walk = _walk(dataset_id, [(s, 1) for s in starts], "generation", 0)
    return set(conn.scalars(select(walk.c.id).distinct()))


def kept(
    conn: Connection,
    dataset_id: int,
    ref: str,
    branches: Mapping[int, BranchRow] | None = None,
) -> CommitRow:
    """kept: the commit `ref` names where a kept version is needed (a branch: its current
    commit, its own last or the one it was made from); one or two statements, and the
    branches unless given."""
    version = committed(conn, dataset_id, ref, branches)
    return commit_at(conn, dataset_id, version.branch_id, version.seq)


def merge_base(conn: Connection, dataset_id: int, a: str, b: str) -> CommitRow:
    """merge_base: the base a merge of `a` into `b` (or of `b` into `a`) starts from: their
    commits' best common ancestor (module docstring); O(log distance) statements."""
    branches = load_branches(conn, dataset_id)
    return merge_base_of(
        conn, kept(conn, dataset_id, a, branches), kept(conn, dataset_id, b, branches)
    )


def log(conn: Connection, dataset_id: int, ref: str, limit: int = 100) -> list[CommitRow]:
    """log: the commits `ref`'s commit descends from, itself and the root included, newest
    first; O(log) statements, each walking only commits newer than its window."""
    start = kept(conn, dataset_id, ref)
    span = FIRST_WINDOW * limit
    while True:
        low = start.ordinal - span
        walk = _walk(dataset_id, [(start.id, 1)], "ordinal", low)
        rows = [
            as_commit_row(row)
            for row in conn.execute(
                commit_rows(Commit.dataset_id == dataset_id, Commit.id.in_(select(walk.c.id)))
                .order_by(Commit.ordinal.desc(), Commit.id.desc())
                .limit(limit)
            )
        ]
        # The root is every commit's ancestor and the oldest: once it is in, nothing is left.
        if len(rows) == limit or low <= 0 or (rows and rows[-1].generation == 0):
            return rows
        span *= WIDEN
