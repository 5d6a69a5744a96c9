"""gc: delete what no live branch, tag or later merge can see any more.

Live branches keep every revision: each of their commits stays readable as `branch@seq`. A
deleted branch's rows are still needed where a live branch's lineage passes through it (a branch
forked from it, at its fork seq), a tag names one of its states, or a merge took one of its
commits as source (such a commit can be the best common ancestor of later merges: a best common
ancestor has two children on the paths to the two sides, and on a deleted branch the second
child is a fork, kept by lineage, or a merge that took it); everything else of it goes: its
other rows, the kills beyond the last needed seq, and its commits' states.

Commit rows stay while a live branch or a tag descends from them, since ancestry (merge bases,
logs) walks through them; one whose state is gone is marked `pruned` and no longer resolves as a
version. Commits nothing descends from go, and the branch row with them once nothing refers to
it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table, and_, delete, or_, select, update
from sqlalchemy.orm import aliased

from .atomic import atomic
from .commits import by_coordinates
from .graph import reachable
from .models import Branch, Commit, CommitParent, EntityType, Kill, Tag
from .refs import BranchRow, load_branches
from .sql import among
from .tables import KINDS
from .versions import canonical

COMMIT: Table = Commit.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class GcReport:
    rows: dict[EntityType, int] = field(default_factory=dict)
    kills: int = 0
    commits: int = 0  # commit rows deleted
    branches: int = 0
    pruned: int = 0  # commit rows kept for ancestry whose state was freed


def _needed_seqs(conn: Connection, branches: dict[int, BranchRow]) -> dict[int, set[int]]:
    """For each branch, the seqs a live lineage, a tag or a merge source needs it at."""
    dataset_id = next(iter(branches.values())).dataset_id
    needed: dict[int, set[int]] = defaultdict(set)
    tagged = select(Tag.branch_id, Tag.seq).where(Tag.dataset_id == dataset_id)
    source = aliased(Commit)
    merged = (
        select(source.branch_id, source.seq)
        .select_from(CommitParent)
        .join(source, and_(source.dataset_id == dataset_id, source.id == CommitParent.parent_id))
        .where(CommitParent.dataset_id == dataset_id, CommitParent.position == 1)
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


def _kept_commits(conn: Connection, branches: dict[int, BranchRow]) -> set[uuid.UUID]:
    """Commits a live branch's current commit or a tag descends from (themselves included)."""
    dataset_id = next(iter(branches.values())).dataset_id
    heads = [
        canonical(branches, b.id, b.head_seq) for b in branches.values() if b.deleted_at is None
    ]
    starts = [c.id for c in by_coordinates(conn, dataset_id, heads).values()]
    tagged = (
        select(Commit.id)
        .join(
            Tag,
            and_(
                Tag.dataset_id == Commit.dataset_id,
                Tag.branch_id == Commit.branch_id,
                Tag.seq == Commit.seq,
            ),
        )
        .where(Commit.dataset_id == dataset_id)
    )
    starts += list(conn.scalars(tagged))
    return reachable(conn, dataset_id, starts)


@atomic
def gc(conn: Connection, dataset_id: int) -> GcReport:
    """gc: remove rows and kills of deleted branches that nothing can see, and the commits
    nothing descends from; what it freed."""
    branches = load_branches(conn, dataset_id)
    deleted = [b.id for b in branches.values() if b.deleted_at is not None]
    if not deleted:
        return GcReport()
    needed = _needed_seqs(conn, branches)
    kept = _kept_commits(conn, branches)
    # One statement: an unreachable commit may be the parent of another one.
    commits = conn.execute(
        delete(Commit).where(
            Commit.dataset_id == dataset_id,
            among(COMMIT.c.branch_id, deleted),
            ~among(COMMIT.c.id, kept),
        )
    ).rowcount
    rows: dict[EntityType, int] = defaultdict(int)
    kills = pruned = removed_branches = 0
    for branch_id in deleted:
        seqs = sorted(needed.get(branch_id, ()))
        kills += _free_rows(conn, dataset_id, branch_id, seqs, rows)
        pruned += _prune(conn, dataset_id, branch_id, seqs)
    for branch_id in deleted:
        if _unreferenced(conn, dataset_id, branch_id):
            conn.execute(
                delete(Branch).where(Branch.dataset_id == dataset_id, Branch.id == branch_id)
            )
            removed_branches += 1
    report_rows = {k: n for k, n in rows.items() if n}
    return GcReport(report_rows, kills, commits, removed_branches, pruned)


def _free_rows(
    conn: Connection, dataset_id: int, branch_id: int, seqs: list[int], rows: dict[EntityType, int]
) -> int:
    """Delete the branch's rows no needed seq sees, and its kills past the last; the kills."""
    for kind, spec in KINDS.items():
        table = spec.table
        seen = [
            and_(table.c.seq_from <= s, or_(table.c.seq_to.is_(None), table.c.seq_to > s))
            for s in seqs
        ]
        condition = and_(table.c.dataset_id == dataset_id, table.c.branch_id == branch_id)
        if seen:
            condition = and_(condition, ~or_(*seen))
        rows[kind] += conn.execute(delete(table).where(condition)).rowcount
    kill_scope = and_(Kill.dataset_id == dataset_id, Kill.branch_id == branch_id)
    if seqs:
        kill_scope = and_(kill_scope, Kill.seq > seqs[-1])
    return conn.execute(delete(Kill).where(kill_scope)).rowcount


def _prune(conn: Connection, dataset_id: int, branch_id: int, seqs: list[int]) -> int:
    """Mark the branch's remaining commits whose state is not needed as pruned. A root commit
    never is: the empty state needs no row."""
    unneeded = [Commit.seq.not_in(seqs)] if seqs else []
    return conn.execute(
        update(Commit)
        .where(
            Commit.dataset_id == dataset_id,
            Commit.branch_id == branch_id,
            Commit.seq > 0,
            Commit.pruned.is_(False),
            *unneeded,
        )
        .values(pruned=True)
    ).rowcount


def _unreferenced(conn: Connection, dataset_id: int, branch_id: int) -> bool:
    """No commit lies on the branch and no branch forks from it."""
    commits = select(Commit.id).where(
        Commit.dataset_id == dataset_id, Commit.branch_id == branch_id
    )
    children = select(Branch.id).where(
        Branch.dataset_id == dataset_id, Branch.parent_branch_id == branch_id
    )
    return conn.scalar(commits.limit(1)) is None and conn.scalar(children.limit(1)) is None
