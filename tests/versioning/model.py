"""A reference model of the versioning semantics: whole-state copies, no cleverness.

Every committed state is a full deep copy; branching copies a state; reads look states up.
It implements docs/VERSIONING.md independently of the engine's rows, kills and lineage SQL, so
the model-based test can compare the two after every step. It covers labels, files and
instances (frames follow the same rules as instances' file references).

Errors are `ModelError(code)` with the engine's stable codes, checked in the documented order:
the branch (NOT_FOUND), its protection, the entities, then the invariants.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import Any

Content = dict[str, Any]
State = dict[str, dict[uuid.UUID, Content]]
KINDS = ("label", "file", "instance")
DEFAULTS: dict[str, Content] = {
    "label": {"color": "#888888", "description": "", "attribute_schema": {}},
    "file": {
        "width": None,
        "height": None,
        "fps": None,
        "frame_count": None,
        "duration": None,
        "metadata": {},
        "author": "",
    },
    "instance": {
        "frame_number": None,
        "x": None,
        "y": None,
        "w": None,
        "h": None,
        "points": None,
        "text_start": None,
        "text_end": None,
        "attributes": {},
        "score": None,
        "source": "human",
        "model_run": None,
        "track_id": None,
        "author": "",
    },
}


class ModelError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def empty() -> State:
    return {kind: {} for kind in KINDS}


@dataclass
class Branch:
    id: int
    name: str
    parent: tuple[int, int] | None
    states: list[State]  # states[seq]; states[0] is the state at the fork
    working: State
    protected: bool = False
    deleted: bool = False

    @property
    def head(self) -> int:
        return len(self.states) - 1


@dataclass
class CommitRecord:
    id: uuid.UUID
    branch: int
    seq: int
    ordinal: int
    merged: tuple[int, int] | None


@dataclass(frozen=True)
class Ref:
    """A resolved version: (branch, seq), or a branch's working state."""

    branch: int
    seq: int
    working: bool = False


@dataclass
class Model:
    default_branch: str = "main"
    branches: dict[int, Branch] = field(default_factory=dict)
    commits: list[CommitRecord] = field(default_factory=list)
    tags: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add_root(self, branch_id: int, name: str) -> None:
        """The dataset's first, empty branch."""
        self.branches[branch_id] = Branch(branch_id, name, None, [empty()], empty())

    # --- versions -----------------------------------------------------------------------

    def live(self, name: str) -> Branch | None:
        return next((b for b in self.branches.values() if b.name == name and not b.deleted), None)

    def resolve(self, ref: str) -> Ref:
        if "@" in ref:
            name, _, n = ref.rpartition("@")
            branch = self.live(name)
            if branch is None or not n.isdigit() or int(n) > branch.head:
                raise ModelError("NOT_FOUND")
            return Ref(branch.id, int(n))
        branch = self.live(ref)
        if branch is not None:
            return Ref(branch.id, branch.head + 1, working=True)
        if ref in self.tags:
            return Ref(*self.tags[ref])
        wanted = ref.lower().replace("-", "")
        found = [c for c in self.commits if c.id.hex.startswith(wanted)] if len(wanted) >= 8 else []
        if len(found) == 1:
            return Ref(found[0].branch, found[0].seq)
        raise ModelError("NOT_FOUND")

    def committed(self, ref: str) -> Ref:
        version = self.resolve(ref)
        return Ref(version.branch, version.seq - 1) if version.working else version

    def state(self, version: Ref) -> State:
        branch = self.branches[version.branch]
        return branch.working if version.working else branch.states[version.seq]

    def lineage(self, version: Ref) -> list[tuple[int, int]]:
        entries = [(version.branch, version.seq)]
        branch = self.branches[version.branch]
        while branch.parent is not None:
            entries.append(branch.parent)
            branch = self.branches[branch.parent[0]]
        return entries

    def contains(self, version: Ref, branch: int, seq: int) -> bool:
        return any(b == branch and seq <= s for b, s in self.lineage(version))

    # --- writes -------------------------------------------------------------------------

    def _writable(self, name: str) -> Branch:
        branch = self.live(name)
        if branch is None:
            raise ModelError("NOT_FOUND")
        if branch.protected:
            raise ModelError("PROTECTED_BRANCH")
        return branch

    def create(self, name: str, kind: str, rows: list[Content]) -> None:
        branch = self._writable(name)
        new = copy.deepcopy(branch.working)
        ids = [row["entity_id"] for row in rows]
        if len(set(ids)) != len(ids):
            raise ModelError("BAD_USER_INPUT")
        if any(eid in new[kind] for eid in ids):
            raise ModelError("CONFLICT")
        for row in rows:
            new[kind][row["entity_id"]] = {
                **DEFAULTS[kind],
                **{k: v for k, v in row.items() if k != "entity_id"},
            }
        branch.working = self._checked(new, "BAD_USER_INPUT")

    def update(self, name: str, kind: str, changes: dict[uuid.UUID, Content]) -> None:
        branch = self._writable(name)
        new = copy.deepcopy(branch.working)
        if any(eid not in new[kind] for eid in changes):
            raise ModelError("NOT_FOUND")
        for eid, fields in changes.items():
            new[kind][eid] = {**new[kind][eid], **fields}
        branch.working = self._checked(new, "BAD_USER_INPUT")

    def delete(self, name: str, kind: str, ids: list[uuid.UUID]) -> None:
        branch = self._writable(name)
        new = copy.deepcopy(branch.working)
        if any(eid not in new[kind] for eid in ids):
            raise ModelError("NOT_FOUND")
        for eid in ids:
            del new[kind][eid]
        if kind == "file":
            gone = set(ids)
            new["instance"] = {
                i: c for i, c in new["instance"].items() if c["file_entity_id"] not in gone
            }
        branch.working = self._checked(new, "CONFLICT")

    @staticmethod
    def _checked(state: State, dangling: str) -> State:
        """`state` if it keeps the invariants. A duplicate name is a CONFLICT; an instance
        whose label or file is gone gets `dangling`: BAD_USER_INPUT for a write that points it
        at nothing, CONFLICT for a delete of what it uses, MERGE_CONFLICT in a merge."""
        for kind in ("label", "file"):
            names = [c["name"] for c in state[kind].values()]
            if len(names) != len(set(names)):
                raise ModelError("MERGE_CONFLICT" if dangling == "MERGE_CONFLICT" else "CONFLICT")
        for content in state["instance"].values():
            if content["label_entity_id"] not in state["label"] or (
                content["file_entity_id"] not in state["file"]
            ):
                raise ModelError(dangling)
        return state

    # --- refs and commits ---------------------------------------------------------------

    def commit(
        self, name: str, commit_id: uuid.UUID, merged: tuple[int, int] | None = None
    ) -> None:
        branch = self.live(name)
        if branch is None:
            raise ModelError("NOT_FOUND")
        branch.states.append(copy.deepcopy(branch.working))
        self.commits.append(
            CommitRecord(commit_id, branch.id, branch.head, len(self.commits), merged)
        )

    def _name_free(self, name: str) -> None:
        if self.live(name) is not None or name in self.tags:
            raise ModelError("CONFLICT")

    def create_branch(self, branch_id: int, name: str, from_ref: str) -> None:
        start = self.committed(from_ref)
        self._name_free(name)
        state = self.state(start)
        self.branches[branch_id] = Branch(
            branch_id, name, (start.branch, start.seq), [copy.deepcopy(state)], copy.deepcopy(state)
        )

    def create_tag(self, name: str, ref: str) -> None:
        version = self.committed(ref)
        if version.seq == 0:
            raise ModelError("BAD_USER_INPUT")
        self._name_free(name)
        self.tags[name] = (version.branch, version.seq)

    def delete_branch(self, name: str) -> None:
        branch = self.live(name)
        if branch is None:
            raise ModelError("NOT_FOUND")
        if name == self.default_branch:
            raise ModelError("BAD_USER_INPUT")
        if branch.protected:
            raise ModelError("PROTECTED_BRANCH")
        branch.deleted = True

    def set_protected(self, name: str, protected: bool) -> None:
        branch = self.live(name)
        if branch is None:
            raise ModelError("NOT_FOUND")
        branch.protected = protected

    # --- diff, merge, revert ------------------------------------------------------------

    @staticmethod
    def diff_states(
        a: State, b: State
    ) -> dict[tuple[str, uuid.UUID], tuple[Content | None, Content | None]]:
        changes = {}
        for kind in KINDS:
            for eid in a[kind].keys() | b[kind].keys():
                before, after = a[kind].get(eid), b[kind].get(eid)
                if before != after:
                    changes[(kind, eid)] = (before, after)
        return changes

    def diff(
        self, a: str, b: str
    ) -> dict[tuple[str, uuid.UUID], tuple[Content | None, Content | None]]:
        return self.diff_states(self.state(self.resolve(a)), self.state(self.resolve(b)))

    def merge_base(self, source: Ref, target: Ref) -> Ref:
        def merges_within(version: Ref) -> list[CommitRecord]:
            reach = self.lineage(version)
            return [
                c
                for c in self.commits
                if c.merged is not None and any(c.branch == b and c.seq <= s for b, s in reach)
            ]

        recorded = [
            (c.ordinal, c.merged)
            for inside, other in ((target, source), (source, target))
            for c in merges_within(inside)
            if c.merged is not None and self.contains(other, *c.merged)
        ]
        if recorded:
            _, (branch, seq) = max(recorded)
            return Ref(branch, seq)
        target_seqs = dict(self.lineage(target))
        for branch, seq in self.lineage(source):
            if branch in target_seqs:
                return Ref(branch, min(seq, target_seqs[branch]))
        raise AssertionError("lineages share the root")

    def merge(self, source: str, target: str, strategy: str, commit_id: uuid.UUID | None) -> bool:
        """Merge as the doc says; whether a merge commit was made (its id is `commit_id`)."""
        if strategy not in ("fail", "ours", "theirs"):
            raise ModelError("BAD_USER_INPUT")
        branch = self.live(target)
        if branch is None:
            raise ModelError("NOT_FOUND")
        theirs_ref = self.committed(source)
        if theirs_ref.branch == branch.id:
            raise ModelError("BAD_USER_INPUT")
        ours_ref = Ref(branch.id, branch.head + 1, working=True)
        base = self.state(self.merge_base(theirs_ref, ours_ref))
        theirs = self.diff_states(base, self.state(theirs_ref))
        if not theirs:
            return False
        ours = self.diff_states(base, branch.working)
        new = copy.deepcopy(branch.working)
        conflict = False
        for (kind, eid), (_, after) in theirs.items():
            if (kind, eid) in ours and ours[(kind, eid)][1] != after:
                conflict = True
                if strategy != "theirs":
                    continue
            if after is None:
                new[kind].pop(eid, None)
            else:
                new[kind][eid] = copy.deepcopy(after)
        if conflict and strategy == "fail":
            raise ModelError("MERGE_CONFLICT")
        branch.working = self._checked(new, "MERGE_CONFLICT")
        assert commit_id is not None
        self.commit(target, commit_id, merged=(theirs_ref.branch, theirs_ref.seq))
        return True

    def revert(self, name: str, to: str, commit_id: uuid.UUID) -> None:
        branch = self._writable(name)
        branch.working = copy.deepcopy(self.state(self.resolve(to)))
        self.commit(name, commit_id)
