"""Every root query field and every mutation, found by introspection, called by a team with no
grant on the one dataset there is: each must answer NOT_FOUND or FORBIDDEN, or nothing at all.

A field added later without going through the policy fails here, because the walk finds it.
Arguments are made from their types (and, for names, the real dataset's); a required input
object gets its required fields the same way.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
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
from sqlalchemy import Engine

from tests.access.seed import seeded_dataset
from tests.graphql.execute import run_as
from trainingdb import versioning as v
from trainingdb.graphql_schema import schema
from trainingdb.graphql_schema.global_ids import global_id
from trainingdb.versioning import jobs
from trainingdb.versioning.access import identities
from trainingdb.versioning.access.principal import Principal
from trainingdb.versioning.models import JobKind
from trainingdb.versioning.refs import load_branches

GRAPHQL = schema._schema
DATASET = "secret-birds"


@pytest.fixture(scope="module")
def world(engine: Engine) -> dict[str, Any]:
    with engine.begin() as conn:
        made = seeded_dataset(conn, DATASET)
        ds, instance = made.dataset_id, made.instance
        v.create_branch(conn, ds, "side", "main")
        v.create_tag(conn, ds, "v1", "main")
        job = jobs.submit(conn, ds, JobKind.EXPORT, {"version": "main", "format": "jsonl"})
        team = identities.create_team(conn, "outsiders")
    return {
        "principal": Principal(team.id, team.name, None, None, False, "test"),
        "ids": {
            "job": str(job.id),
            "entity": str(instance),
            "dataset": str(ds),
            "node": global_id("Instance", instance, "main"),
        },
    }


def _value(name: str, kind: GraphQLInputType, ids: dict[str, str]) -> Any:
    """A plausible value of `kind` for an argument or input field called `name`."""
    if isinstance(kind, GraphQLNonNull):
        return _value(name, kind.of_type, ids)
    if isinstance(kind, GraphQLList):
        return [_value(name, kind.of_type, ids)]
    if isinstance(kind, GraphQLInputObjectType):
        return {
            field_name: _value(field_name, field.type, ids)
            for field_name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    assert isinstance(kind, GraphQLScalarType), kind
    if kind.name == "_Any":  # a federation representation: the dataset's instance
        return {"__typename": "Instance", "id": ids["entity"]}
    if kind.name == "ID" and ids.get("root") in {"node", "nodes"}:  # a Relay global id
        return ids["node"]
    if kind.name == "ID":
        return ids["job"] if name == "id" and ids.get("root") == "job" else ids["entity"]
    if kind.name == "String":
        return {"dataset": DATASET, "name": DATASET, "message": "m", "version": "main"}.get(
            name, "main" if name in {"branch", "source", "target", "from", "to"} else "x"
        )
    return {"Int": 1, "Float": 0.5, "Boolean": True}.get(kind.name, "x")


def _selection(kind: Any) -> str:
    named = get_named_type(kind)
    composite = GraphQLObjectType | GraphQLUnionType | GraphQLInterfaceType
    return " { __typename }" if isinstance(named, composite) else ""


def _calls() -> list[tuple[str, str]]:
    found = []
    for operation, root in (("query", GRAPHQL.query_type), ("mutation", GRAPHQL.mutation_type)):
        assert root is not None
        for name in root.fields:
            found.append((operation, name))
    return found


def _document(operation: str, name: str, ids: dict[str, str]) -> tuple[str, dict[str, Any]]:
    root = GRAPHQL.query_type if operation == "query" else GRAPHQL.mutation_type
    assert root is not None
    field = root.fields[name]
    args = {
        arg_name: arg
        for arg_name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) or (name == "dataset" and arg_name == "name")
    }
    declared = ", ".join(f"${a}: {arg.type}" for a, arg in args.items())
    passed = ", ".join(f"{a}: ${a}" for a in args)
    document = (
        f"{operation}{f'({declared})' if declared else ''} "
        f"{{ {name}{f'({passed})' if passed else ''}{_selection(field.type)} }}"
    )
    variables = {a: _value(a, arg.type, {**ids, "root": name}) for a, arg in args.items()}
    return document, variables


def test_the_walk_finds_every_root_field() -> None:
    names = {name for _, name in _calls()}
    assert {"datasets", "dataset", "job", "createDataset", "merge", "createInstances"} <= names
    assert len(names) >= 30


@pytest.mark.parametrize(("operation", "name"), _calls())
def test_no_grant_reads_and_changes_nothing(
    engine: Engine, world: dict[str, Any], operation: str, name: str
) -> None:
    if name == "_service":
        pytest.skip("the subgraph's SDL is the schema, as introspection is: not data")
    document, variables = _document(operation, name, world["ids"])
    out = run_as(engine, world["principal"], document, **variables)
    if "errors" in out:
        codes = {e["code"] for e in out["errors"]}
        assert codes <= {"NOT_FOUND", "FORBIDDEN"}, (document, variables, out)
    else:
        assert out["data"][name] in ([], None), (document, variables, out)
    with engine.connect() as conn:  # and nothing changed: the dataset and its refs are intact
        dataset = v.get_dataset(conn, DATASET)
        assert dataset.description == ""
        live = {b.name for b in load_branches(conn, dataset.id).values() if b.deleted_at is None}
        assert live == {"main", "side"}
