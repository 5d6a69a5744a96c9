"""Hostile input, found by walking the schema: every argument of every field (of Query, Mutation
and the object types below them), recursively through input objects and lists, gets one
poisoned value at a time — a NUL, a lone surrogate, a string one past
the request-wide limit (`MAX_STRING`; longer ones take the same path), 1e308 for a Float, 2**31-1
for an Int, a 23-digit integer or a NUL inside a JSON value — with valid values everywhere
else, through the real HTTP app over a seeded dataset (so lookups reach the database).

Every answer must be a success or a typed error (`extensions.code`, never
INTERNAL_SERVER_ERROR), and never a 5xx. A field added later is walked without a change here.
Variables carry the poisons (as a JSON body would); a second pass writes one poison per
position inline, as a GraphQL literal, since literals reach the resolvers another way.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    Undefined,
    get_named_type,
)
from sqlalchemy import Engine, insert

from tests.access.seed import seeded_dataset
from trainingdb import versioning as v
from trainingdb.graphql_schema import schema
from trainingdb.graphql_schema.global_ids import global_id
from trainingdb.versioning import jobs
from trainingdb.versioning.access import identities, keys
from trainingdb.versioning.inputs import MAX_STRING
from trainingdb.versioning.models import Blob, JobKind

pytestmark = pytest.mark.anyio

GRAPHQL = schema._schema
DATASET = "hostile"
TEAM, MEMBER = "crew", "ann"
SHA = "a" * 64
VIDEO_SHA = "b" * 64
LONG = "x" * (MAX_STRING + 1)

# How to reach each object type whose fields take arguments: `{}` is where the field goes.
REACH = {
    "Query": "{}",
    "Mutation": "{}",
    "Dataset": f'dataset(name: "{DATASET}") {{ {{}} }}',
    "File": f'dataset(name: "{DATASET}") {{ files(first: 3) {{ nodes {{ {{}} }} }} }}',
    "Frame": f'dataset(name: "{DATASET}") {{ frames(first: 3) {{ nodes {{ {{}} }} }} }}',
    "InstanceStats": f'dataset(name: "{DATASET}") {{ instanceStats {{ {{}} }} }}',
}

# Poisons by the scalar they replace. JSON positions get scalars (for `_eq: JSON`) and objects.
STRING_POISONS: dict[str, Any] = {
    "NUL": "a\x00b",
    "lone surrogate": "a\ud800b",
    "past MAX_STRING": LONG,
    # Past every column's own limit (names are 200, file names 1,024), under the request-wide one.
    "1,025 characters": "x" * 1025,
}
ID_POISONS: dict[str, Any] = {**STRING_POISONS, "23 digits": "9" * 23}
JSON_POISONS: dict[str, Any] = {
    "NUL": {"k": "a\x00b"},
    "NUL key": {"a\x00b": 1},
    "lone surrogate": {"k": "a\ud800b"},
    "past MAX_STRING": {"k": LONG},
    "23 digits": {"k": 10**22},
    "NUL scalar": "a\x00b",
    "23 digits scalar": 10**22,
}
POISONS: dict[str, dict[str, Any]] = {
    "String": STRING_POISONS,
    "ID": ID_POISONS,
    "Int": {"2**31-1": 2**31 - 1},
    "Float": {"1e308": 1e308},
    "JSON": JSON_POISONS,
    "_Any": JSON_POISONS,
}
# The one poison per position of the literal pass.
LITERAL_POISON = {
    "String": "NUL",
    "ID": "NUL",
    "Int": "2**31-1",
    "Float": "1e308",
    "JSON": "23 digits",
    "_Any": "23 digits",
}

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class World:
    dataset: int
    label: uuid.UUID
    file: uuid.UUID
    video: uuid.UUID
    instance: uuid.UUID
    job: int
    prefix: str


@pytest.fixture(scope="module")
def world(engine: Engine) -> World:
    with engine.begin() as conn:
        made = seeded_dataset(conn, DATASET, SHA)
        ds = made.dataset_id
        conn.execute(
            insert(Blob).values(
                dataset_id=ds, sha256=VIDEO_SHA, size=1, mime="video/mp4", storage_key="b"
            )
        )
        (video,) = v.create(
            conn,
            ds,
            "main",
            "file",
            [
                {
                    "name": "clip.mp4",
                    "blob_sha256": VIDEO_SHA,
                    "media_type": "video",
                    "fps": 25.0,
                    "frame_count": 10,
                    "width": 64,
                    "height": 48,
                    "metadata": {"k": 1},
                }
            ],
        )
        v.create(
            conn,
            ds,
            "main",
            "instance",
            [
                {
                    "file_entity_id": video,
                    "label_entity_id": made.label,
                    "kind": "box",
                    "frame_number": n,
                    "x": 1.0,
                    "y": 1.0,
                    "w": 2.0,
                    "h": 2.0,
                    "score": 0.5,
                    "track_id": "t1",
                    "attributes": {"k": n},
                }
                for n in range(3)
            ],
        )
        v.commit(conn, ds, "main", "video", "test")
        v.create_branch(conn, ds, "side", "main")
        v.create_tag(conn, ds, "v1", "main")
        job = jobs.submit(conn, ds, JobKind.EXPORT, {"version": "main", "format": "jsonl"})
        identities.create_team(conn, TEAM)
        identities.add_member(conn, TEAM, MEMBER)
        key = keys.create_key(conn, team=TEAM)
    return World(ds, made.label, made.file, video, made.instance, job.id, key.row.prefix)


_unique = itertools.count()

# Valid strings by (argument's field or input type, name), then by name alone.
_STRINGS: dict[tuple[str, str], str | Callable[[], str]] = {
    ("dataset", "name"): DATASET,
    ("updateDataset", "name"): DATASET,
    ("deleteDataset", "name"): "no-such-dataset",
    ("deleteBranch", "name"): "side",
    ("protectBranch", "name"): "side",
    ("deleteTag", "name"): "v1",
    ("InstanceInput", "source"): "human",
    ("InstancePatch", "source"): "human",
    ("StringComparison", "_like"): "x%",
    ("StringComparison", "_ilike"): "x%",
    ("ChoiceComparison", "_eq"): "box",
    ("ChoiceComparison", "_neq"): "box",
    ("ChoiceComparison", "_in"): "box",
    ("ChoiceComparison", "_nin"): "box",
}
_CREATED = {"createDataset", "createBranch", "createTag", "createTeam", "addMember"}
_BY_NAME = {
    "dataset": DATASET,
    "branch": "main",
    "from": "main",
    "to": "main",
    "source": "side",
    "target": "main",
    "version": "main",
    "a": "main",
    "b": "side",
    "message": "m",
    "author": "tester",
    "description": "d",
    "format": "jsonl",
    "query": "score >= 0",
    "role": "viewer",
    "refs": "*",
    "team": TEAM,
    "member": MEMBER,
    "email": "ann@example.com",
    "mergeRole": "editor",
    "kind": "box",
    "label": "car",
    "blobSha256": SHA,
    "mediaType": "image",
    "color": "#aabbcc",
    "field": "score",
    "trackId": "t2",
    "path": "k",
    "_has_key": "k",
    "defaultBranch": "main",
}
_INTS = {"first": 3, "from": 0, "to": 5, "frameNumber": 0, "textStart": 0, "textEnd": 1}
_FLOATS = {"x": 1.0, "y": 1.0, "w": 2.0, "h": 2.0, "x1": 100.0, "y1": 100.0, "score": 0.5}


def _string(owner: str, name: str) -> str:
    found = _STRINGS.get((owner, name))
    if (
        found is None
        and name in {"name", "newName"}
        and (owner in _CREATED or owner in {"LabelInput", "FileInput", "updateDataset"})
    ):
        found = lambda: f"n{next(_unique)}"  # noqa: E731 (a fresh name each time)
    if found is None:
        found = _BY_NAME.get(name, "x")
    return found() if callable(found) else found


def _id(world: World, owner: str, name: str) -> Any:
    if owner == "job":
        return str(world.job)
    if owner in {"node", "nodes"}:
        return global_id("Instance", world.instance, "main")
    if owner == "dataset":
        return str(world.dataset)
    if owner == "auditLog":
        return "1"
    if name in {"fileId", "file"} or owner in {"FilePatch", "deleteFiles"}:
        return str(world.video if owner in {"frames", "byFrame"} else world.file)
    if name == "labelId" or owner in {"LabelPatch", "deleteLabels"}:
        return str(world.label)
    return str(world.instance)


def valid(world: World, owner: str, name: str, kind: GraphQLInputType) -> Any:
    """A valid value of `kind` for the argument or input field `name` of `owner`: required
    input fields only, unless `_BASES` asks for more."""
    if isinstance(kind, GraphQLNonNull):
        return valid(world, owner, name, kind.of_type)
    if isinstance(kind, GraphQLList):
        return [valid(world, owner, name, kind.of_type)]
    if isinstance(kind, GraphQLInputObjectType):
        value = {
            field_name: valid(world, kind.name, field_name, field.type)
            for field_name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
        extra = _BASES.get(kind.name, {})
        return {**value, **(extra(world) if callable(extra) else extra)}
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    assert isinstance(kind, GraphQLScalarType), kind
    match kind.name:
        case "String":
            return _string(owner, name)
        case "ID":
            return _id(world, owner, name)
        case "Int":
            return _INTS.get(name, 1)
        case "Float":
            return _FLOATS.get(name, 0.5)
        case "Boolean":
            return False
        case "_Any":
            return {"__typename": "Instance", "id": str(world.instance), "version": "main"}
        case "JSON":
            return {"_contains": {"k": 1}}.get(name, {"_in": [1], "_nin": [1]}.get(name, 1))
    raise AssertionError(kind.name)


# Optional fields an input needs to do something (a box has geometry; a JSON test a path).
_BASES: dict[str, dict[str, Any] | Callable[[World], dict[str, Any]]] = {
    "InstanceInput": {"label": "car", "x": 1.0, "y": 1.0, "w": 2.0, "h": 2.0},
    "JsonComparison": {"path": ["k"], "_is_null": False},
    "CountComparison": {"_gte": 1},
}
# Fields that must go when another is poisoned (one way to name a label; one count comparison).
_EXCLUSIVE = {
    ("InstanceInput", "labelId"): {"label"},
    ("InstancePatch", "labelId"): {"label"},
    **{("CountComparison", op): {"_gte"} for op in ("_eq", "_neq", "_gt", "_lt", "_lte")},
}


def positions(kind: GraphQLInputType) -> list[tuple[Path, str]]:
    """Every scalar position under `kind`: (path, scalar name). An input type is not entered
    again below itself, and a step pair (input type, field, then the field's own field) is
    walked once: `where.file.name._eq` and `where.instances.some.file.name._eq` are one
    position, `where.name._eq` and `where.trackId._eq` two."""
    found: list[tuple[Path, str]] = []
    walked: set[tuple[str, ...]] = set()

    def walk(kind: GraphQLInputType, path: Path, steps: tuple[str, ...]) -> None:
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        if isinstance(kind, GraphQLList):
            walk(kind.of_type, (*path, 0), steps)
        elif isinstance(kind, GraphQLInputObjectType):
            if kind.name in steps[::2]:
                return
            for name, field in kind.fields.items():
                walk(field.type, (*path, name), (*steps, kind.name, name))
        elif isinstance(kind, GraphQLScalarType) and kind.name != "Boolean":
            key = steps[-4:]
            if key not in walked:
                walked.add(key)
                found.append((path, kind.name))

    walk(kind, (), ())
    return found


def poisoned(
    world: World, owner: str, name: str, kind: GraphQLInputType, path: Path, poison: Any
) -> Any:
    """A valid value of `kind` with `poison` at `path` (inside it)."""
    if not path:
        return poison
    if isinstance(kind, GraphQLNonNull):
        return poisoned(world, owner, name, kind.of_type, path, poison)
    if isinstance(kind, GraphQLList):
        return [poisoned(world, owner, name, kind.of_type, path[1:], poison)]
    assert isinstance(kind, GraphQLInputObjectType), kind
    step = path[0]
    assert isinstance(step, str)
    value = valid(world, owner, name, kind)
    for gone in _EXCLUSIVE.get((kind.name, step), ()):
        value.pop(gone, None)
    field = kind.fields[step]
    value[step] = poisoned(world, kind.name, step, field.type, path[1:], poison)
    return value


def selection(kind: Any) -> str:
    """Leaf fields of `kind`'s named type (those with no required argument), or __typename."""
    named = get_named_type(kind)
    if isinstance(named, GraphQLUnionType):
        return " { __typename }"
    if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        return ""
    leaves = [
        name
        for name, field in named.fields.items()
        if not isinstance(get_named_type(field.type), GraphQLObjectType | GraphQLInterfaceType)
        and not isinstance(get_named_type(field.type), GraphQLUnionType)
        and all(not isinstance(a.type, GraphQLNonNull) for a in field.args.values())
    ]
    return " { " + " ".join(leaves or ["__typename"]) + " }"


def fields_with_arguments() -> list[tuple[str, str, GraphQLField]]:
    found = []
    for type_name, kind in GRAPHQL.type_map.items():
        if type_name.startswith("__") or not isinstance(kind, GraphQLObjectType):
            continue
        if kind is GRAPHQL.subscription_type:
            continue  # WebSocket only; the same extension checks it
        for name, field in kind.fields.items():
            if field.args:
                found.append((type_name, name, field))
    return found


def literal(kind: GraphQLInputType, value: Any) -> str:
    """`value` as a GraphQL literal of `kind`."""
    if isinstance(kind, GraphQLNonNull):
        return literal(kind.of_type, value)
    if value is None:
        return "null"
    if isinstance(kind, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return "[" + ", ".join(literal(kind.of_type, item) for item in items) + "]"
    if isinstance(kind, GraphQLInputObjectType):
        return (
            "{"
            + ", ".join(f"{k}: {literal(kind.fields[k].type, item)}" for k, item in value.items())
            + "}"
        )
    if isinstance(kind, GraphQLEnumType):
        return str(value)
    return _json_literal(value)


def _json_literal(value: Any) -> str:
    if isinstance(value, dict):
        # JSON object keys that are not GraphQL names cannot be written as literals.
        return "{" + ", ".join(f"{k}: {_json_literal(item)}" for k, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_json_literal(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


@dataclass
class Walk:
    client: httpx.AsyncClient
    world: World
    requests: int = 0
    positions: int = 0
    fields: int = 0

    def __post_init__(self) -> None:
        self.failures: list[str] = []

    async def send(self, label: str, document: str, variables: dict[str, Any]) -> None:
        # Not httpx's json=: it would refuse to encode a lone surrogate, which a hostile client
        # sends escaped (json.dumps does, as "\ud800").
        body = json.dumps({"query": document, "variables": variables}).encode()
        response = await self.client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        self.requests += 1
        if response.status_code >= 500:
            self.failures.append(f"{label}: HTTP {response.status_code}")
            return
        try:
            answer = response.json()
        except ValueError:
            self.failures.append(f"{label}: HTTP {response.status_code}, not JSON")
            return
        for error in answer.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            if code is None or code == "INTERNAL_SERVER_ERROR":
                self.failures.append(f"{label}: {code}: {error.get('message', '')[:200]}")
                return

    async def field(self, type_name: str, name: str, field: GraphQLField, inline: bool) -> None:
        operation = "mutation" if type_name == "Mutation" else "query"
        self.fields += 1
        for arg_name, arg in field.args.items():
            for path, scalar in positions(arg.type):
                self.positions += 1
                poisons = POISONS[scalar]
                chosen = [LITERAL_POISON[scalar]] if inline else list(poisons)
                for poison_name in chosen:
                    poison = poisons[poison_name]
                    value = poisoned(self.world, name, arg_name, arg.type, path, poison)
                    if inline and _unwritable(value):
                        continue
                    args = {arg_name: value}
                    for other, other_arg in field.args.items():
                        required = isinstance(other_arg.type, GraphQLNonNull)
                        if other != arg_name and required and other_arg.default_value is Undefined:
                            args[other] = valid(self.world, name, other, other_arg.type)
                    where = ".".join(str(p) for p in (arg_name, *path))
                    label = f"{type_name}.{name}({where} = {poison_name})"
                    document = self._document(operation, type_name, name, field, args, inline)
                    await self.send(label, *document)

    def _document(
        self,
        operation: str,
        type_name: str,
        name: str,
        field: GraphQLField,
        args: dict[str, Any],
        inline: bool,
    ) -> tuple[str, dict[str, Any]]:
        if inline:
            passed = ", ".join(f"{a}: {literal(field.args[a].type, x)}" for a, x in args.items())
            declared, variables = "", {}
        else:
            passed = ", ".join(f"{a}: ${a}" for a in args)
            declared = "(" + ", ".join(f"${a}: {field.args[a].type}" for a in args) + ")"
            variables = args
        call = f"{name}({passed}){selection(field.type)}"
        return f"{operation}{declared} {{ {REACH[type_name].replace('{}', call)} }}", variables


def _unwritable(value: Any) -> bool:
    """Whether `value` holds a JSON object key that a GraphQL literal cannot spell."""
    if isinstance(value, dict):
        return any(not k.isidentifier() or _unwritable(x) for k, x in value.items())
    if isinstance(value, list):
        return any(_unwritable(x) for x in value)
    return False


def test_every_object_type_with_arguments_is_reached() -> None:
    types = {type_name for type_name, _, _ in fields_with_arguments()}
    assert types <= set(REACH), types - set(REACH)
    assert len(fields_with_arguments()) >= 56


async def test_no_argument_position_takes_the_server_down(
    client: httpx.AsyncClient, world: World
) -> None:
    start = time.monotonic()
    walk = Walk(client, world)
    for type_name, name, field in fields_with_arguments():
        await walk.field(type_name, name, field, inline=False)
    by_variables = walk.requests
    for type_name, name, field in fields_with_arguments():
        await walk.field(type_name, name, field, inline=True)
    print(
        f"\nhostile input: {walk.fields // 2} fields with arguments, "
        f"{walk.positions // 2} argument positions, {by_variables} requests by variables, "
        f"{walk.requests - by_variables} inline, {len(walk.failures)} failures, "
        f"{time.monotonic() - start:.1f} s"
    )
    assert not walk.failures, "\n".join(walk.failures[:60])
