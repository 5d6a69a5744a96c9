"""The committed SDL is the schema the code builds (regenerate with the command below)."""

from __future__ import annotations

from pathlib import Path

from trainingdb.graphql_schema import schema

SDL = Path(__file__).resolve().parent.parent / "graphql_schema" / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    printed = schema.as_str() + "\n"
    assert printed == SDL.read_text(), (
        "graphql_schema/schema.graphql is stale: run "
        "`python -m trainingdb.graphql_schema > graphql_schema/schema.graphql` and review the diff"
    )
