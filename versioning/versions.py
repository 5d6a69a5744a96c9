"""Versions: what a ref string names, and the lineage a read at that version walks.

A version is `(branch, seq)`; the lineage is `[(branch, seq), (parent, fork_seq), ...]`
(row rule 5 in `models/entities.py`). A branch name means its working state: `seq = head_seq + 1`
and every row alive at the head counts, uncommitted writes included.

A committed state has one name of its own, the coordinates of its commit: `b@0` is the state
`b` was made from, so it is named by its parent's coordinates (followed up the branch tree
while the fork seq is 0). Every committed version is built at those canonical coordinates, so
two refs to one commit give equal versions, with the shortest lineage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, String, cast, func, select

from .errors import InvalidInputError, NotFoundError
from .models import Commit, Tag
from .refs import BranchRow, load_branches

_AT = re.compile(r"^(?P<name>.+)@(?P<seq>\d+)$")
# A commit id: the full UUID (32 hex digits, dashes dropped) or a prefix of at least 8.
_HEX = re.compile(r"^[0-9a-f]{8,32}$")


@dataclass(frozen=True, slots=True)
class LineageEntry:
    branch_id: int
    seq: int
    # True for the first entry of a working-state version: rows alive at the head count
    # (`seq_to IS NULL`), and the partial indexes serve the read.
    head: bool = False


@dataclass(frozen=True, slots=True)
class Version:
    dataset_id: int
    branch_id: int
    seq: int
    working: bool
    ref: str
    lineage: tuple[LineageEntry, ...]

    def seq_on(self, branch_id: int) -> int | None:
        """The seq at which this version sees `branch_id`, or None when it is not in its lineage."""
        for entry in self.lineage:
            if entry.branch_id == branch_id:
                return entry.seq
        return None

    def contains(self, branch_id: int, seq: int) -> bool:
        """Whether state `(branch_id, seq)` is an ancestor of (or equal to) this version."""
        mine = self.seq_on(branch_id)
        return mine is not None and seq <= mine


def canonical(branches: Mapping[int, BranchRow], branch_id: int, seq: int) -> tuple[int, int]:
    """The coordinates of the commit at committed state `(branch_id, seq)`: `seq >= 1`, or the
    root commit `(root branch, 0)`."""
    branch = branches[branch_id]
    while seq == 0 and branch.parent_branch_id is not None:
        assert branch.fork_seq is not None
        seq = branch.fork_seq
        branch = branches[branch.parent_branch_id]
    return branch.id, seq


def version_at(
    branches: Mapping[int, BranchRow], branch_id: int, seq: int, ref: str, working: bool = False
) -> Version:
    """The version `(branch_id, seq)` with its lineage, from the dataset's branches; a
    committed state at its canonical coordinates."""
    if not working:
        branch_id, seq = canonical(branches, branch_id, seq)
    entries = [LineageEntry(branch_id, seq, head=working)]
    branch = branches[branch_id]
    while branch.parent_branch_id is not None:
        assert branch.fork_seq is not None
        entries.append(LineageEntry(branch.parent_branch_id, branch.fork_seq))
        branch = branches[branch.parent_branch_id]
    return Version(branch.dataset_id, branch_id, seq, working, ref, tuple(entries))


def working_version(branches: Mapping[int, BranchRow], branch: BranchRow) -> Version:
    """The working state of `branch`: committed state `head_seq` plus uncommitted writes."""
    return version_at(branches, branch.id, branch.head_seq + 1, branch.name, working=True)


def last_commit_version(branches: Mapping[int, BranchRow], branch: BranchRow) -> Version:
    """The last committed state of `branch` (`@0` when it has no commit of its own)."""
    return version_at(branches, branch.id, branch.head_seq, f"{branch.name}@{branch.head_seq}")


def live_branch(branches: Mapping[int, BranchRow], name: str) -> BranchRow | None:
    """The live branch called `name`, if any."""
    for branch in branches.values():
        if branch.name == name and branch.deleted_at is None:
            return branch
    return None


def _commit_state(conn: Connection, dataset_id: int, ref: str) -> tuple[int, int] | None:
    text = ref.lower().replace("-", "")
    if not _HEX.match(text):
        return None
    digits = func.replace(cast(Commit.id, String), "-", "")
    rows = conn.execute(
        select(Commit.dataset_id, Commit.branch_id, Commit.seq, Commit.pruned).where(
            digits.startswith(text)
        )
    ).all()
    mine = [r for r in rows if r.dataset_id == dataset_id]
    if len(mine) > 1:
        raise InvalidInputError(f"commit id prefix {ref!r} is ambiguous: give more digits")
    # A commit of another dataset is not found here: saying it exists elsewhere would tell a
    # caller about a dataset it may not read.
    if not mine:
        return None
    if mine[0].pruned:
        raise NotFoundError(
            f"commit {ref!r} was on a deleted branch and garbage collection freed its state"
        )
    return mine[0].branch_id, mine[0].seq


def resolve(
    conn: Connection,
    dataset_id: int,
    ref: str,
    branches: Mapping[int, BranchRow] | None = None,
) -> Version:
    """The version `ref` names: `branch@seq`, branch (working state), tag, or commit id
    (`branches`: the dataset's, when the caller has them already)."""
    if not ref:
        raise InvalidInputError("empty version ref")
    if branches is None:
        branches = load_branches(conn, dataset_id)
    at = _AT.match(ref)
    if at:
        branch = live_branch(branches, at["name"])
        if branch is None:
            raise NotFoundError(f"branch {at['name']!r} does not exist")
        seq = int(at["seq"])
        if seq > branch.head_seq:
            raise NotFoundError(
                f"branch {branch.name!r} has no commit {seq}; its last is {branch.head_seq}"
            )
        return version_at(branches, branch.id, seq, ref)
    branch = live_branch(branches, ref)
    if branch is not None:
        return working_version(branches, branch)
    tag = conn.execute(
        select(Tag.branch_id, Tag.seq).where(Tag.dataset_id == dataset_id, Tag.name == ref)
    ).one_or_none()
    if tag is not None:
        return version_at(branches, tag.branch_id, tag.seq, ref)
    state = _commit_state(conn, dataset_id, ref)
    if state is not None:
        return version_at(branches, state[0], state[1], ref)
    raise NotFoundError(f"no branch, tag or commit called {ref!r}")


def committed(
    conn: Connection,
    dataset_id: int,
    ref: str,
    branches: Mapping[int, BranchRow] | None = None,
) -> Version:
    """Like `resolve`, but a branch name means its current commit — its last own commit, or the
    commit it was made from — where a kept version is needed (branch from, tag, merge from,
    revert to, log)."""
    if branches is None:
        branches = load_branches(conn, dataset_id)
    version = resolve(conn, dataset_id, ref, branches)
    if not version.working:
        return version
    return last_commit_version(branches, branches[version.branch_id])
