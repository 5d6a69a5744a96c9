"""A reference model of the versioning semantics, by brute force over a commit graph.

Every commit keeps a full deep copy of its state and the ids of its parents; a branch is the
commit it was created from, its own commits and a working state. Every question the engine
answers with rows, kills and SQL is answered here by searching that graph and comparing whole
states: ancestry by walking parents, merge bases by filtering the common ancestors, merges by
comparing three whole states value by value. It is written from the spec (docs/VERSIONING.md and
the merge rules below), not from the engine, and shares none of its code or rules, so the
model-based test can compare the two after every step: an oracle must not share the algorithm it
checks. It covers labels, files and instances (frames follow the rules of instances' file
references).

- A dataset starts with branch `main` and a root commit `main@0`: empty state, no parents.
- A commit's first parent is its branch's current commit: the branch's latest own commit, or the
  commit it was created from when it has none. A merge commit's parents are (target, source).
- Generation: root 0, a commit 1 + the greatest generation of its parents.
- merge(S into T, whose working state is W): up to date (nothing written) when S is an ancestor
  of T or T itself. Otherwise the base is a best common ancestor (one that is no ancestor of
  another common ancestor), the greatest generation first, then the latest created; entities,
  their fields and the keys of their JSON object fields merge three-way between base, W and S.

Errors are `ModelError(code)` with the engine's stable codes, checked in the documented order:
the branch (NOT_FOUND), its protection, the entities, then the invariants.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

Content = dict[str, Any]
State = dict[str, dict[uuid.UUID, Content]]
Changes = dict[tuple[str, uuid.UUID], tuple[Content | None, Content | None]]
KINDS = ("label", "file", "instance")
STRATEGIES = ("fail", "ours", "theirs")
DEFAULTS: dict[str, Content] = {
    "label": {"color": "#888888", "description": "", "attribute_schema": {}, "metadata": {}},
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
        "extra": None,
    },
}
# The content field of each kind that holds a JSON object: merged key by key.
OBJECT_FIELD = {"label": "attribute_schema", "file": "metadata", "instance": "attributes"}


class _Absent:
    """What a field or a JSON key is where it does not exist: never equal to any value."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
WHOLE_ENTITIES = False  # OLD-ENGINE RUN ONLY: the old engine merges whole entities


class ModelError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class EntityConflict:
    """An entity both sides of a merge changed differently since the base.

    `fields` are the fields (`attributes.color` for a key of a JSON object field) changed on
    both sides to different values; none when one side removed the entity (an entity-level
    conflict). `standing` are those no strategy resolved; `stands`: the merge cannot go on.
    """

    kind: str
    entity_id: uuid.UUID
    source_change: str
    target_change: str
    fields: tuple[str, ...]
    standing: tuple[str, ...]
    stands: bool


class ModelMergeConflict(ModelError):
    """MERGE_CONFLICT for conflicts that stand (not for a result that breaks an invariant)."""

    def __init__(self, conflicts: tuple[EntityConflict, ...]) -> None:
        super().__init__("MERGE_CONFLICT")
        self.conflicts = conflicts


def empty() -> State:
    return {kind: {} for kind in KINDS}


@dataclass(frozen=True)
class Commit:
    id: uuid.UUID
    parents: tuple[uuid.UUID, ...]
    state: State
    order: int  # creation order: 0 for the root


@dataclass
class Branch:
    name: str
    start: uuid.UUID  # the commit it was created from: `name@0`
    own: list[uuid.UUID]  # its own commits: `name@1` .. `name@head`
    working: State
    protected: bool = False
    deleted: bool = False

    @property
    def head(self) -> int:
        return len(self.own)

    @property
    def current(self) -> uuid.UUID:
        return self.own[-1] if self.own else self.start

    def at(self, seq: int) -> uuid.UUID:
        return self.own[seq - 1] if seq else self.start


@dataclass(frozen=True)
class MergePlan:
    """What a merge of commit `source` into branch `target_branch` (at commit `target`) does."""

    source: uuid.UUID
    target: uuid.UUID
    up_to_date: bool
    bases: frozenset[uuid.UUID]  # the best common ancestors (none when up to date)
    base: uuid.UUID | None  # the one the tie rule picks
    fast_forward: bool
    conflicts: tuple[EntityConflict, ...]  # every conflict found (all resolved, on success)
    state: State  # the target's working state after the merge


def _change(before: Content | None, after: Content | None) -> str:
    return "added" if before is None else "removed" if after is None else "modified"


def _three_way(base: object, ours: object, theirs: object) -> tuple[object, bool]:
    """(merged value, conflicted) for one value on three sides, ABSENT where missing."""
    if ours == theirs:
        return ours, False
    if ours == base:
        return theirs, False
    if theirs == base:
        return ours, False
    return ours, True


def _broken(kind: str, content: Content) -> bool:
    """Whether one entity's content breaks a rule on its own fields (docs: content checks)."""
    if kind != "instance":
        return not content["name"]
    start, end, score = content["text_start"], content["text_end"], content["score"]
    return (start is not None and end is not None and end < start) or (
        score is not None and not 0 <= score <= 1
    )


def merge_entity(
    kind: str,
    entity_id: uuid.UUID,
    base: Content | None,
    ours: Content | None,
    theirs: Content | None,
    strategy: str,
    field_strategies: Mapping[str, str],
) -> tuple[Content | None, EntityConflict | None]:
    """One entity's three-way merge: its merged content (None: absent), and its conflict."""
    if ours == theirs:
        return copy.deepcopy(ours), None
    if ours == base:
        return copy.deepcopy(theirs), None
    if theirs == base:
        return copy.deepcopy(ours), None
    if ours is None or theirs is None or WHOLE_ENTITIES:
        conflict = EntityConflict(
            kind, entity_id, _change(base, theirs), _change(base, ours), (), (), strategy == "fail"
        )
        return copy.deepcopy(theirs if strategy == "theirs" else ours), conflict
    merged: Content = {}
    clashes: list[str] = []
    standing: list[str] = []

    def settle(path: str, name: str, mine: object, other: object) -> object:
        clashes.append(path)
        pick = field_strategies.get(path) or field_strategies.get(name) or strategy
        if pick == "fail":
            standing.append(path)
        return other if pick == "theirs" else mine

    for name in sorted(ours.keys() | theirs.keys()):
        was = ABSENT if base is None else base.get(name, ABSENT)
        mine, other = ours.get(name, ABSENT), theirs.get(name, ABSENT)
        if name == OBJECT_FIELD[kind] and isinstance(mine, dict) and isinstance(other, dict):
            old = was if isinstance(was, dict) else {}
            value: dict[str, Any] = {}
            for key in sorted(old.keys() | mine.keys() | other.keys()):
                k_was, k_mine, k_other = (d.get(key, ABSENT) for d in (old, mine, other))
                k_value, clash = _three_way(k_was, k_mine, k_other)
                if clash:
                    k_value = settle(f"{name}.{key}", name, k_mine, k_other)
                if k_value is not ABSENT:
                    value[key] = copy.deepcopy(k_value)
            merged[name] = value
            continue
        result, clash = _three_way(was, mine, other)
        if clash:
            result = settle(name, name, mine, other)
        if result is not ABSENT:
            merged[name] = copy.deepcopy(result)
    if not clashes:
        return merged, None
    conflict = EntityConflict(
        kind,
        entity_id,
        _change(base, theirs),
        _change(base, ours),
        tuple(clashes),
        tuple(standing),
        bool(standing),
    )
    return merged, conflict


def merge_states(
    base: State, ours: State, theirs: State, strategy: str, field_strategies: Mapping[str, str]
) -> tuple[State, list[EntityConflict]]:
    """Every entity of any of the three states merged: the merged state, and the conflicts."""
    merged = empty()
    conflicts: list[EntityConflict] = []
    for kind in KINDS:
        for eid in sorted(base[kind].keys() | ours[kind].keys() | theirs[kind].keys()):
            content, conflict = merge_entity(
                kind,
                eid,
                base[kind].get(eid),
                ours[kind].get(eid),
                theirs[kind].get(eid),
                strategy,
                field_strategies,
            )
            if content is not None:
                merged[kind][eid] = content
            if conflict is not None:
                conflicts.append(conflict)
    return merged, conflicts


def diff_states(a: State, b: State) -> Changes:
    changes = {}
    for kind in KINDS:
        for eid in a[kind].keys() | b[kind].keys():
            before, after = a[kind].get(eid), b[kind].get(eid)
            if before != after:
                changes[(kind, eid)] = (before, after)
    return changes


@dataclass
class Model:
    root: uuid.UUID
    default_branch: str = "main"
    commits: dict[uuid.UUID, Commit] = field(default_factory=dict)  # in creation order
    branches: list[Branch] = field(default_factory=list)
    tags: dict[str, uuid.UUID] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.commits[self.root] = Commit(self.root, (), empty(), 0)
        self.branches.append(Branch(self.default_branch, self.root, [], empty()))

    # --- versions -----------------------------------------------------------------------

    def live(self, name: str) -> Branch | None:
        return next((b for b in self.branches if b.name == name and not b.deleted), None)

    def resolve(self, ref: str) -> tuple[uuid.UUID, Branch | None]:
        """The commit `ref` names, and the branch when it names a live branch's working state
        (the commit is then the branch's current commit)."""
        if not ref:
            raise ModelError("BAD_USER_INPUT")
        name, at, seq = ref.rpartition("@")
        if at and name and seq.isdigit():
            found = self.live(name)
            if found is None or int(seq) > found.head:
                raise ModelError("NOT_FOUND")
            return found.at(int(seq)), None
        branch = self.live(ref)
        if branch is not None:
            return branch.current, branch
        if ref in self.tags:
            return self.tags[ref], None
        digits = ref.lower().replace("-", "")
        if 8 <= len(digits) <= 32 and all(c in "0123456789abcdef" for c in digits):
            matches = [c for c in self.commits if c.hex.startswith(digits)]
            if len(matches) > 1:
                raise ModelError("BAD_USER_INPUT")
            if matches:
                return matches[0], None
        raise ModelError("NOT_FOUND")

    def kept(self, ref: str) -> uuid.UUID:
        """The commit `ref` names where a kept version is needed: a branch's current commit."""
        return self.resolve(ref)[0]

    def state_of(self, ref: str) -> State:
        """What a read of `ref` sees: a live branch's working state, else a commit's state."""
        commit, branch = self.resolve(ref)
        return branch.working if branch is not None else self.commits[commit].state

    # --- the commit graph, searched ---------------------------------------------------------

    def ancestors(self, commit: uuid.UUID) -> set[uuid.UUID]:
        """`commit` and every commit reachable from it through parents."""
        seen: set[uuid.UUID] = set()
        todo = [commit]
        while todo:
            found = todo.pop()
            if found not in seen:
                seen.add(found)
                todo += self.commits[found].parents
        return seen

    def generations(self) -> dict[uuid.UUID, int]:
        """Each commit's longest path to the root (parents are created before children)."""
        depth: dict[uuid.UUID, int] = {}
        for commit in self.commits.values():
            depth[commit.id] = 1 + max((depth[p] for p in commit.parents), default=-1)
        return depth

    def generation(self, commit: uuid.UUID) -> int:
        return self.generations()[commit]

    def best_common_ancestors(self, a: uuid.UUID, b: uuid.UUID) -> frozenset[uuid.UUID]:
        """Common ancestors of `a` and `b` that are no ancestor of another common ancestor."""
        common = self.ancestors(a) & self.ancestors(b)
        below = {c: self.ancestors(c) - {c} for c in common}
        return frozenset(c for c in common if not any(c in below[d] for d in common))

    def pick_base(self, bases: frozenset[uuid.UUID]) -> uuid.UUID:
        """The documented tie rule: the greatest generation, then the latest created."""
        depth = self.generations()
        return max(bases, key=lambda c: (depth[c], self.commits[c].order))

    def merge_base(self, a: str, b: str) -> tuple[frozenset[uuid.UUID], uuid.UUID]:
        """The best common ancestors of the commits of refs `a` and `b`, and the one picked."""
        bases = self.best_common_ancestors(self.kept(a), self.kept(b))
        return bases, self.pick_base(bases)

    def log(self, ref: str, limit: int) -> list[uuid.UUID]:
        """The commits the ref's commit contains (itself included), newest first."""
        found = self.ancestors(self.kept(ref))
        return [c for c in reversed(self.commits) if c in found][:limit]

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
        contents = [
            {**DEFAULTS[kind], **{k: v for k, v in row.items() if k != "entity_id"}} for row in rows
        ]
        if any(_broken(kind, content) for content in contents):
            raise ModelError("BAD_USER_INPUT")
        if any(eid in new[kind] for eid in ids):
            raise ModelError("CONFLICT")
        for eid, content in zip(ids, contents, strict=True):
            new[kind][eid] = content
        branch.working = self._checked(new, "BAD_USER_INPUT")

    def update(self, name: str, kind: str, changes: dict[uuid.UUID, Content]) -> None:
        branch = self._writable(name)
        new = copy.deepcopy(branch.working)
        if any(eid not in new[kind] for eid in changes):
            raise ModelError("NOT_FOUND")
        for eid, fields in changes.items():
            new[kind][eid] = {**new[kind][eid], **copy.deepcopy(fields)}
            if _broken(kind, new[kind][eid]):
                raise ModelError("BAD_USER_INPUT")
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

    def _record(
        self, branch: Branch, state: State, parents: tuple[uuid.UUID, ...], commit_id: uuid.UUID
    ) -> Commit:
        made = Commit(commit_id, parents, copy.deepcopy(state), len(self.commits))
        self.commits[commit_id] = made
        branch.own.append(commit_id)
        branch.working = copy.deepcopy(state)
        return made

    def commit(self, name: str, commit_id: uuid.UUID) -> Commit:
        branch = self.live(name)
        if branch is None:
            raise ModelError("NOT_FOUND")
        return self._record(branch, branch.working, (branch.current,), commit_id)

    def _name_free(self, name: str) -> None:
        if self.live(name) is not None or name in self.tags:
            raise ModelError("CONFLICT")

    def create_branch(self, name: str, from_ref: str) -> None:
        start = self.kept(from_ref)
        self._name_free(name)
        state = copy.deepcopy(self.commits[start].state)
        self.branches.append(Branch(name, start, [], state))

    def create_tag(self, name: str, ref: str) -> None:
        commit = self.kept(ref)
        self._name_free(name)
        self.tags[name] = commit

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

    def diff(self, a: str, b: str) -> Changes:
        return diff_states(self.state_of(a), self.state_of(b))

    def plan_merge(
        self,
        source: str,
        target: str,
        strategy: str,
        field_strategies: Mapping[str, str] | None = None,
    ) -> MergePlan:
        """What merging `source` into branch `target` does, without doing it."""
        if strategy not in STRATEGIES or any(
            s not in STRATEGIES for s in (field_strategies or {}).values()
        ):
            raise ModelError("BAD_USER_INPUT")
        branch = self.live(target)
        if branch is None:
            raise ModelError("NOT_FOUND")
        theirs, ours = self.kept(source), branch.current
        if theirs in self.ancestors(ours):
            return MergePlan(theirs, ours, True, frozenset(), None, False, (), branch.working)
        bases = self.best_common_ancestors(theirs, ours)
        base = self.pick_base(bases)
        merged, conflicts = merge_states(
            self.commits[base].state,
            branch.working,
            self.commits[theirs].state,
            strategy,
            field_strategies or {},
        )
        standing = tuple(c for c in conflicts if c.stands)
        if standing:
            raise ModelMergeConflict(standing)
        if any(_broken(kind, c) for kind in KINDS for c in merged[kind].values()):
            raise ModelError("MERGE_CONFLICT")
        self._checked(merged, "MERGE_CONFLICT")
        fast_forward = ours in self.ancestors(theirs)
        return MergePlan(theirs, ours, False, bases, base, fast_forward, tuple(conflicts), merged)

    def merge(
        self,
        source: str,
        target: str,
        strategy: str,
        field_strategies: Mapping[str, str] | None,
        commit_id: uuid.UUID,
    ) -> MergePlan:
        """Merge as the spec says; a merge that is not up to date is commit `commit_id`."""
        plan = self.plan_merge(source, target, strategy, field_strategies)
        branch = self.live(target)
        if not plan.up_to_date and branch is not None:
            self._record(branch, plan.state, (plan.target, plan.source), commit_id)
        return plan

    def revert(self, name: str, to: str, commit_id: uuid.UUID) -> Commit:
        branch = self._writable(name)
        state = self.commits[self.kept(to)].state
        return self._record(branch, state, (branch.current,), commit_id)
