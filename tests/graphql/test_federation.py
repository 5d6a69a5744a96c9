"""The Apollo Federation v2 subgraph: `_entities` with 1,000 mixed representations in a bounded
number of statements, in request order, each item checked against the engine's own reads;
what a team may not read is null with NOT_FOUND; the SDL over HTTP."""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx
import orjson
import pytest
from graphql import FieldDefinitionNode, ObjectTypeDefinitionNode, parse
from sqlalchemy import Engine

from trainingdb import versioning as v
from trainingdb.graphql_schema import schema
from trainingdb.versioning.access import grants, identities
from trainingdb.versioning.access.principal import Principal
from trainingdb.versioning.refs import load_branches

from .execute import run, run_as, statements
from .world import build

ENTITIES = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    __typename
    ... on Instance { id version score frameNumber label { name } file { id name version } }
    ... on File { id name v: version instanceCount }
    ...L
    ... on Dataset { id name defaultBranch }
  }
}
fragment L on Label { id name }
"""


@pytest.fixture(scope="module")
def world(engine: Engine) -> dict[str, Any]:
    with engine.begin() as conn:
        ds = build(conn)
        v.create_tag(conn, ds, "first", "main@1")
        other = v.create_dataset(conn, "other").id
        team = identities.create_team(conn, "viewers")
        grants.set_grant(conn, "viewers", "filters", "viewer", "main")
    with engine.connect() as conn:
        reads = {
            (kind, ref): v.read(conn, ds, ref, kind)
            for kind in ("instance", "file", "label")
            for ref in ("main", "main@1", "exp", "first")
        }
    # An id that also names a label of dataset `other` (an import of one file into two datasets).
    shared = next(iter(reads[("label", "main")]))
    with engine.begin() as conn:
        v.create(conn, other, "main", "label", [{"name": "twin", "entity_id": shared}])
    return {
        "ds": ds,
        "reads": reads,
        "shared": shared,
        "viewer": Principal(team.id, team.name, None, None, False, "test"),
    }


def representations(world: dict[str, Any], n: int) -> list[dict[str, Any]]:
    rng = random.Random(5)
    reads = world["reads"]
    reps: list[dict[str, Any]] = []
    for _ in range(n):
        pick = rng.random()
        if pick < 0.3:
            reps.append(
                {"__typename": "Instance", "id": str(rng.choice(list(reads[("instance", "main")])))}
            )
        elif pick < 0.55:
            ref = rng.choice(("main", "main@1", "exp", "first"))
            pool = list(reads[("instance", "main@1")]) + list(reads[("instance", "exp")])
            reps.append({"__typename": "Instance", "id": str(rng.choice(pool)), "version": ref})
        elif pick < 0.7:
            given: str | None = rng.choice((None, "main", "exp"))
            rep = {"__typename": "File", "id": str(rng.choice(list(reads[("file", "main")])))}
            reps.append(rep if given is None else {**rep, "version": given})
        elif pick < 0.8:
            labels = [i for i in reads[("label", "main")] if i != world["shared"]]
            reps.append({"__typename": "Label", "id": str(rng.choice(labels))})
        elif pick < 0.9:
            reps.append({"__typename": "Dataset", "id": str(rng.choice((world["ds"], 999999)))})
        elif pick < 0.97:
            reps.append({"__typename": "Instance", "id": str(uuid.uuid4())})
        else:
            reps.append({"__typename": "File", "id": "not-a-uuid"})
    return reps


def expected(world: dict[str, Any], rep: dict[str, Any]) -> Any:
    """What the item should be, from the engine's own reads (None: not found)."""
    reads = world["reads"]
    t = rep["__typename"]
    if t == "Dataset":
        return {"__typename": t, "name": "filters"} if rep["id"] == str(world["ds"]) else None
    kind = {"Instance": "instance", "File": "file", "Label": "label"}[t]
    ref = rep.get("version") or "main"
    try:
        eid = uuid.UUID(rep["id"])
    except ValueError:
        return None
    row = reads[(kind, ref)].get(eid)
    if row is None:
        return None
    if t == "Instance":
        return {"__typename": t, "id": rep["id"], "version": ref, "score": row["score"]}
    if t == "File":
        return {"__typename": t, "id": rep["id"], "name": row["name"], "v": ref}
    return {"__typename": t, "id": rep["id"], "name": row["name"]}


def test_thousand_mixed_representations(engine: Engine, world: dict[str, Any]) -> None:
    reps = representations(world, 1000)
    with statements(engine) as seen:
        out = run(engine, ENTITIES, r=reps)
    items = out["data"]["_entities"]
    assert len(items) == 1000
    missing = []
    for n, (rep, item) in enumerate(zip(reps, items, strict=True)):
        want = expected(world, rep)
        if want is None:
            assert item is None, (rep, item)
            missing.append(n)
        else:
            assert {k: item[k] for k in want} == want, (rep, item)
    errors = out.get("errors", [])
    assert len(errors) == len(missing)
    assert {e["code"] for e in errors} == {"NOT_FOUND"}
    # One statement per (type, dataset, version) group, and a few for the whole request: where
    # the ids live, the dataset's access and refs, a tag, the datasets.
    groups = {
        (r["__typename"], r.get("version"))  # no version: the default branch, a group of its own
        for r in reps
        if r["__typename"] in {"Instance", "File", "Label"}
    }
    assert len(seen) <= len(groups) + 6, seen


def test_a_missing_key_is_null_with_an_error_at_its_position(
    engine: Engine, world: dict[str, Any]
) -> None:
    found = str(next(iter(world["reads"][("instance", "exp")])))
    reps = [
        {"__typename": "Instance", "id": str(uuid.uuid4())},
        {"__typename": "Instance", "id": found, "version": "exp"},
    ]
    out = run(engine, ENTITIES, r=reps)
    first, second = out["data"]["_entities"]
    assert first is None
    assert (second["id"], second["version"]) == (found, "exp")
    assert second["file"]["version"] == "exp"  # nested objects are read at the same version
    (error,) = out["errors"]
    assert error["code"] == "NOT_FOUND"


def test_odd_ids_are_missing_keys_named_as_given(engine: Engine) -> None:
    """Ids that cannot name anything are NOT_FOUND like missing ones, never a database error,
    and the message repeats the id as the caller sent it."""
    commit = uuid.uuid4().hex
    reps = [
        {"__typename": "Dataset", "id": "²"},
        {"__typename": "Branch", "id": "9" * 30},
        {"__typename": "Tag", "id": "-1"},
        {"__typename": "Commit", "id": commit},
    ]
    out = run(
        engine, "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }", r=reps
    )
    assert out["data"]["_entities"] == [None, None, None, None]
    assert [e["code"] for e in out["errors"]] == ["NOT_FOUND"] * 4
    assert f"no Commit with id {commit!r}" in [e["message"] for e in out["errors"]]


def test_team_reads_only_what_it_may(engine: Engine, world: dict[str, Any]) -> None:
    reads = world["reads"]
    main_only = str(next(iter(reads[("instance", "main")])))
    exp_only = str(
        next(i for i in reads[("instance", "exp")] if i not in reads[("instance", "main")])
    )
    reps = [
        {"__typename": "Instance", "id": main_only},
        {"__typename": "Instance", "id": main_only, "version": "exp"},  # branch not granted
        {"__typename": "Instance", "id": exp_only, "version": "exp"},
        {"__typename": "Label", "id": str(world["shared"])},  # in `other` too: not readable there
    ]
    out = run_as(engine, world["viewer"], ENTITIES, r=reps)
    items = out["data"]["_entities"]
    assert items[0]["id"] == main_only
    assert items[1] is None
    assert items[2] is None
    assert items[3]["id"] == str(world["shared"])  # its twin is in a dataset it cannot read
    assert [e["code"] for e in out["errors"]] == ["NOT_FOUND", "NOT_FOUND"]
    admin = run(engine, ENTITIES, r=reps[3:])  # an admin reads both: the id is ambiguous
    assert admin["data"]["_entities"] == [None]
    assert [e["code"] for e in admin["errors"]] == ["CONFLICT"]


@pytest.mark.anyio
async def test_entities_and_the_sdl_over_http(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    file_id = str(next(iter(world["reads"][("file", "main@1")])))
    reps = [
        {"__typename": "File", "id": file_id, "version": "main@1"},
        {"__typename": "Label", "id": str(uuid.uuid4())},
    ]
    response = await client.post("/graphql", json={"query": ENTITIES, "variables": {"r": reps}})
    body = orjson.loads(response.content)
    assert response.status_code == 200
    assert body["data"]["_entities"][0]["id"] == file_id
    assert body["data"]["_entities"][1] is None
    sdl = await client.post("/graphql", json={"query": "{ _service { sdl } }"})
    text_of = orjson.loads(sdl.content)["data"]["_service"]["sdl"]
    assert (
        'Instance implements Node @key(fields: "id version", resolvable: true) '
        '@key(fields: "id", resolvable: false)'
    ) in text_of
    assert '@link(url: "https://specs.apollo.dev/federation/v2' in text_of


def test_access_administration_stays_out_of_a_supergraph() -> None:
    """Teams, keys, grants and the audit trail are administered at trainingdb's own endpoint:
    a gateway must never mint keys for whoever reaches it. Nothing is @shareable by accident."""
    sdl = schema.as_str()
    hidden = set()
    for definition in parse(sdl).definitions:
        if not isinstance(definition, ObjectTypeDefinitionNode):
            continue
        nodes: list[ObjectTypeDefinitionNode | FieldDefinitionNode] = [definition]
        for node in [*nodes, *(definition.fields or ())]:
            if any(d.name.value == "inaccessible" for d in node.directives or ()):
                hidden.add(node.name.value)
    assert hidden == {
        "ApiKey", "AuditEvent", "Grant", "Member", "NewApiKey", "Team",  # types
        "createTeam", "addMember", "createApiKey", "revokeApiKey", "setGrant", "revokeGrant",
        "teams", "apiKeys", "grants", "auditLog",
    }  # fmt: skip
    assert "@shareable" not in sdl


CATALOG = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Commit { id version message }
    ... on Branch { id name }
    ... on Tag { id name version }
  }
}
"""


def test_commits_branches_and_tags_by_id(engine: Engine, world: dict[str, Any]) -> None:
    with engine.connect() as conn:
        log = v.log(conn, world["ds"], "exp")
        branches = {b.name: b.id for b in load_branches(conn, world["ds"]).values()}
        (tag,) = [t for t in v.list_tags(conn, world["ds"]) if t.name == "first"]
    main_commit = next(c for c in log if c.seq == 1)
    reps = [
        {"__typename": "Commit", "id": main_commit.id.hex},
        {"__typename": "Branch", "id": str(branches["exp"])},
        {"__typename": "Tag", "id": str(tag.id)},
        {"__typename": "Commit", "id": uuid.uuid4().hex},
        {"__typename": "Branch", "id": "x"},
    ]
    with statements(engine) as seen:
        out = run(engine, CATALOG, r=reps)
    items = out["data"]["_entities"]
    assert items[0] == {"id": main_commit.id.hex, "version": "main@1", "message": "load"}
    assert items[1] == {"id": str(branches["exp"]), "name": "exp"}
    assert items[2] == {"id": str(tag.id), "name": "first", "version": "main@1"}
    assert items[3:] == [None, None]
    assert [e["code"] for e in out["errors"]] == ["NOT_FOUND", "NOT_FOUND"]
    assert len(seen) <= 5  # one per type, and the dataset's access once

    viewer = run_as(engine, world["viewer"], CATALOG, r=reps[:3])["data"]["_entities"]
    assert viewer[0]["id"] == main_commit.id.hex  # main@1 is an ancestor of main
    assert viewer[1] is None  # exp is not granted
    assert viewer[2]["name"] == "first"  # the tag names a state of main


def test_a_prediction_names_its_model_run_for_the_models_subgraph(
    engine: Engine, world: dict[str, Any]
) -> None:
    document = """{ dataset(name: "filters") { instances(first: 500) {
        nodes { source modelRun { __typename id } } } } }"""
    nodes = run(engine, document)["data"]["dataset"]["instances"]["nodes"]
    runs = {(n["source"], None if n["modelRun"] is None else n["modelRun"]["id"]) for n in nodes}
    assert {r for s, r in runs if s == "model"} == {"r1", "r2"}
    assert {r for s, r in runs if s == "human"} == {None}
    assert all(n["modelRun"] is None or n["modelRun"]["__typename"] == "ModelRun" for n in nodes)
