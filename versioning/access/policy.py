"""The role matrix, and the checks every way in composes (GraphQL reads and mutations, jobs,
exports, blob links). Nothing else decides who may do what.

Rules:

1. An admin principal (an admin key, `serve --local-admin` on loopback, the operator's own
   command line) may do everything. Every other principal acts for one team.
2. A team reads a dataset iff it holds a grant on it (any role, any refs). Lists are filtered in
   SQL by the same condition (`readable_datasets`), so no count includes another team's data.
3. Within a dataset, a branch is readable iff the pattern of one of the team's grants matches
   its name, or the team owns (created) it. A tag is readable iff a pattern matches its name,
   or the commit it names is readable by rule 4 (a tag only names a version).
4. A version given as a commit id or `branch@seq` is readable iff a readable branch's head or a
   readable tag contains it in its lineage: a commit reachable only from refs the caller may not
   see is not readable.
5. The team's role on a ref is the highest role of the grants whose pattern matches the name; on
   a branch the team owns, at least its highest role anywhere in the dataset, capped at editor.
   Dataset-wide actions (rename, delete, grants) need the role from a grant whose refs is '*'.
6. An action needs the role `MATRIX` names, on the ref it acts on (a merge: on the target; a
   protected target needs the role its rule names, editor by default). Deleting a branch the
   team owns needs editor only (`OWNER_MATRIX`).
7. What is not readable answers NOT_FOUND, with the same message as what does not exist: names
   are resolved among what the principal reads, so a hidden branch, tag, `branch@seq` or commit
   (id or prefix) is passed over, never found and then refused. What is readable without the
   needed role answers FORBIDDEN, naming the role; so does a ref name the team has no role on,
   whether or not a ref of that name exists (the answer follows from its own grants).
8. A file may be made over a blob only if a file at a version the principal reads holds it
   already (an admin: any blob of the dataset's store): the store is shared by the dataset's
   branches, and a file hands out a signed link to its bytes.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, Dialect, func, literal_column, select, true

from trainingdb.versioning.datasets import DatasetRow, get_dataset, get_dataset_by_id
from trainingdb.versioning.errors import ForbiddenError, InvalidInputError, NotFoundError
from trainingdb.versioning.models import (
    ApiKey,
    Dataset,
    DatasetGrant,
    File,
    JobKind,
    Role,
    Tag,
)
from trainingdb.versioning.refs import BranchRow, load_branches
from trainingdb.versioning.sql import among
from trainingdb.versioning.versions import (
    Version,
    commit_id,
    live_branch,
    resolve_seen,
    version_at,
    working_version,
)

from .keys import key_prefix, key_statement, live_key, principal_of
from .principal import Principal


class Action(StrEnum):
    READ = "read"
    EXPORT = "export"
    EDIT_INSTANCES = "edit instances"
    COMMIT = "commit"
    EDIT_LABELS_AND_FILES = "edit labels and files"
    CREATE_BRANCH = "create a branch"
    CREATE_TAG = "create a tag"
    DELETE_TAG = "delete a tag"
    MERGE = "merge"
    REVERT = "revert"
    DELETE_BRANCH = "delete a branch"
    PROTECT_BRANCH = "protect a branch"
    UPDATE_DATASET = "update the dataset"
    DELETE_DATASET = "delete the dataset"
    MANAGE_ACCESS = "manage access"
    READ_AUDIT = "read the audit log"


# The matrix: the least role each action needs on the ref it acts on.
MATRIX: Final[Mapping[Action, Role]] = {
    Action.READ: Role.VIEWER,
    Action.EXPORT: Role.VIEWER,
    Action.EDIT_INSTANCES: Role.ANNOTATOR,
    Action.COMMIT: Role.ANNOTATOR,
    Action.EDIT_LABELS_AND_FILES: Role.EDITOR,
    Action.CREATE_BRANCH: Role.EDITOR,
    Action.CREATE_TAG: Role.EDITOR,
    Action.DELETE_TAG: Role.EDITOR,
    Action.MERGE: Role.EDITOR,
    Action.REVERT: Role.EDITOR,
    Action.DELETE_BRANCH: Role.ADMIN,
    Action.PROTECT_BRANCH: Role.ADMIN,
    Action.UPDATE_DATASET: Role.ADMIN,
    Action.DELETE_DATASET: Role.ADMIN,
    Action.MANAGE_ACCESS: Role.ADMIN,
    Action.READ_AUDIT: Role.ADMIN,
}
# Where owning the branch lowers the need.
OWNER_MATRIX: Final[Mapping[Action, Role]] = {Action.DELETE_BRANCH: Role.EDITOR}
# Actions on the whole dataset: the role must come from a grant on every ref ('*').
DATASET_WIDE: Final = frozenset(
    {Action.UPDATE_DATASET, Action.DELETE_DATASET, Action.MANAGE_ACCESS, Action.READ_AUDIT}
)

_RANK: Final = {Role.VIEWER: 1, Role.ANNOTATOR: 2, Role.EDITOR: 3, Role.ADMIN: 4}
ALL_REFS: Final = "*"


def at_least(role: Role | None, needed: Role) -> bool:
    """at_least: whether `role` includes `needed`; O(1)."""
    return role is not None and _RANK[role] >= _RANK[needed]


def _best(roles: list[Role]) -> Role | None:
    return max(roles, key=_RANK.__getitem__, default=None)


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    refs: str


def role_on(
    principal: Principal, grants: tuple[Grant, ...], name: str, owner_team_id: int | None = None
) -> Role | None:
    """role_on: the principal's role on ref `name` given its grants on the dataset (rule 5);
    O(grants)."""
    if principal.admin:
        return Role.ADMIN
    role = _best([g.role for g in grants if fnmatch.fnmatchcase(name, g.refs)])
    if owner_team_id is not None and owner_team_id == principal.team_id:
        owned = _best([g.role for g in grants])
        if owned is not None and _RANK[owned] > _RANK[Role.EDITOR]:
            owned = Role.EDITOR
        role = _best([r for r in (role, owned) if r is not None])
    return role


def grants_of(
    conn: Connection, principal: Principal, dataset_ids: Sequence[int]
) -> dict[int, tuple[Grant, ...]]:
    """grants_of: the principal's grants on each dataset (none for an admin, who needs none);
    one statement for all of them."""
    found: dict[int, list[Grant]] = {i: [] for i in dataset_ids}
    if not principal.admin and dataset_ids:
        rows = conn.execute(
            select(DatasetGrant.dataset_id, DatasetGrant.role, DatasetGrant.refs).where(
                DatasetGrant.dataset_id.in_(dataset_ids),
                DatasetGrant.team_id == principal.team_id,
            )
        )
        for row in rows:
            found[row.dataset_id].append(Grant(Role(row.role), row.refs))
    return {i: tuple(g) for i, g in found.items()}


@dataclass
class DatasetAccess:
    """A team's grants on one dataset and the dataset's refs, read once per request."""

    principal: Principal
    dataset: DatasetRow
    grants: tuple[Grant, ...]
    branches: dict[int, BranchRow]
    _tags: list[tuple[str, int, int]] | None = None

    def role_on(self, name: str, owner_team_id: int | None = None) -> Role | None:
        """role_on: the principal's role on ref `name` (rule 5); O(grants)."""
        return role_on(self.principal, self.grants, name, owner_team_id)

    def best_role(self) -> Role | None:
        """best_role: the highest role the principal holds anywhere in the dataset; O(grants)."""
        if self.principal.admin:
            return Role.ADMIN
        return _best([g.role for g in self.grants])

    def dataset_role(self) -> Role | None:
        """dataset_role: the role from grants on every ref (rule 5, dataset-wide); O(grants)."""
        if self.principal.admin:
            return Role.ADMIN
        return _best([g.role for g in self.grants if g.refs == ALL_REFS])

    def reads_everything(self) -> bool:
        """reads_everything: an admin, or a grant on every ref; O(grants)."""
        return self.principal.admin or any(g.refs == ALL_REFS for g in self.grants)

    def branch_readable(self, branch: BranchRow) -> bool:
        """branch_readable: rule 3 for a branch; O(grants)."""
        return self.role_on(branch.name, branch.owner_team_id) is not None

    def tags(self, conn: Connection) -> list[tuple[str, int, int]]:
        if self._tags is None:
            rows = conn.execute(
                select(Tag.name, Tag.branch_id, Tag.seq).where(Tag.dataset_id == self.dataset.id)
            )
            self._tags = [(r.name, r.branch_id, r.seq) for r in rows]
        return self._tags

    def tag_readable(self, conn: Connection, name: str, branch_id: int, seq: int) -> bool:
        """tag_readable: a tag is readable by its name (rule 3) or by what it points at (rule
        4); O(refs)."""
        if self.role_on(name) is not None:
            return True
        return self.reachable(conn, branch_id, seq)

    def holds(self, conn: Connection, branch_id: int, seq: int) -> bool:
        """holds: whether a row or kill stored at `(branch_id, seq)` is in what the principal
        reads: its branch is live and the state is reachable (rule 4); O(refs)."""
        branch = self.branches.get(branch_id)
        live = branch is not None and branch.deleted_at is None
        return live and self.reachable(conn, branch_id, seq)

    def reachable(self, conn: Connection, branch_id: int, seq: int) -> bool:
        """reachable: whether state (branch_id, seq) is in the lineage of a readable branch's
        head or a readable tag (rule 4); O(refs x lineage depth), tags read only if needed."""
        return (
            self.reads_everything()
            or self._from_branches(branch_id, seq)
            or self._from_tags(conn, branch_id, seq)
        )

    def _from_branches(self, branch_id: int, seq: int) -> bool:
        for branch in self.branches.values():
            live = branch.deleted_at is None and self.branch_readable(branch)
            if live and working_version(self.branches, branch).contains(branch_id, seq):
                return True
        return False

    def _from_tags(self, conn: Connection, branch_id: int, seq: int) -> bool:
        for name, tag_branch, tag_seq in self.tags(conn):
            tagged = version_at(self.branches, tag_branch, tag_seq, name)
            if self.role_on(name) is not None and tagged.contains(branch_id, seq):
                return True
        return False


def readable_datasets(
    principal: Principal, dataset_id: ColumnElement[int] | None = None
) -> ColumnElement[bool]:
    """readable_datasets: the SQL condition rule 2 reads on `dataset_id` (default `dataset.id`;
    any table's `dataset_id` column), one semi-join."""
    if principal.admin:
        return true()
    column = Dataset.id if dataset_id is None else dataset_id
    return column.in_(
        select(DatasetGrant.dataset_id).where(DatasetGrant.team_id == principal.team_id)
    )


@dataclass
class Gate:
    """The checks for one principal, with what they read cached for one request or job.

    Every read and write path asks the gate: `dataset` and `version` for reads, `require` for
    writes. A caller never reaches a dataset or a version around it."""

    principal: Principal
    # Every grant of the principal's team by dataset, when read with its key (key_gate); else
    # each dataset's are read when it is first used.
    grants: Mapping[int, tuple[Grant, ...]] | None = None
    _access: dict[int, DatasetAccess] = field(default_factory=dict)

    def access(self, conn: Connection, dataset: DatasetRow) -> DatasetAccess:
        """access: the principal's grants on `dataset` and its refs; NOT_FOUND when it holds
        none (rule 2, as if the dataset did not exist); two index probes, cached."""
        found = self._access.get(dataset.id)
        if found is None:
            if self.grants is not None:
                grants = self.grants.get(dataset.id, ())
            else:
                grants = grants_of(conn, self.principal, [dataset.id])[dataset.id]
            if not grants and not self.principal.admin:
                raise NotFoundError(f"dataset {dataset.name!r} does not exist")
            found = DatasetAccess(self.principal, dataset, grants, load_branches(conn, dataset.id))
            self._access[dataset.id] = found
        return found

    def _by_id(self, conn: Connection, dataset_id: int) -> DatasetAccess:
        found = self._access.get(dataset_id)
        return (
            found if found is not None else self.access(conn, get_dataset_by_id(conn, dataset_id))
        )

    def forget(self, dataset_id: int) -> None:
        """forget: drop what was cached of a dataset (after a write changed its refs)."""
        self._access.pop(dataset_id, None)

    def dataset(self, conn: Connection, name: str) -> DatasetAccess:
        """dataset: the readable dataset called `name`, else NOT_FOUND; O(1)."""
        return self.access(conn, get_dataset(conn, name))

    def dataset_by_id(self, conn: Connection, dataset_id: int) -> DatasetAccess:
        """dataset_by_id: the readable dataset with id `dataset_id`, else NOT_FOUND; O(1), no
        statement once the request has read it."""
        found = self._access.get(dataset_id)
        if found is not None:
            return found
        try:
            row = get_dataset_by_id(conn, dataset_id)
        except NotFoundError:
            raise NotFoundError(f"no dataset has id {dataset_id}") from None
        try:
            return self.access(conn, row)
        except NotFoundError:
            raise NotFoundError(f"no dataset has id {dataset_id}") from None

    def version(self, conn: Connection, dataset_id: int, ref: str) -> Version:
        """version: what `ref` names among what the principal may read, else NOT_FOUND with the
        message of a ref that does not exist: hidden branches, tags and commits are passed over
        while resolving, not checked after, so no answer tells them from missing ones (rules 3,
        4, 7); O(refs). The version's `ref` names the same version to code that resolves
        without the principal's view (pass it on, not the argument): `ref` itself, or the full
        id of its commit where a hidden name or commit would shadow it."""
        access = self._by_id(conn, dataset_id)
        sees = None if access.reads_everything() else access
        version, passed = resolve_seen(conn, dataset_id, ref, access.branches, sees)
        if passed:
            version = replace(version, ref=commit_id(conn, version))
        return version

    def require(
        self, conn: Connection, dataset_id: int, action: Action, ref: str | None = None
    ) -> DatasetAccess:
        """require: the principal may do `action` on ref `ref` (None: anywhere in the dataset) —
        NOT_FOUND if it may not even read it, FORBIDDEN naming the role otherwise (rules 5-7);
        O(grants)."""
        access = self._by_id(conn, dataset_id)
        needed = MATRIX[action]
        if action in DATASET_WIDE:
            role = access.dataset_role()
            where = f"dataset {access.dataset.name!r}"
        elif ref is None:  # somewhere in the dataset; the caller checks the version it names
            role = access.best_role()
            where = f"dataset {access.dataset.name!r}"
        else:
            branch = live_branch(access.branches, ref)
            owner = None if branch is None else branch.owner_team_id
            # No role on the name answers FORBIDDEN whether a ref of that name exists or not:
            # the answer follows from the team's own grants alone, so it tells a hidden ref
            # from a missing one no more than a read does.
            role = access.role_on(ref, owner)
            if owner is not None and owner == self.principal.team_id:
                needed = OWNER_MATRIX.get(action, needed)
            if action is Action.MERGE and branch is not None and branch.protected:
                needed = _protected_merge_role(branch)
            where = f"{ref!r} of dataset {access.dataset.name!r}"
        if not at_least(role, needed):
            raise ForbiddenError(
                f"{action.value} on {where} needs the {needed.value} role; "
                f"{self._who()} has {role.value if role else 'no role there'}"
            )
        return access

    def require_blobs(
        self, conn: Connection, dataset_id: int, wanted: Sequence[tuple[str, str]]
    ) -> None:
        """require_blobs: each `(place, sha256)` names a blob a file holds at a version the
        principal may read, else BAD_USER_INPUT naming the place — the same answer for a blob
        the store lacks and for one only hidden refs hold (rule 8); one statement (the file
        blob index)."""
        access = self._by_id(conn, dataset_id)
        if access.reads_everything() or not wanted:
            return  # the write's own check refuses a blob the store lacks
        held: set[str] = set()
        rows = conn.execute(
            select(File.blob_sha256, File.branch_id, File.seq_from).where(
                File.dataset_id == dataset_id,
                among(File.__table__.c.blob_sha256, {sha for _, sha in wanted}),
            )
        )
        for sha, branch_id, seq in rows:
            if sha not in held and access.holds(conn, branch_id, seq):
                held.add(sha)
        for place, sha in wanted:
            if sha not in held:
                raise InvalidInputError(f"{place}: blob {sha} is not in the dataset's blob store")

    def require_admin(self, what: str) -> None:
        """require_admin: FORBIDDEN unless the principal is an admin (an admin key, the local
        admin, the operator): actions on no dataset, such as creating one."""
        if not self.principal.admin:
            raise ForbiddenError(f"{what} needs an admin; {self._who()} is not one")

    def _who(self) -> str:
        return f"team {self.principal.team!r}" if self.principal.team else "this principal"


def _protected_merge_role(branch: BranchRow) -> Role:
    return Role(branch.merge_role) if branch.merge_role else Role.EDITOR


def principal_json(principal: Principal) -> dict[str, Any]:
    """principal_json: the principal as JSON (jobs store it); `principal_from_json` reverses it."""
    return {
        "team_id": principal.team_id,
        "team": principal.team,
        "member_id": principal.member_id,
        "member": principal.member,
        "admin": principal.admin,
        "credential": principal.credential,
    }


def principal_from_json(value: Mapping[str, Any]) -> Principal:
    """principal_from_json: the principal `principal_json` wrote (older jobs: the operator)."""
    return Principal(
        team_id=value.get("team_id"),
        team=value.get("team"),
        member_id=value.get("member_id"),
        member=value.get("member"),
        admin=bool(value.get("admin", False)),
        credential=str(value.get("credential", "cli")),
    )


_GRANTS_OF_KEY = (
    select(
        func.coalesce(
            func.json_agg(
                func.json_build_array(DatasetGrant.dataset_id, DatasetGrant.role, DatasetGrant.refs)
            ),
            literal_column("'[]'::json"),
        )
    )
    .where(DatasetGrant.team_id == ApiKey.team_id)
    .scalar_subquery()
)
_KEY_AND_GRANTS = key_statement().add_columns(_GRANTS_OF_KEY.label("grants"))


@functools.cache
def _compiled(dialect: Dialect) -> str:
    return str(_KEY_AND_GRANTS.compile(dialect=dialect))


def key_gate(conn: Connection, presented: str) -> Gate:
    """key_gate: the gate of the principal API key `presented` acts as, holding all its team's
    grants, or UNAUTHENTICATED (keys.authenticate); one statement for both."""
    # Compiled once: this runs on every request, and the driver-level call skips the compiled
    # cache's lookup (a third of the statement's cost).
    sql = _compiled(conn.dialect)
    row = conn.exec_driver_sql(sql, {"prefix": key_prefix(presented)}).one_or_none()
    principal = principal_of(row, presented)
    assert row is not None  # principal_of refuses a missing key
    found: dict[int, list[Grant]] = {}
    for dataset_id, role, refs in row.grants:
        found.setdefault(dataset_id, []).append(Grant(Role(role), refs))
    return Gate(principal, {i: tuple(g) for i, g in found.items()})


def renewed_gate(conn: Connection, principal: Principal) -> Gate:
    """renewed_gate: a gate reading `principal`'s grants afresh, if its key is still live
    (UNAUTHENTICATED if revoked since) — for work that outlives the request that authenticated
    it (jobs, subscriptions); one statement for a key, none otherwise."""
    if principal.credential.startswith("key:"):
        live_key(conn, principal.credential.removeprefix("key:"))
    return Gate(principal)


def authorize_job(
    conn: Connection, dataset_id: int, kind: str, params: Mapping[str, Any], who: Mapping[str, Any]
) -> Principal:
    """authorize_job: the principal a job acts for, if it may still do what the job does —
    checked when a worker runs it, so a key revoked or a grant withdrawn since it was queued
    stops it (UNAUTHENTICATED / NOT_FOUND / FORBIDDEN); O(grants + refs)."""
    principal = principal_from_json(who)
    gate = renewed_gate(conn, principal)
    if kind == JobKind.EXPORT:
        dataset = gate.dataset_by_id(conn, dataset_id).dataset
        gate.version(conn, dataset_id, str(params.get("version") or dataset.default_branch))
    else:
        branch = str(params.get("branch") or "main")
        needs = Action.EDIT_INSTANCES
        if kind == JobKind.IMPORT_MEDIA or params.get("create_labels"):
            needs = Action.EDIT_LABELS_AND_FILES
        gate.require(conn, dataset_id, needs, branch)
    return principal
