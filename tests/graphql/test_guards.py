"""Documents are parsed and validated once, then cached; depth, size and aliases are limited,
and every refusal carries a code."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import get_introspection_query
from sqlalchemy import Engine, create_engine
from strawberry.schema.schema import validate_document

from trainingdb.graphql_schema import guards
from trainingdb.graphql_schema.guards import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS

from .execute import run


def depth_of(document: str) -> int:
    deepest = level = 0
    for char in document:
        level += {"{": 1, "}": -1}.get(char, 0)
        deepest = max(deepest, level)
    return deepest - 1


NINE = (
    '{ dataset(name: "none") { instances { nodes { file { instances { file { instances { '
    "file { instances { id } } } } } } } } } }"
)
DEEPEST = NINE.replace("instances { id }", "instances { label { id } }")
TOO_DEEP = NINE.replace("instances { id }", "instances { file { instances { id } } }")


def test_documents_up_to_the_depth_limit_run(engine: Engine) -> None:
    assert depth_of(DEEPEST) == MAX_DEPTH  # levels of fields below the root field
    assert depth_of(TOO_DEEP) == MAX_DEPTH + 1
    (error,) = run(engine, DEEPEST)["errors"]
    assert error["code"] == "NOT_FOUND"  # it ran: the dataset does not exist


def run_plain(document: str) -> list[dict[str, str]]:
    """Errors of a document refused before any resolver runs (so no database is needed)."""
    out = run(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"), document)
    return list(out.get("errors", []))


@pytest.mark.parametrize(
    ("document", "code", "message"),
    [
        (
            TOO_DEEP,
            "GRAPHQL_VALIDATION_FAILED",
            f"exceeds maximum operation depth of {MAX_DEPTH}",
        ),
        (
            "{ " + " ".join(f"a{i}: datasets {{ name }}" for i in range(MAX_ALIASES + 1)) + " }",
            "GRAPHQL_VALIDATION_FAILED",
            f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}",
        ),
        (
            "{ " + "datasets { name } " * (MAX_TOKENS // 4) + "}",
            "GRAPHQL_PARSE_FAILED",
            f"Document contains more than {MAX_TOKENS} tokens",
        ),
        ("{ datasets { name ", "GRAPHQL_PARSE_FAILED", "Syntax Error"),
        ("{ datasets { nope } }", "GRAPHQL_VALIDATION_FAILED", "Cannot query field 'nope'"),
    ],
)
def test_refusals_are_coded_every_time(document: str, code: str, message: str) -> None:
    for _ in range(2):  # the second time through the caches
        (error,) = run_plain(document)
        assert error["code"] == code
        assert message in error["message"]


def test_introspection_passes_the_guards(engine: Engine) -> None:
    out = run(engine, get_introspection_query())
    assert "errors" not in out
    assert out["data"]["__schema"]["queryType"]["name"] == "Query"


def test_a_repeated_document_is_parsed_once(engine: Engine) -> None:
    cache: Any = guards.CachedParse(maxsize=guards.CACHED_DOCUMENTS).cached_parse_document
    document = "{ datasets { name description } }"
    run(engine, document)
    before = cache.cache_info()
    run(engine, document)
    after = cache.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)


def test_a_repeated_document_is_validated_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []

    def counting(*args: Any) -> Any:
        calls.append(args)
        return validate_document(*args)

    monkeypatch.setattr(guards, "validate_document", counting)
    document = "{ datasets { name createdAt } }  # validated once"
    for _ in range(3):
        assert "errors" not in run(engine, document)
    assert len(calls) == 1
