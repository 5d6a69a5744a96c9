"""Relay global object identification: every entity type's `nodeId` refetches the same object
through `node(id:)` (File and Instance at the version they were read at); `nodes(ids:)` keeps
request order in a bounded number of statements; what a team may not read is NOT_FOUND, as a
missing object is; an id this API never gave out is BAD_USER_INPUT at its position; PostgreSQL
computes the same global ids as Python."""

from __future__ import annotations

import asyncio
import base64
import random
import uuid
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, literal, select
from sqlalchemy.dialects.postgresql import UUID
from strawberry.relay import GlobalID

from trainingdb import versioning as v
from trainingdb.graphql_schema import Context, schema
from trainingdb.graphql_schema.global_ids import VERSIONED, global_id, sql_global_id
from trainingdb.graphql_schema.relay import MAX_NODES
from trainingdb.versioning import jobs
from trainingdb.versioning.access import grants, identities
from trainingdb.versioning.access.principal import LOCAL_ADMIN, Principal
from trainingdb.versioning.models import JobKind

from .execute import run, run_as, statements
from .world import build

LONG = "long/" + "x" * 150  # a branch whose global ids span several base64 lines in PostgreSQL

READ = """
query($commit: String!, $long: String!) {
  dataset(name: "filters") {
    nodeId id name
    branches { nodeId id name }
    tags { nodeId id name version }
    commits(version: "main") { nodeId id version message }
    labels { nodes { nodeId id name } }
    files(version: "first") { nodes { nodeId id name version } }
    longFiles: files(version: $long, first: 2) { nodes { nodeId id name version } }
    instances(version: $commit, first: 5) {
      nodes { nodeId id version score file { nodeId id version } }
    }
    jobs { nodeId id kind status }
  }
}"""
FIELDS = """
    __typename nodeId
    ... on Dataset { id name }
    ... on Branch { id name }
    ... on Tag { id name version }
    ... on Commit { id version message }
    ... on Label { id name }
    ... on File { id name version }
    ... on Instance { id version score file { nodeId id version } }
    ... on BatchJob { id kind status }
"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ {FIELDS} }} }}"
NODES = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {FIELDS} }} }}"


@pytest.fixture(scope="module")
def world(engine: Engine) -> dict[str, Any]:
    with engine.begin() as conn:
        ds = build(conn)
        v.create_tag(conn, ds, "first", "main@1")
        v.create_branch(conn, ds, LONG, "main")
        other = v.create_dataset(conn, "other").id
        (hidden,) = v.create(conn, other, "main", "label", [{"name": "hidden"}])
        job = jobs.submit(conn, ds, JobKind.EXPORT, {"version": "main", "format": "jsonl"})
        team = identities.create_team(conn, "viewers")
        grants.set_grant(conn, "viewers", "filters", "viewer", "main")
    with engine.connect() as conn:
        commit = next(c for c in v.log(conn, ds, "main") if c.seq == 1).id.hex
        reads = {
            (kind, ref): v.read(conn, ds, ref, kind)
            for kind in ("instance", "file", "label")
            for ref in ("main", "main@1", "exp", "first")
        }
    data = run(engine, READ, commit=commit, long=LONG)["data"]["dataset"]
    return {
        "ds": ds,
        "commit": commit,
        "data": data,
        "reads": reads,
        "job": job.id,
        "hidden": hidden,
        "viewer": Principal(team.id, team.name, None, None, False, "test"),
    }


def _objects(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every object the read returned, with its type name."""
    found = [("Dataset", {k: data[k] for k in ("nodeId", "id", "name")})]
    found += [("Branch", b) for b in data["branches"]]
    found += [("Tag", t) for t in data["tags"]]
    found += [("Commit", c) for c in data["commits"]]
    found += [("Label", x) for x in data["labels"]["nodes"]]
    found += [("File", f) for f in data["files"]["nodes"] + data["longFiles"]["nodes"]]
    found += [("Instance", i) for i in data["instances"]["nodes"]]
    found += [("File", i["file"]) for i in data["instances"]["nodes"]]
    found += [("BatchJob", j) for j in data["jobs"]]
    return found


def _gid(type_name: str, id: object, version: str | None = None) -> str:
    return str(GlobalID(type_name, str(id) if version is None else f"{id}@{version}"))


def test_every_node_type_round_trips(engine: Engine, world: dict[str, Any]) -> None:
    objects = _objects(world["data"])
    assert {t for t, _ in objects} == {
        "Dataset",
        "Branch",
        "Tag",
        "Commit",
        "Label",
        "File",
        "Instance",
        "BatchJob",
    }
    for type_name, item in objects:
        version = item["version"] if type_name in VERSIONED else None
        assert item["nodeId"] == _gid(type_name, item["id"], version), item
        out = run(engine, NODE, id=item["nodeId"])
        assert "errors" not in out, out
        got = out["data"]["node"]
        assert got["__typename"] == type_name
        assert {k: got[k] for k in item} == item


def test_files_and_instances_keep_the_version_they_were_read_at(world: Any) -> None:
    data = world["data"]
    assert {f["version"] for f in data["files"]["nodes"]} == {"first"}
    assert {f["version"] for f in data["longFiles"]["nodes"]} == {LONG}
    instances = data["instances"]["nodes"]
    assert instances
    assert {i["version"] for i in instances} == {world["commit"]}
    assert {i["file"]["version"] for i in instances} == {world["commit"]}
    for item in instances:
        rest = base64.b64decode(item["nodeId"]).decode()
        assert rest == f"Instance:{item['id']}@{world['commit']}"


def test_nodes_keep_request_order_with_mixed_types_and_duplicates(
    engine: Engine, world: dict[str, Any]
) -> None:
    objects = [item for _, item in _objects(world["data"])]
    rng = random.Random(3)
    picked = [rng.choice(objects) for _ in range(40)]
    picked += picked[:5]  # duplicates
    out = run(engine, NODES, ids=[item["nodeId"] for item in picked])
    assert "errors" not in out, out
    got = out["data"]["nodes"]
    assert [g["nodeId"] for g in got] == [item["nodeId"] for item in picked]
    for want, have in zip(picked, got, strict=True):
        assert {k: have[k] for k in want} == want


def test_fields_selected_on_the_interface_itself(engine: Engine, world: dict[str, Any]) -> None:
    file, label = world["data"]["files"]["nodes"][0], world["data"]["labels"]["nodes"][0]
    document = """query($ids: [ID!]!) {
      nodes(ids: $ids) { nodeId ... on Node { t: __typename } ... on File { name } }
    }"""
    got = run(engine, document, ids=[file["nodeId"], label["nodeId"]])["data"]["nodes"]
    assert got == [
        {"nodeId": file["nodeId"], "t": "File", "name": file["name"]},
        {"nodeId": label["nodeId"], "t": "Label"},
    ]


def _mixed_ids(world: dict[str, Any], n: int) -> list[str]:
    """`n` global ids like a client's: instances and files at several versions, labels, the
    commit, the dataset, the job, and a few that name nothing."""
    rng = random.Random(9)
    reads = world["reads"]
    found: list[str] = []
    for _ in range(n):
        pick = rng.random()
        if pick < 0.5:
            ref = rng.choice(("main", "main@1", "exp", "first", world["commit"]))
            pool = list(reads[("instance", "main@1")]) + list(reads[("instance", "exp")])
            found.append(_gid("Instance", rng.choice(pool), ref))
        elif pick < 0.7:
            ref = rng.choice(("main", "exp"))
            found.append(_gid("File", rng.choice(list(reads[("file", "main")])), ref))
        elif pick < 0.8:
            found.append(_gid("Label", rng.choice(list(reads[("label", "main")]))))
        elif pick < 0.85:
            found.append(_gid("Commit", world["commit"]))
        elif pick < 0.9:
            found.append(_gid("Dataset", world["ds"]))
        elif pick < 0.95:
            found.append(_gid("BatchJob", world["job"]))
        else:
            found.append(_gid("Instance", uuid.uuid4(), "main"))
    return found


def test_a_hundred_mixed_ids_cost_a_bounded_number_of_statements(
    engine: Engine, world: dict[str, Any]
) -> None:
    ids = _mixed_ids(world, 100)
    with statements(engine) as seen:
        out = run(engine, NODES, ids=ids)
    items = out["data"]["nodes"]
    assert [i is None for i in items].count(True) == len(out.get("errors", []))
    assert {e["code"] for e in out.get("errors", [])} <= {"NOT_FOUND"}
    for gid, item in zip(ids, items, strict=True):
        assert item is None or item["nodeId"] == gid
    # One statement per (type, version) group of shaped entities, whatever the number of ids;
    # and for the whole request: where the ids live, the dataset's access and its refs, the
    # tag and the commit id among the versions (a tag lookup each, the commit's state once),
    # the commit, the dataset, the job's dataset and the job: 10.
    groups = {
        (t, r.get("version")) for t, r in (_decoded(gid) for gid in ids) if t in VERSIONED
    } | {("Label", None)}
    assert len(seen) <= len(groups) + 10, seen


def _decoded(gid: str) -> tuple[str, dict[str, str]]:
    type_name, rest = base64.b64decode(gid).decode().split(":", 1)
    key, _, version = rest.partition("@")
    return type_name, {"id": key, **({"version": version} if version else {})}


def test_what_a_team_may_not_read_is_not_found_like_what_does_not_exist(
    engine: Engine, world: dict[str, Any]
) -> None:
    reads, data = world["reads"], world["data"]
    main_only = next(iter(reads[("instance", "main")]))
    exp_branch = next(b for b in data["branches"] if b["name"] == "exp")
    denied = [
        _gid("Instance", main_only, "exp"),  # branch exp is not granted
        exp_branch["nodeId"],
        _gid("Label", world["hidden"]),  # a dataset it has no grant on
        _gid("Dataset", world["ds"] + 1),
        _gid("BatchJob", world["job"]),  # another team's job
    ]
    missing = [_gid("Instance", uuid.uuid4(), "main"), _gid("Commit", uuid.uuid4().hex)]
    readable = _gid("Instance", main_only, "main")
    out = run_as(engine, world["viewer"], NODES, ids=[readable, *denied, *missing])
    items = out["data"]["nodes"]
    assert items[0]["id"] == str(main_only)
    assert items[1:] == [None] * (len(denied) + len(missing))
    assert [e["code"] for e in out["errors"]] == ["NOT_FOUND"] * (len(denied) + len(missing))
    for gid, error in zip([*denied, *missing], out["errors"], strict=True):
        assert error["message"] == f"no node with id {gid!r}"
    single = run_as(engine, world["viewer"], NODE, id=denied[0])
    assert single["data"]["node"] is None
    assert [e["code"] for e in single["errors"]] == ["NOT_FOUND"]


GARBAGE = [
    "not base64!",
    base64.b64encode(b"no colon").decode(),
    _gid("Frame", uuid.UUID(int=1)),
    _gid("Node", 1),
    _gid("Dataset", "abc"),
    _gid("Dataset", "1" * 19),
    _gid("Commit", "xyz"),
    _gid("File", uuid.UUID(int=2)),  # no version
    _gid("Instance", uuid.UUID(int=3), ""),
    _gid("Label", uuid.UUID(int=4), "main"),
    _gid("File", "not-a-uuid", "main"),
    base64.b64encode(b"\xff\xfe:1").decode(),
]


@pytest.mark.parametrize("garbage", GARBAGE)
def test_an_id_never_given_out_is_bad_user_input(engine: Engine, garbage: str) -> None:
    out = run(engine, NODE, id=garbage)
    assert out["data"]["node"] is None
    (error,) = out["errors"]
    assert error["code"] == "BAD_USER_INPUT"
    assert error["message"] == f"node.id: {garbage!r} is not a node id (a `nodeId` value)"


def _errors(engine: Engine, document: str, **variables: Any) -> tuple[Any, list[Any]]:
    """Data and (path, code) of each error, as graphql-core reports them."""

    async def call() -> Any:
        context = Context.for_request(engine, LOCAL_ADMIN)
        return await schema.execute(document, variable_values=variables, context_value=context)

    result = asyncio.run(call())
    errors = [(e.path, (e.extensions or {}).get("code")) for e in result.errors or ()]
    return result.data, errors


def test_bad_ids_in_nodes_are_errors_at_their_positions(
    engine: Engine, world: dict[str, Any]
) -> None:
    good = world["data"]["files"]["nodes"][0]["nodeId"]
    ids = [good, GARBAGE[0], good, GARBAGE[7], _gid("File", uuid.uuid4(), "main")]
    data, errors = _errors(engine, "query($ids: [ID!]!) { nodes(ids: $ids) { nodeId } }", ids=ids)
    items = orjson.loads(orjson.dumps(data))["nodes"]
    assert [None if i is None else i["nodeId"] for i in items] == [good, None, good, None, None]
    assert sorted(errors, key=str) == [
        (["nodes", 1], "BAD_USER_INPUT"),
        (["nodes", 3], "BAD_USER_INPUT"),
        (["nodes", 4], "NOT_FOUND"),
    ]
    out = run(engine, NODES, ids=[good, GARBAGE[0]])
    assert "nodes.ids[1]" in out["errors"][0]["message"]


def test_more_than_the_limit_is_refused(engine: Engine, world: dict[str, Any]) -> None:
    good = world["data"]["files"]["nodes"][0]["nodeId"]
    out = run(engine, NODES, ids=[good] * (MAX_NODES + 1))
    assert out["data"] is None
    assert [e["code"] for e in out["errors"]] == ["BAD_USER_INPUT"]
    assert len(run(engine, NODES, ids=[good] * MAX_NODES)["data"]["nodes"]) == MAX_NODES


def test_a_malformed_version_fails_its_own_items_only(
    engine: Engine, world: dict[str, Any]
) -> None:
    """The path `nodes` shares with `_entities`: a version that does not parse is an error for
    the items read at it, not for the whole list (`nodes` refuses an empty version earlier)."""
    file_id = world["data"]["files"]["nodes"][0]["id"]
    reps = [
        {"__typename": "File", "id": file_id, "version": ""},
        {"__typename": "File", "id": file_id, "version": "first"},
    ]
    document = "query($r: [_Any!]!) { _entities(representations: $r) { ... on File { id } } }"
    out = run(engine, document, r=reps)
    assert out["data"]["_entities"] == [None, {"id": file_id}]
    assert [e["code"] for e in out["errors"]] == ["BAD_USER_INPUT"]


# Text PostgreSQL can hold: no NUL, no lone surrogates (they have no UTF-8 encoding).
VERSIONS = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))


@settings(max_examples=60, deadline=None)
@given(version=VERSIONS, eid=st.uuids())
@example(version="é@🦆/" * 60, eid=uuid.UUID(int=0))  # several of PostgreSQL's 76-char lines
def test_postgresql_computes_python_s_global_ids(
    engine: Engine, version: str, eid: uuid.UUID
) -> None:
    column = literal(eid, UUID(as_uuid=True))
    with engine.connect() as conn:
        versioned, plain = conn.execute(
            select(sql_global_id("File", column, version), sql_global_id("Label", column, None))
        ).one()
    assert orjson.loads(versioned) == global_id("File", eid, version)
    assert orjson.loads(plain) == global_id("Label", eid)


@pytest.mark.anyio
async def test_nodes_over_http(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    item = world["data"]["instances"]["nodes"][0]
    commit = world["data"]["commits"][0]
    body = {"query": NODES, "variables": {"ids": [item["nodeId"], commit["nodeId"]]}}
    response = await client.post("/graphql", json=body)
    got = orjson.loads(response.content)["data"]["nodes"]
    assert [g["__typename"] for g in got] == ["Instance", "Commit"]
    assert got[0]["id"] == item["id"]
    assert got[1]["id"] == commit["id"]
