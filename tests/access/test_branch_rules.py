"""Branch ownership and protection: a branch records the team that made it, which may then
delete it as an editor; a protected branch takes changes only by merge, from the role its rule
names."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import Engine

from tests.graphql.execute import run, run_as
from trainingdb import versioning as v
from trainingdb.versioning.access import grants, identities
from trainingdb.versioning.access.principal import Principal
from trainingdb.versioning.refs import load_branches

_numbers = itertools.count()


def team_on(engine: Engine, dataset: str, *roles: tuple[str, str]) -> Principal:
    """A new team holding each (role, refs) on `dataset`."""
    name = f"bt{next(_numbers)}"
    with engine.begin() as conn:
        team = identities.create_team(conn, name)
        for role, refs in roles:
            grants.set_grant(conn, name, dataset, role, refs)
    return Principal(team.id, team.name, None, None, False, "test")


def dataset_with_work(engine: Engine) -> str:
    name = f"br{next(_numbers)}"
    with engine.begin() as conn:
        ds = v.create_dataset(conn, name).id
        v.create(conn, ds, "main", "label", [{"name": "car"}])
        v.commit(conn, ds, "main", "load", "test")
        v.create_branch(conn, ds, "side", "main")
        v.create(conn, ds, "side", "label", [{"name": "bus"}])
        v.commit(conn, ds, "side", "bus", "test")
        v.create_branch(conn, ds, "team-a/admins", "main")
    return name


def code(out: dict[str, Any]) -> str | None:
    errors = out.get("errors")
    return None if not errors else str(errors[0]["code"])


def test_a_branch_records_its_team_which_may_delete_it_as_editor(engine: Engine) -> None:
    ds = dataset_with_work(engine)
    editors = team_on(engine, ds, ("viewer", "main"), ("editor", "team-a/*"))
    made = run_as(
        engine,
        editors,
        f'mutation {{ createBranch(dataset: "{ds}", name: "team-a/mine") {{ name }} }}',
    )
    assert code(made) is None, made
    with engine.connect() as conn:
        rows = load_branches(conn, v.get_dataset(conn, ds).id).values()
        owners = {b.name: b.owner_team_id for b in rows}
    assert owners["team-a/mine"] == editors.team_id
    assert owners["team-a/admins"] is None
    delete = "mutation($ds: String!, $b: String!) {{ deleteBranch(dataset: $ds, name: $b) }}"
    document = delete.replace("{{", "{").replace("}}", "}")
    assert code(run_as(engine, editors, document, ds=ds, b="team-a/admins")) == "FORBIDDEN"
    assert code(run_as(engine, editors, document, ds=ds, b="team-a/mine")) is None


def test_an_owned_branch_keeps_its_team_s_role_when_the_pattern_moves(engine: Engine) -> None:
    ds = dataset_with_work(engine)
    team = team_on(engine, ds, ("viewer", "main"), ("editor", "team-a/*"))
    run_as(
        engine, team, f'mutation {{ createBranch(dataset: "{ds}", name: "team-a/x") {{ name }} }}'
    )
    with engine.begin() as conn:
        grants.revoke_grant(conn, str(team.team), ds, "team-a/*")
        grants.set_grant(conn, str(team.team), ds, "annotator", "team-b/*")
    label = (
        f'mutation {{ createLabel(dataset: "{ds}", branch: "team-a/x", '
        'label: {name: "van"}) { id } }'
    )
    assert code(run_as(engine, team, label)) == "FORBIDDEN"  # editor work; it is annotator now
    commit = f'mutation {{ commit(dataset: "{ds}", branch: "team-a/x", message: "m") {{ seq }} }}'
    assert code(run_as(engine, team, commit)) is None  # an annotator may commit its own branch


def test_a_protected_branch_merges_only_from_the_role_its_rule_names(engine: Engine) -> None:
    ds = dataset_with_work(engine)
    protect = (
        f'mutation {{ protectBranch(dataset: "{ds}", name: "main", mergeRole: "admin") '
        "{ protected } }"
    )
    assert run(engine, protect)["data"] == {"protectBranch": {"protected": True}}
    editors = team_on(engine, ds, ("editor", "*"))
    admins = team_on(engine, ds, ("admin", "*"))
    merge = f'mutation {{ merge(dataset: "{ds}", source: "side", target: "main") {{ merged }} }}'
    refused = run_as(engine, editors, merge)
    assert code(refused) == "FORBIDDEN"
    assert "needs the admin role" in refused["errors"][0]["message"]
    direct = (
        f'mutation {{ createLabel(dataset: "{ds}", branch: "main", label: {{name: "van"}}) '
        "{ id } }"
    )
    assert code(run_as(engine, admins, direct)) == "PROTECTED_BRANCH"
    assert run_as(engine, admins, merge)["data"] == {"merge": {"merged": True}}


def test_a_merge_role_must_be_a_role(engine: Engine) -> None:
    ds = dataset_with_work(engine)
    out = run(
        engine,
        f'mutation {{ protectBranch(dataset: "{ds}", name: "main", mergeRole: "owner") '
        "{ protected } }",
    )
    assert code(out) == "BAD_USER_INPUT"
    assert "mergeRole: 'owner' is not one of viewer, annotator, editor, admin" in str(out)
