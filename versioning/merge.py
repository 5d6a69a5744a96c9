"""merge: three-way merge of a version into a branch's working state; O(changes).

The base is the most recent state both sides contain: the newest merge commit (by commit
order) that recorded such a state — a merge of (an ancestor of) the source into the target's
lineage, or of (an ancestor of) the target into the source's lineage — else the point where the
two lineages meet in the branch tree. So merging a branch a second time brings only what changed
on it since the first merge. Sides are compared by content (`diff`), so rows copied by an earlier
merge are not changes.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, and_, or_, select

from .atomic import atomic
from .commits import CommitRow, record_commit
from .diff import Change, diff_versions
from .errors import Conflict, InvalidInputError, MergeConflictError
from .invariants import violations
from .models import Commit, EntityType
from .refs import BranchRow, load_branches, lock_branch
from .revisions import Content, apply, current_rows
from .tables import KINDS
from .versions import Version, committed, version_at, working_version


class Strategy(StrEnum):
    FAIL = "fail"
    OURS = "ours"
    THEIRS = "theirs"


@dataclass(frozen=True, slots=True)
class MergeResult:
    commit: CommitRow | None
    fast_forward: bool
    changes: int
    conflicts: tuple[Conflict, ...]
    base: str


def _merges_within(conn: Connection, version: Version) -> list[tuple[int, int, int]]:
    """(merged branch, merged seq, ordinal) of the merge commits `version` contains."""
    reach = [and_(Commit.branch_id == e.branch_id, Commit.seq <= e.seq) for e in version.lineage]
    rows = conn.execute(
        select(Commit.merged_branch_id, Commit.merged_seq, Commit.ordinal).where(
            Commit.dataset_id == version.dataset_id,
            Commit.merged_branch_id.is_not(None),
            or_(*reach),
        )
    )
    return [(b, s, o) for b, s, o in rows if b is not None and s is not None]


def merge_base(
    conn: Connection, branches: Mapping[int, BranchRow], source: Version, target: Version
) -> Version:
    """The base of a three-way merge of `source` into `target` (module docstring)."""
    recorded = [
        (ordinal, branch, seq)
        for inside, other in ((target, source), (source, target))
        for branch, seq, ordinal in _merges_within(conn, inside)
        if other.contains(branch, seq)
    ]
    if recorded:
        _, branch, seq = max(recorded)
        return version_at(branches, branch, seq, f"{branches[branch].name}@{seq}")
    target_seqs = {e.branch_id: e.seq for e in target.lineage}
    for entry in source.lineage:
        if entry.branch_id in target_seqs:
            seq = min(entry.seq, target_seqs[entry.branch_id])
            return version_at(
                branches, entry.branch_id, seq, f"{branches[entry.branch_id].name}@{seq}"
            )
    raise AssertionError("versions of one dataset share the root branch")


def _by_entity(changes: list[Change]) -> dict[tuple[EntityType, uuid.UUID], Change]:
    return {(c.kind, c.entity_id): c for c in changes}


@atomic
def merge(
    conn: Connection,
    dataset_id: int,
    source: str,
    target: str,
    strategy: Strategy | str = Strategy.FAIL,
    *,
    message: str | None = None,
    author: str = "",
) -> MergeResult:
    """merge: bring `source`'s changes since the base into branch `target`, as one commit."""
    try:
        strategy = Strategy(strategy)
    except ValueError:
        raise InvalidInputError(
            f"merge strategy {strategy!r} is not one of {', '.join(s.value for s in Strategy)}"
        ) from None
    branch = lock_branch(conn, dataset_id, target)  # protected targets accept merges
    theirs_version = committed(conn, dataset_id, source)
    if theirs_version.branch_id == branch.id:
        raise InvalidInputError(f"cannot merge {source!r} into its own branch {target!r}")
    branches = load_branches(conn, dataset_id)
    ours_version = working_version(branches, branch)
    base = merge_base(conn, branches, theirs_version, ours_version)
    theirs = _by_entity(list(diff_versions(conn, base, theirs_version)))
    if not theirs:
        return MergeResult(None, False, 0, (), base.ref)
    ours = _by_entity(list(diff_versions(conn, base, ours_version)))

    conflicts: list[Conflict] = []
    wanted: dict[EntityType, dict[uuid.UUID, Content | None]] = defaultdict(dict)
    for key, change in theirs.items():
        mine = ours.get(key)
        if mine is not None and mine.after != change.after:
            conflicts.append(Conflict(key[0], key[1], change.change, mine.change))
            if strategy is not Strategy.THEIRS:
                continue
        wanted[key[0]][key[1]] = change.after
    if conflicts and strategy is Strategy.FAIL:
        raise MergeConflictError(
            f"merging {source!r} into {target!r}: {len(conflicts)} conflicting entities "
            f"(first: {conflicts[0].kind} {conflicts[0].entity_id}, changed on both sides)",
            tuple(conflicts),
        )
    broken = violations(conn, ours_version, wanted)
    if broken:
        raise MergeConflictError(
            f"merging {source!r} into {target!r} would break an invariant: {broken[0].message}",
            tuple(Conflict(v.kind, v.entity_id, None, None, v.message) for v in broken),
        )
    applied = 0
    for kind, kind_changes in wanted.items():
        current = current_rows(conn, KINDS[kind], ours_version, kind_changes.keys())
        applied += apply(conn, KINDS[kind], branch, kind_changes, current)
    commit = record_commit(
        conn,
        branch,
        message or f"Merge {source} into {target}",
        author,
        merged=(theirs_version.branch_id, theirs_version.seq),
    )
    return MergeResult(commit, not ours, applied, tuple(conflicts), base.ref)
