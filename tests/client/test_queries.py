"""Every GraphQL document of the client (client/queries.py) parses and validates against the
committed schema, uses each fragment it defines, and is the only place documents live."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    parse,
    validate,
)

from trainingdb.client import queries

ROOT = Path(__file__).resolve().parents[2]
SDL = ROOT / "graphql_schema" / "schema.graphql"
# The SDL links Apollo Federation; these definitions are what a federation-aware builder adds.
FEDERATION = """
directive @link(url: String!, import: [String!]) repeatable on SCHEMA
directive @key(fields: String!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION
  | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
"""

DOCUMENTS = {
    name: value
    for name, value in vars(queries).items()
    if name.isupper() and not name.startswith("_") and isinstance(value, str)
}


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(SDL.read_text() + FEDERATION)


def test_the_client_has_its_documents() -> None:
    assert {"FILES", "INSTANCES", "DIFF", "COMMITS", "JOB", "CREATE_INSTANCES"} <= set(DOCUMENTS)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_validates_against_the_committed_schema(schema: GraphQLSchema, name: str) -> None:
    document = parse(DOCUMENTS[name])
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1, f"{name}: one operation a document"
    # NoUnusedFragments is among the rules: a fragment pasted in must be used.
    assert [str(error) for error in validate(schema, document)] == []


def test_validation_would_catch_a_stale_field(schema: GraphQLSchema) -> None:
    stale = DOCUMENTS["FILES"].replace("blobSha256", "sha256")
    assert any("sha256" in error.message for error in validate(schema, parse(stale)))


def graphql_strings(path: Path) -> list[str]:
    """String constants of `path` that parse as a GraphQL document with an operation."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                definitions = parse(node.value).definitions
            except GraphQLError:
                continue
            if any(isinstance(d, OperationDefinitionNode) for d in definitions):
                found.append(node.value)
    return found


def test_no_other_client_module_holds_a_document() -> None:
    modules = sorted((ROOT / "client").glob("*.py"))
    assert len(modules) > 5
    holders = {path.name: graphql_strings(path) for path in modules if path.name != "queries.py"}
    assert {name: docs for name, docs in holders.items() if docs} == {}
    assert graphql_strings(ROOT / "client" / "queries.py")  # the check does see documents
