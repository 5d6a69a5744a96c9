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
from typing import Protocol

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


class Sees(Protocol):
    """What one caller may see of a dataset's refs (access.policy implements it): resolution
    skips the rest, so a hidden name answers as a name that does not exist."""

    def branch_readable(self, branch: BranchRow) -> bool: ...

    def tag_readable(self, conn: Connection, name: str, branch_id: int, seq: int) -> bool: ...

    def reachable(self, conn: Connection, branch_id: int, seq: int) -> bool: ...


def _commit_state(
    conn: Connection, dataset_id: int, ref: str, sees: Sees | None
) -> tuple[tuple[int, int] | None, bool]:
    """The state of the commit `ref` names (a full id or a prefix) among those `sees` admits,
    and whether a commit it does not admit matched too."""
    text = ref.lower().replace("-", "")
    if not _HEX.match(text):
        return None, False
    digits = func.replace(cast(Commit.id, String), "-", "")
    # Only this dataset's commits: saying one exists elsewhere would tell a caller about a
    # dataset it may not read.
    rows = conn.execute(
        select(Commit.branch_id, Commit.seq, Commit.pruned).where(
            Commit.dataset_id == dataset_id, digits.startswith(text)
        )
    ).all()
    seen = [r for r in rows if sees is None or (not r.pruned and sees.reachable(conn, r[0], r[1]))]
    if len(seen) > 1:
        raise InvalidInputError(f"commit id prefix {ref!r} is ambiguous: give more digits")
    if not seen:
        return None, bool(rows)
    if seen[0].pruned:
        raise NotFoundError(
            f"commit {ref!r} was on a deleted branch and garbage collection freed its state"
        )
    return (seen[0].branch_id, seen[0].seq), len(rows) > 1


def resolve(
    conn: Connection,
    dataset_id: int,
    ref: str,
    branches: Mapping[int, BranchRow] | None = None,
    sees: Sees | None = None,
) -> Version:
    """The version `ref` names: `branch@seq`, branch (working state), tag, or commit id
    (`branches`: the dataset's, when the caller has them already); with `sees`, among what it
    admits only, so what it hides answers as what does not exist."""
    return resolve_seen(conn, dataset_id, ref, branches, sees)[0]


def resolve_seen(
    conn: Connection,
    dataset_id: int,
    ref: str,
    branches: Mapping[int, BranchRow] | None = None,
    sees: Sees | None = None,
) -> tuple[Version, bool]:
    """resolve, and whether something `sees` hides was passed over on the way (a hidden
    branch or tag of that name, a hidden commit with that prefix): then `ref` alone would name
    another version, or none, to code that resolves without `sees`."""
    if not ref:
        raise InvalidInputError("empty version ref")
    if branches is None:
        branches = load_branches(conn, dataset_id)
    at = _AT.match(ref)
    if at:
        missing = NotFoundError(f"branch {at['name']!r} does not exist")
        branch = live_branch(branches, at["name"])
        if branch is None:
            raise missing
        hidden = sees is not None and not sees.branch_readable(branch)
        seq = int(at["seq"])
        if seq > branch.head_seq:
            if hidden:
                raise missing
            raise NotFoundError(
                f"branch {branch.name!r} has no commit {seq}; its last is {branch.head_seq}"
            )
        version = version_at(branches, branch.id, seq, ref)
        # A hidden branch's commit is readable where a readable ref's lineage holds it.
        if hidden and sees is not None and not sees.reachable(conn, version.branch_id, version.seq):
            raise missing
        return version, False
    skipped = False
    branch = live_branch(branches, ref)
    if branch is not None:
        if sees is None or sees.branch_readable(branch):
            return working_version(branches, branch), False
        skipped = True
    tag = conn.execute(
        select(Tag.branch_id, Tag.seq).where(Tag.dataset_id == dataset_id, Tag.name == ref)
    ).one_or_none()
    if tag is not None:
        if sees is None or sees.tag_readable(conn, ref, tag.branch_id, tag.seq):
            return version_at(branches, tag.branch_id, tag.seq, ref), skipped
        skipped = True
    state, passed = _commit_state(conn, dataset_id, ref, sees)
    if state is not None:
        return version_at(branches, state[0], state[1], ref), skipped or passed
    raise NotFoundError(f"no branch, tag or commit called {ref!r}")


def commit_id(conn: Connection, version: Version) -> str:
    """commit_id: the full id of the commit at committed `version` (its canonical
    coordinates); one index probe."""
    assert not version.working, version
    found = conn.scalar(
        select(Commit.id).where(
            Commit.dataset_id == version.dataset_id,
            Commit.branch_id == version.branch_id,
            Commit.seq == version.seq,
        )
    )
    if found is None:
        raise NotFoundError(f"no commit at {version.ref!r}")
    return str(found)


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
