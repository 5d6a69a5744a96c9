"""gc: delete what no live branch, tag or recorded merge can see any more.

Live branches keep every revision: each of their commits stays readable as `branch@seq`. A
deleted branch's rows are still needed where a live branch's lineage passes through it (a branch
forked from it, at its fork seq), a tag names one of its states, or a merge commit recorded one
(it may be the base of a later merge); everything else of it goes:
its other rows, the kills beyond the last needed seq, its commits that no tag names, and the
branch row itself once nothing refers to it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, delete, or_, select

from .atomic import atomic
from .models import Branch, Commit, EntityType, Kill, Tag
from .refs import load_branches
from .tables import KINDS


@dataclass(frozen=True, slots=True)
class GcReport:
    rows: dict[EntityType, int] = field(default_factory=dict)
    kills: int = 0
    commits: int = 0
    branches: int = 0


def _needed_seqs(conn: Connection, dataset_id: int) -> dict[int, set[int]]:
    """For each branch, the seqs a live lineage, a tag or a recorded merge needs it at."""
    branches = load_branches(conn, dataset_id)
    needed: dict[int, set[int]] = defaultdict(set)
    tagged = select(Tag.branch_id, Tag.seq).where(Tag.dataset_id == dataset_id)
    # A recorded merge state can be the base of a later merge: its content must stay readable.
    merged = select(Commit.merged_branch_id, Commit.merged_seq).where(
        Commit.dataset_id == dataset_id, Commit.merged_branch_id.is_not(None)
    )
    for branch_id, seq in [*conn.execute(tagged), *conn.execute(merged)]:
        needed[branch_id].add(seq)
    # Walk up from every live branch, and from every needed state, through fork points.
    stack = [(b.id, b.head_seq + 1) for b in branches.values() if b.deleted_at is None]
    stack += [(b, s) for b, seqs in list(needed.items()) for s in seqs]
    while stack:
        branch_id, seq = stack.pop()
        needed[branch_id].add(seq)
        parent = branches[branch_id]
        grand, fork = parent.parent_branch_id, parent.fork_seq
        if grand is not None and fork is not None and fork not in needed[grand]:
            stack.append((grand, fork))
    return needed


@atomic
def gc(conn: Connection, dataset_id: int) -> GcReport:
    """gc: remove rows and kills of deleted branches that nothing can see; what it freed."""
    branches = load_branches(conn, dataset_id)
    needed = _needed_seqs(conn, dataset_id)
    rows: dict[EntityType, int] = defaultdict(int)
    kills = commits = removed_branches = 0
    for branch in branches.values():
        if branch.deleted_at is None:
            continue
        seqs = sorted(needed.get(branch.id, ()))
        for kind, spec in KINDS.items():
            table = spec.table
            seen = [
                and_(table.c.seq_from <= s, or_(table.c.seq_to.is_(None), table.c.seq_to > s))
                for s in seqs
            ]
            condition = and_(table.c.dataset_id == dataset_id, table.c.branch_id == branch.id)
            if seen:
                condition = and_(condition, ~or_(*seen))
            rows[kind] += conn.execute(delete(table).where(condition)).rowcount
        kill_scope = and_(Kill.dataset_id == dataset_id, Kill.branch_id == branch.id)
        if seqs:
            kill_scope = and_(kill_scope, Kill.seq > seqs[-1])
        kills += conn.execute(delete(Kill).where(kill_scope)).rowcount
        still_named = select(Tag.seq).where(
            Tag.dataset_id == dataset_id, Tag.branch_id == branch.id
        )
        commits += conn.execute(
            delete(Commit).where(
                Commit.dataset_id == dataset_id,
                Commit.branch_id == branch.id,
                Commit.seq.not_in(still_named),
            )
        ).rowcount
        if not seqs and _unreferenced(conn, dataset_id, branch.id):
            conn.execute(
                delete(Branch).where(Branch.dataset_id == dataset_id, Branch.id == branch.id)
            )
            removed_branches += 1
    return GcReport({k: n for k, n in rows.items() if n}, kills, commits, removed_branches)


def _unreferenced(conn: Connection, dataset_id: int, branch_id: int) -> bool:
    """No commit records a merge from the branch and no branch forks from it."""
    merged_from = select(Commit.id).where(
        Commit.dataset_id == dataset_id, Commit.merged_branch_id == branch_id
    )
    children = select(Branch.id).where(
        Branch.dataset_id == dataset_id, Branch.parent_branch_id == branch_id
    )
    return conn.scalar(merged_from.limit(1)) is None and conn.scalar(children.limit(1)) is None
