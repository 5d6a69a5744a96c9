"""Access management over GraphQL: teams, members, keys and grants as mutations, the audit log
as a query; who may use each, and one audit event per change (never a key's secret)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from tests.graphql.execute import run, run_as
from trainingdb import versioning as v
from trainingdb.versioning.access import audit, grants, identities, keys
from trainingdb.versioning.access.principal import Principal
from trainingdb.versioning.errors import UnauthenticatedError
from trainingdb.versioning.models import AuditEvent

World = dict[str, Any]

CREATE_TEAM = "mutation($name: String!) { createTeam(name: $name) { name members } }"
ADD_MEMBER = """mutation($team: String!, $name: String!) {
  addMember(team: $team, name: $name, email: "m@example.com") { team name email } }"""
CREATE_KEY = """mutation($team: String, $member: String, $admin: Boolean! = false, $hours: Int) {
  createApiKey(team: $team, member: $member, admin: $admin, expiresInHours: $hours) {
    key apiKey { prefix team member admin expiresAt revokedAt } } }"""
REVOKE_KEY = "mutation($prefix: String!) { revokeApiKey(prefix: $prefix) { prefix revokedAt } }"
SET_GRANT = """mutation($team: String!, $dataset: String!, $role: String!, $refs: String! = "*") {
  setGrant(team: $team, dataset: $dataset, role: $role, refs: $refs) {
    dataset team role refs } }"""
REVOKE_GRANT = """mutation($team: String!, $dataset: String!, $refs: String! = "*") {
  revokeGrant(team: $team, dataset: $dataset, refs: $refs) { dataset team role refs } }"""
TEAMS = "{ teams { name members } }"
API_KEYS = "{ apiKeys { prefix team admin revokedAt } }"
GRANTS = """query($dataset: String, $team: String) {
  grants(dataset: $dataset, team: $team) { dataset team role refs } }"""
AUDIT_LOG = """query($dataset: String, $first: Int! = 100, $before: ID) {
  auditLog(dataset: $dataset, first: $first, before: $before) {
    id actor credential action dataset ref detail requestId } }"""


@pytest.fixture(scope="module")
def world(engine: Engine) -> World:
    """owls: keepers are admin on '*', helpers admin on 'helpers/*' only; crows: keepers are
    editors; hawks: no grant for anyone."""
    with engine.begin() as conn:
        ids = {name: v.create_dataset(conn, name).id for name in ("owls", "crows", "hawks")}
        teams = {name: identities.create_team(conn, name) for name in ("keepers", "helpers")}
        grants.set_grant(conn, "keepers", "owls", "admin")
        grants.set_grant(conn, "helpers", "owls", "admin", "helpers/*")
        grants.set_grant(conn, "keepers", "crows", "editor")
    as_team = {n: Principal(t.id, t.name, None, None, False, "test") for n, t in teams.items()}
    return {"ids": ids, **as_team}


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _latest(engine: Engine) -> audit.EventRow:
    with engine.connect() as conn:
        return audit.events(conn, limit=1)[0]


def _ok(out: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in out, out
    data: dict[str, Any] = out["data"]
    return data


def _codes(out: dict[str, Any]) -> set[str]:
    assert "errors" in out, out
    return {e["code"] for e in out["errors"]}


def _one_event(engine: Engine, before: int, action: str) -> audit.EventRow:
    assert _count(engine) == before + 1
    event = _latest(engine)
    assert (event.action, event.actor, event.credential) == (action, "admin", "local")
    return event


def test_admin_creates_teams_and_members(engine: Engine, world: World) -> None:
    before = _count(engine)
    assert _ok(run(engine, CREATE_TEAM, name="alpha"))["createTeam"] == {
        "name": "alpha",
        "members": 0,
    }
    assert _one_event(engine, before, "create a team").detail == {"team": "alpha"}
    added = _ok(run(engine, ADD_MEMBER, team="alpha", name="ann"))["addMember"]
    assert added == {"team": "alpha", "name": "ann", "email": "m@example.com"}
    assert _one_event(engine, before + 1, "add a member").detail == {
        "team": "alpha",
        "member": "ann",
    }
    assert {"name": "alpha", "members": 1} in _ok(run(engine, TEAMS))["teams"]
    assert _codes(run(engine, CREATE_TEAM, name="alpha")) == {"CONFLICT"}
    assert _count(engine) == before + 2


def test_admin_creates_lists_and_revokes_keys(engine: Engine, world: World) -> None:
    run(engine, CREATE_TEAM, name="beta")
    run(engine, ADD_MEMBER, team="beta", name="bob")
    before = _count(engine)
    made = _ok(run(engine, CREATE_KEY, team="beta", member="bob", hours=2))["createApiKey"]
    key, row = made["key"], made["apiKey"]
    assert (row["team"], row["member"], row["admin"], row["revokedAt"]) == (
        "beta",
        "bob",
        False,
        None,
    )
    assert row["expiresAt"] is not None
    assert key.startswith(f"tdb_{row['prefix']}_")
    event = _one_event(engine, before, "create a key")
    assert event.detail["key"] == row["prefix"]
    assert event.detail["team"] == "beta"
    assert key.rsplit("_", 1)[1] not in str(event.detail)
    with engine.connect() as conn:
        who = keys.authenticate(conn, key)
    assert (who.team, who.member, who.admin) == ("beta", "bob", False)

    listed = _ok(run(engine, API_KEYS))["apiKeys"]
    assert {"prefix": row["prefix"], "team": "beta", "admin": False, "revokedAt": None} in listed
    assert key not in str(listed)

    revoked = _ok(run(engine, REVOKE_KEY, prefix=row["prefix"]))["revokeApiKey"]
    assert revoked["prefix"] == row["prefix"]
    assert revoked["revokedAt"] is not None
    assert _one_event(engine, before + 1, "revoke a key").detail == {"key": row["prefix"]}
    with engine.connect() as conn, pytest.raises(UnauthenticatedError):
        keys.authenticate(conn, key)
    assert _codes(run(engine, REVOKE_KEY, prefix=row["prefix"])) == {"CONFLICT"}

    admin_key = _ok(run(engine, CREATE_KEY, admin=True))["createApiKey"]["key"]
    with engine.connect() as conn:
        assert keys.authenticate(conn, admin_key).admin


def test_admin_sets_lists_and_revokes_grants(engine: Engine, world: World) -> None:
    run(engine, CREATE_TEAM, name="gamma")
    before = _count(engine)
    hawks = str(world["ids"]["hawks"])
    set_ = _ok(run(engine, SET_GRANT, team="gamma", dataset=hawks, role="viewer", refs="v*"))
    assert set_["setGrant"] == {"dataset": "hawks", "team": "gamma", "role": "viewer", "refs": "v*"}
    event = _one_event(engine, before, "set a grant")
    assert (event.dataset, event.ref, event.detail) == (
        "hawks",
        "v*",
        {"team": "gamma", "role": "viewer"},
    )
    listed = _ok(run(engine, GRANTS, dataset="hawks"))["grants"]
    assert listed == [{"dataset": "hawks", "team": "gamma", "role": "viewer", "refs": "v*"}]
    everything = _ok(run(engine, GRANTS))["grants"]
    assert {g["dataset"] for g in everything} >= {"owls", "crows", "hawks"}
    assert {g["team"] for g in _ok(run(engine, GRANTS, team="keepers"))["grants"]} == {"keepers"}

    out = _ok(run(engine, REVOKE_GRANT, team="gamma", dataset="hawks", refs="v*"))
    assert out["revokeGrant"]["role"] == "viewer"
    event = _one_event(engine, before + 1, "revoke a grant")
    assert (event.dataset, event.ref) == ("hawks", "v*")
    assert _ok(run(engine, GRANTS, dataset="hawks"))["grants"] == []


def test_a_team_is_refused_the_admin_operations(engine: Engine, world: World) -> None:
    keepers = world["keepers"]
    before = _count(engine)
    calls: list[tuple[str, dict[str, Any]]] = [
        (CREATE_TEAM, {"name": "delta"}),
        (ADD_MEMBER, {"team": "keepers", "name": "eve"}),
        (CREATE_KEY, {"team": "keepers"}),
        (CREATE_KEY, {"admin": True}),
        (REVOKE_KEY, {"prefix": "000000000000"}),
        (TEAMS, {}),
        (API_KEYS, {}),
        (GRANTS, {}),
        (GRANTS, {"team": "keepers"}),
        (AUDIT_LOG, {}),
    ]
    for document, variables in calls:
        out = run_as(engine, keepers, document, **variables)
        assert _codes(out) == {"FORBIDDEN"}, (document, out)
    assert _count(engine) == before


def test_a_dataset_admin_manages_access_to_its_dataset_only(engine: Engine, world: World) -> None:
    keepers, helpers = world["keepers"], world["helpers"]
    run(engine, CREATE_TEAM, name="epsilon")
    before = _count(engine)
    out = run_as(engine, keepers, SET_GRANT, team="epsilon", dataset="owls", role="annotator")
    assert _ok(out)["setGrant"]["role"] == "annotator"
    assert _count(engine) == before + 1
    event = _latest(engine)
    assert (event.action, event.actor, event.credential, event.dataset) == (
        "set a grant",
        "keepers",
        "test",
        "owls",
    )
    listed = _ok(run_as(engine, keepers, GRANTS, dataset="owls"))["grants"]
    assert {(g["team"], g["refs"]) for g in listed} == {
        ("keepers", "*"),
        ("helpers", "helpers/*"),
        ("epsilon", "*"),
    }

    hawks = str(world["ids"]["hawks"])
    for who, dataset, code in [
        (keepers, "hawks", "NOT_FOUND"),  # cannot read it
        (keepers, hawks, "NOT_FOUND"),  # nor by its id
        (keepers, "no-such-dataset", "NOT_FOUND"),
        (keepers, "crows", "FORBIDDEN"),  # editor there
        (helpers, "owls", "FORBIDDEN"),  # admin, but not on every ref
    ]:
        for document, variables in [
            (SET_GRANT, {"team": "epsilon", "dataset": dataset, "role": "admin"}),
            (REVOKE_GRANT, {"team": "keepers", "dataset": dataset}),
            (GRANTS, {"dataset": dataset}),
            (AUDIT_LOG, {"dataset": dataset}),
        ]:
            out = run_as(engine, who, document, **variables)
            assert _codes(out) == {code}, (who.team, document, variables, out)
            if dataset == hawks:  # the answer does not tell that id's name
                assert "hawks" not in str(out)
    assert _count(engine) == before + 1

    out = run_as(engine, keepers, REVOKE_GRANT, team="epsilon", dataset="owls")
    assert _ok(out)["revokeGrant"]["team"] == "epsilon"
    assert (_count(engine), _latest(engine).action) == (before + 2, "revoke a grant")


def test_audit_log_pages_and_is_scoped(engine: Engine, world: World) -> None:
    for i in range(3):
        run(engine, SET_GRANT, team="helpers", dataset="owls", role="viewer", refs=f"page-{i}")
    everything = _ok(run(engine, AUDIT_LOG))["auditLog"]
    assert len(everything) == _count(engine)
    ids = [int(e["id"]) for e in everything]
    assert ids == sorted(ids, reverse=True)

    first = _ok(run(engine, AUDIT_LOG, first=2))["auditLog"]
    second = _ok(run(engine, AUDIT_LOG, first=2, before=first[-1]["id"]))["auditLog"]
    assert [e["id"] for e in first + second] == [e["id"] for e in everything[:4]]
    assert [e["ref"] for e in first] == ["page-2", "page-1"]

    owls = _ok(run_as(engine, world["keepers"], AUDIT_LOG, dataset="owls"))["auditLog"]
    assert owls
    assert {e["dataset"] for e in owls} == {"owls"}
    by_id = run_as(engine, world["keepers"], AUDIT_LOG, dataset=str(world["ids"]["owls"]))
    assert _ok(by_id)["auditLog"] == owls
    assert _ok(run(engine, AUDIT_LOG, dataset="owls"))["auditLog"] == owls


def test_bad_input_writes_nothing(engine: Engine, world: World) -> None:
    before = _count(engine)
    calls: list[tuple[str, dict[str, Any], str]] = [
        (SET_GRANT, {"team": "keepers", "dataset": "owls", "role": "owner"}, "BAD_USER_INPUT"),
        (
            SET_GRANT,
            {"team": "keepers", "dataset": "owls", "role": "viewer", "refs": "main; drop"},
            "BAD_USER_INPUT",
        ),
        (SET_GRANT, {"team": "nobody", "dataset": "owls", "role": "viewer"}, "NOT_FOUND"),
        (SET_GRANT, {"team": "keepers", "dataset": "nothing", "role": "viewer"}, "NOT_FOUND"),
        (REVOKE_GRANT, {"team": "keepers", "dataset": "owls", "refs": "zzz"}, "NOT_FOUND"),
        (CREATE_TEAM, {"name": "  "}, "BAD_USER_INPUT"),
        (ADD_MEMBER, {"team": "nobody", "name": "x"}, "NOT_FOUND"),
        (CREATE_KEY, {}, "BAD_USER_INPUT"),
        (CREATE_KEY, {"team": "keepers", "hours": 0}, "BAD_USER_INPUT"),
        (CREATE_KEY, {"team": "nobody"}, "NOT_FOUND"),
        (REVOKE_KEY, {"prefix": "ffffffffffff"}, "NOT_FOUND"),
        (AUDIT_LOG, {"before": "x"}, "BAD_USER_INPUT"),
        (AUDIT_LOG, {"first": 0}, "BAD_USER_INPUT"),
    ]
    for document, variables, code in calls:
        assert _codes(run(engine, document, **variables)) == {code}, (document, variables)
    assert _count(engine) == before
    # a team's own refused attempt writes nothing either
    out = run_as(engine, world["keepers"], SET_GRANT, team="keepers", dataset="owls", role="x")
    assert _codes(out) == {"BAD_USER_INPUT"}
    assert _count(engine) == before
