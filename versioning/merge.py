"""merge: three-way merge of a commit into a branch's working state; O(changes).

The source is a commit (a branch names its current commit). When the target's current commit
already contains it, the merge is up to date: nothing is written. Otherwise the base is the
sources' and target's best common ancestor in the commit graph (graph.py), and each entity that
changed since the base on the source side merges cell by cell with the target's working state
(cells.py). The result — committed as one merge commit whose parents are the target's current
commit and the source commit — must hold every invariant; a standing conflict or a broken
invariant writes nothing. Sides are compared by content (`diff`), so rows copied by an earlier
merge are not changes.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection

from .atomic import atomic
from .cells import Content, Strategies, Strategy, merge_entity
from .commits import CommitRow, current_commit, record_commit
from .diff import Change, diff_versions
from .errors import Conflict, InvalidInputError, MergeConflictError
from .graph import kept, merge_base_of
from .invariants import violations
from .models import EntityType
from .refs import load_branches, lock_branch
from .revisions import apply, current_rows
from .tables import KINDS
from .versions import version_at, working_version

__all__ = ["MergeResult", "Strategy", "merge"]


@dataclass(frozen=True, slots=True)
class MergeResult:
    commit: CommitRow | None  # None when up to date
    up_to_date: bool  # the target already contained the source commit
    fast_forward: bool  # the target's current commit was the base
    changes: int  # entities the merge changed on the target
    conflicts: tuple[Conflict, ...]  # what the strategies decided
    base: CommitRow


Key = tuple[EntityType, uuid.UUID]


def _by_entity(changes: list[Change]) -> dict[Key, Change]:
    return {(c.kind, c.entity_id): c for c in changes}


@dataclass
class _Plan:
    """What a merge writes, every conflict, those standing, and the entities mixing sides."""

    wanted: dict[EntityType, dict[uuid.UUID, Content | None]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    conflicts: list[Conflict] = field(default_factory=list)
    standing: list[Conflict] = field(default_factory=list)
    mixed: set[Key] = field(default_factory=set)


def _plan(
    theirs: Mapping[Key, Change], ours: Mapping[Key, Change], strategies: Strategies
) -> _Plan:
    plan = _Plan()
    for key, change in theirs.items():
        mine = ours.get(key)
        if mine is None:
            plan.wanted[key[0]][key[1]] = change.after
            continue
        outcome = merge_entity(
            KINDS[key[0]], key[1], change.before, mine.after, change.after, strategies
        )
        if outcome.conflict is not None:
            plan.conflicts.append(outcome.conflict)
            if outcome.standing:
                plan.standing.append(outcome.conflict)
        if outcome.write:
            plan.wanted[key[0]][key[1]] = outcome.content
        if outcome.mixed:
            plan.mixed.add(key)
    return plan


def _check_mixed(
    wanted: Mapping[EntityType, Mapping[uuid.UUID, Content | None]],
    mixed: set[Key],
) -> list[Conflict]:
    """Entities whose merged cells make content no write could store."""
    broken = []
    for kind, eid in sorted(mixed):
        content = wanted.get(kind, {}).get(eid)
        if content is None:
            continue
        try:
            KINDS[kind].complete(content, f"merged {kind} {eid}")
        except InvalidInputError as error:
            broken.append(Conflict(kind.value, eid, "modified", "modified", error.message))
    return broken


@atomic
def merge(
    conn: Connection,
    dataset_id: int,
    source: str,
    target: str,
    strategy: Strategy | str = Strategy.FAIL,
    *,
    field_strategies: Mapping[str, Strategy | str] | None = None,
    message: str | None = None,
    author: str = "",
) -> MergeResult:
    """merge: bring the changes of `source`'s commit since the base into branch `target`, cell
    by cell, as one merge commit; up to date (nothing written) if the target contains it."""
    strategies = Strategies.parse(strategy, field_strategies)
    branch = lock_branch(conn, dataset_id, target)  # protected targets accept merges
    branches = load_branches(conn, dataset_id)
    source_commit = kept(conn, dataset_id, source, branches)
    target_commit = current_commit(conn, branch, branches)
    base_commit = merge_base_of(conn, source_commit, target_commit)
    if base_commit.id == source_commit.id:
        return MergeResult(None, True, False, 0, (), base_commit)
    base = version_at(branches, base_commit.branch_id, base_commit.seq, base_commit.id.hex)
    theirs_version = version_at(branches, source_commit.branch_id, source_commit.seq, source)
    ours_version = working_version(branches, branch)
    theirs = _by_entity(list(diff_versions(conn, base, theirs_version)))
    ours = _by_entity(list(diff_versions(conn, base, ours_version))) if theirs else {}
    plan = _plan(theirs, ours, strategies)
    wanted, standing = plan.wanted, plan.standing
    where = f"merging {source!r} into {target!r}"
    if standing:
        raise MergeConflictError(
            f"{where}: {len(standing)} conflicting entities (first: {standing[0].message})",
            tuple(standing),
            base_commit.id,
        )
    broken = _check_mixed(wanted, plan.mixed)
    broken += [
        Conflict(v.kind, v.entity_id, None, None, v.message)
        for v in violations(conn, ours_version, wanted)
    ]
    if broken:
        raise MergeConflictError(
            f"{where} would break an invariant: {broken[0].message}", tuple(broken), base_commit.id
        )
    applied = 0
    for kind, kind_changes in wanted.items():
        current = current_rows(conn, KINDS[kind], ours_version, kind_changes.keys())
        applied += apply(conn, KINDS[kind], branch, kind_changes, current)
    made = record_commit(
        conn,
        branch,
        message or f"Merge {source} into {target}",
        author,
        target_commit,
        merged=source_commit,
    )
    fast_forward = base_commit.id == target_commit.id
    return MergeResult(made, False, fast_forward, applied, tuple(plan.conflicts), base_commit)
