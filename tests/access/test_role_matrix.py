"""The role matrix, table-driven, through the real GraphQL schema: every role x every operation x
a grant on every ref / a grant on `team-a/*` only / no grant.

Each case gets a dataset of its own (operations commit and some delete), built by the core: a
label, a file and an instance committed on `main`, branches `side` and `old`, the same three
under `team-a/`, and a tag. The expected answer comes from `policy.MATRIX`, so the test states
the contract once: allowed iff the role includes the one the matrix names; else FORBIDDEN when
the caller may read the dataset, NOT_FOUND when it may not.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.access.seed import seeded_dataset
from tests.graphql.execute import run_as
from trainingdb import versioning as v
from trainingdb.versioning.access import identities
from trainingdb.versioning.access.grants import set_grant
from trainingdb.versioning.access.policy import DATASET_WIDE, MATRIX, Action, at_least
from trainingdb.versioning.access.principal import Principal
from trainingdb.versioning.models import Role

_numbers = itertools.count()


@dataclass(frozen=True)
class World:
    dataset: str
    instance: str
    label: str
    principal: Principal


def build(engine: Engine, role: Role | None, refs: str | None) -> World:
    """A dataset of its own and a team holding `role` on the refs `refs` matches (None: no
    grant)."""
    n = next(_numbers)
    name = f"m{n}"
    with engine.begin() as conn:
        made = seeded_dataset(conn, name)
        ds, instance = made.dataset_id, made.instance
        for branch in ("side", "old", "team-a/x", "team-a/side", "team-a/old"):
            v.create_branch(conn, ds, branch, "main")
        for side in ("side", "team-a/side"):  # something to merge and to revert to
            v.create(conn, ds, side, "label", [{"name": "bus"}])
            v.commit(conn, ds, side, "bus", "test")
        v.create_tag(conn, ds, "v1", "main")
        v.create_tag(conn, ds, "team-a/v1", "main")
        team = identities.create_team(conn, f"t{n}")
        if role is not None:
            assert refs is not None
            set_grant(conn, team.name, name, role.value, refs)
    who = Principal(team.id, team.name, None, None, False, "test")
    return World(name, str(instance), str(made.label), who)


# Each operation: (action, document, variables given the world and the scope's ref prefix).
Variables = Callable[[World, str], dict[str, Any]]
READ_INSTANCES = """query($ds: String!, $ref: String!) {
  dataset(name: $ds) { instances(version: $ref) { nodes { id } } } }"""
READ_STATS = """query($ds: String!, $ref: String!) {
  dataset(name: $ds) { instanceStats(version: $ref) { count } } }"""
READ_LOG = """query($ds: String!, $ref: String!) {
  dataset(name: $ds) { commits(version: $ref) { message } } }"""
READ_DIFF = """query($ds: String!, $ref: String!) {
  dataset(name: $ds) { diff(from: $ref, to: $ref) { changes { entityId } } } }"""
EDIT_INSTANCE = """mutation($ds: String!, $ref: String!, $id: ID!) {
  updateInstance(dataset: $ds, branch: $ref, instance: {id: $id, score: 0.5}) { id } }"""
CREATE_LABEL = """mutation($ds: String!, $ref: String!) {
  createLabel(dataset: $ds, branch: $ref, label: {name: "truck"}) { id } }"""
COMMIT = """mutation($ds: String!, $ref: String!) {
  commit(dataset: $ds, branch: $ref, message: "m") { seq } }"""
CREATE_BRANCH = """mutation($ds: String!, $name: String!, $from: String!) {
  createBranch(dataset: $ds, name: $name, from: $from) { name } }"""
CREATE_TAG = """mutation($ds: String!, $name: String!, $ref: String!) {
  createTag(dataset: $ds, name: $name, version: $ref) { name } }"""
DELETE_TAG = """mutation($ds: String!, $name: String!) { deleteTag(dataset: $ds, name: $name) }"""
MERGE = """mutation($ds: String!, $source: String!, $ref: String!) {
  merge(dataset: $ds, source: $source, target: $ref) { merged } }"""
REVERT = """mutation($ds: String!, $ref: String!, $to: String!) {
  revert(dataset: $ds, branch: $ref, to: $to) { seq } }"""
DELETE_BRANCH = """mutation($ds: String!, $name: String!) {
  deleteBranch(dataset: $ds, name: $name) }"""
PROTECT = """mutation($ds: String!, $ref: String!) {
  protectBranch(dataset: $ds, name: $ref) { protected } }"""
UPDATE_DATASET = """mutation($ds: String!) {
  updateDataset(name: $ds, description: "d") { description } }"""
DELETE_DATASET = """mutation($ds: String!) { deleteDataset(name: $ds) }"""
EXPORT = """mutation($ds: String!, $ref: String!) {
  exportDataset(dataset: $ds, version: $ref, format: "jsonl") { id } }"""


def _ref(p: str) -> str:
    return f"{p}x" if p else "main"


OPERATIONS: dict[str, tuple[Action, str, Variables]] = {
    "read instances": (Action.READ, READ_INSTANCES, lambda w, p: {"ref": _ref(p)}),
    "read stats": (Action.READ, READ_STATS, lambda w, p: {"ref": _ref(p)}),
    "read log": (Action.READ, READ_LOG, lambda w, p: {"ref": _ref(p)}),
    "read diff": (Action.READ, READ_DIFF, lambda w, p: {"ref": _ref(p)}),
    "export": (Action.EXPORT, EXPORT, lambda w, p: {"ref": _ref(p)}),
    "edit instance": (
        Action.EDIT_INSTANCES,
        EDIT_INSTANCE,
        lambda w, p: {"ref": _ref(p), "id": w.instance},
    ),
    "commit": (Action.COMMIT, COMMIT, lambda w, p: {"ref": _ref(p)}),
    "create label": (Action.EDIT_LABELS_AND_FILES, CREATE_LABEL, lambda w, p: {"ref": _ref(p)}),
    "create branch": (
        Action.CREATE_BRANCH,
        CREATE_BRANCH,
        lambda w, p: {"name": f"{p}new", "from": _ref(p)},
    ),
    "create tag": (
        Action.CREATE_TAG,
        CREATE_TAG,
        lambda w, p: {"name": f"{p}v2", "ref": f"{p}side"},
    ),
    "delete tag": (Action.DELETE_TAG, DELETE_TAG, lambda w, p: {"name": f"{p}v1"}),
    "merge": (Action.MERGE, MERGE, lambda w, p: {"source": f"{p}side", "ref": _ref(p)}),
    "revert": (Action.REVERT, REVERT, lambda w, p: {"ref": _ref(p), "to": f"{p}side"}),
    "delete branch": (Action.DELETE_BRANCH, DELETE_BRANCH, lambda w, p: {"name": f"{p}old"}),
    "protect branch": (Action.PROTECT_BRANCH, PROTECT, lambda w, p: {"ref": _ref(p)}),
    "update dataset": (Action.UPDATE_DATASET, UPDATE_DATASET, lambda w, p: {}),
    "delete dataset": (Action.DELETE_DATASET, DELETE_DATASET, lambda w, p: {}),
}
# Grants: on every ref, scoped to team-a/* (the operation then acts on team-a refs), or none.
SCOPES = {"all refs": ("*", ""), "team-a/*": ("team-a/*", "team-a/"), "no grant": (None, "")}
ROLES = list(Role)


def expected(role: Role, scope: str, action: Action) -> str | None:
    """None: allowed; else the code the answer must carry."""
    if scope == "no grant":
        return "NOT_FOUND"
    if scope == "team-a/*" and action in DATASET_WIDE:
        return "FORBIDDEN"
    return None if at_least(role, MATRIX[action]) else "FORBIDDEN"


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_role_matrix(engine: Engine, operation: str, role: Role, scope: str) -> None:
    action, document, variables = OPERATIONS[operation]
    refs, prefix = SCOPES[scope]
    world = build(engine, role if refs else None, refs)
    out = run_as(engine, world.principal, document, ds=world.dataset, **variables(world, prefix))
    want = expected(role, scope, action)
    if want is None:
        assert "errors" not in out, (operation, role, scope, out)
    else:
        codes = [e["code"] for e in out.get("errors", [])]
        assert codes == [want], (operation, role, scope, out)
