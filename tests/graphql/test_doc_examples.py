"""Every GraphQL example in the docs validates against the schema, so the docs cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from trainingdb.graphql_schema import schema

ROOT = Path(__file__).resolve().parents[2]


def subgraph_text(path: Path) -> str:
    """The document without README's "Federation" section: its examples are the models team's
    SDL and a supergraph query, which tests/federation runs through a real gateway."""
    text = path.read_text()
    if path.name == "README.md":
        before, _, rest = text.partition("\n## Federation\n")
        text = before + ("\n## " + rest.split("\n## ", 1)[1] if rest else "")
    return text


EXAMPLES = [
    pytest.param(block, id=f"{path.name}#{i}")
    for path in sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
    for i, block in enumerate(re.findall(r"```graphql\n(.*?)```", subgraph_text(path), re.S))
]


def test_the_docs_have_examples() -> None:
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("document", EXAMPLES)
def test_example_is_valid(document: str) -> None:
    assert validate(schema._schema, parse(document)) == []
