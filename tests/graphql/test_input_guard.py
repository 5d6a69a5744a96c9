"""The one input check (versioning/inputs.py, applied to every request by input_guard.py): what
it refuses, and that each refusal names the variable or argument and the position inside it.
The schema walk (test_hostile_input.py) checks that no position is missed; this checks the
words, the limits at their boundaries, and the column limits of checks.py behind them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from tests.versioning.test_bad_input import snapshot
from trainingdb import versioning as v
from trainingdb.versioning.checks import COORDINATE_LIMIT, INT32_MAX
from trainingdb.versioning.inputs import (
    INT64_MAX,
    MAX_DEPTH,
    MAX_STRING,
    problem,
    row_id,
)
from trainingdb.versioning.models import Blob

from .execute import run

SHA = "6" * 64
_names = itertools.count()


@pytest.fixture
def dataset(engine: Engine) -> str:
    name = f"guard{next(_names)}"
    with engine.begin() as conn:
        made = v.create_dataset(conn, name)
        conn.execute(
            insert(Blob).values(
                dataset_id=made.id, sha256=SHA, size=1, mime="image/jpeg", storage_key=SHA
            )
        )
        v.create(conn, made.id, "main", "label", [{"name": "car"}])
    return name


def refused(engine: Engine, document: str, **variables: Any) -> str:
    """The message of the one BAD_USER_INPUT error of `document`, which changed nothing."""
    with engine.connect() as conn:
        before = snapshot(conn)
    out = run(engine, document, **variables)
    with engine.connect() as conn:
        assert snapshot(conn) == before
    assert len(out["errors"]) == 1, out["errors"]
    (error,) = out["errors"]
    assert error["code"] == "BAD_USER_INPUT", error
    message: str = error["message"]
    return message


CREATE_LABEL = """mutation($ds: String!, $label: LabelInput!) {
  createLabel(dataset: $ds, branch: "main", label: $label) { id } }"""
CREATE_INSTANCES = """mutation($ds: String!, $instances: [InstanceInput!]!) {
  createInstances(dataset: $ds, branch: "main", instances: $instances) { id } }"""


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("a\x00b", "contains a NUL character at offset 1"),
        ("ab\ud800", "contains a lone surrogate (U+D800) at offset 2, which is not a character"),
        (
            "x" * (MAX_STRING + 1),
            f"is {MAX_STRING + 1:,} characters long; at most {MAX_STRING:,} are allowed",
        ),
    ],
)
def test_a_bad_string_in_a_variable_is_named_with_its_position(
    engine: Engine, dataset: str, value: str, words: str
) -> None:
    label = {"name": "bus", "attributeSchema": {"properties": {"k": {"enum": ["ok", value]}}}}
    message = refused(engine, CREATE_LABEL, ds=dataset, label=label)
    assert message.startswith(f"variable $label.attributeSchema.properties.k.enum[1] {words}")


def test_json_numbers_must_fit_64_bits_and_be_finite(engine: Engine, dataset: str) -> None:
    for number, words in [
        (INT64_MAX + 1, "is 19 digits long; integers must fit in 64 bits"),
        (10**22, "is 23 digits long; integers must fit in 64 bits"),
        (float("inf"), "is inf; numbers must be finite"),
    ]:
        label = {"name": "bus", "attributeSchema": {"maximum": number}}
        message = refused(engine, CREATE_LABEL, ds=dataset, label=label)
        assert message == f"variable $label.attributeSchema.maximum {words}"
    # The largest integer that fits is stored as it is.
    label = {"name": "bus", "attributeSchema": {"maximum": INT64_MAX}}
    assert "errors" not in run(engine, CREATE_LABEL, ds=dataset, label=label)


def test_keys_and_odd_keys_are_named(engine: Engine, dataset: str) -> None:
    label = {"name": "bus", "attributeSchema": {"a\x00": 1}}
    message = refused(engine, CREATE_LABEL, ds=dataset, label=label)
    assert (
        message
        == "variable $label.attributeSchema has a key that contains a NUL character at offset 1"
    )
    label = {"name": "bus", "attributeSchema": {"two words": "\x00"}}
    message = refused(engine, CREATE_LABEL, ds=dataset, label=label)
    assert message.startswith("variable $label.attributeSchema['two words'] contains a NUL")


def test_nesting_is_bounded_without_recursion(engine: Engine, dataset: str) -> None:
    deep: Any = 1
    for _ in range(100_000):  # far past any stack: the walk is iterative
        deep = [deep]
    assert problem(deep) == ("[0]" * MAX_DEPTH, f"is nested more than {MAX_DEPTH} levels deep")
    fits: Any = 1
    for _ in range(MAX_DEPTH - 2):
        fits = {"k": fits}
    label = {"name": "bus", "attributeSchema": {"k": fits}}  # MAX_DEPTH - 1 levels below $label
    assert "errors" not in run(engine, CREATE_LABEL, ds=dataset, label=label)
    label = {"name": "bus2", "attributeSchema": {"k": {"k": fits}}}
    assert "nested more than" in refused(engine, CREATE_LABEL, ds=dataset, label=label)


def test_literals_are_named_by_argument_field_and_position(engine: Engine, dataset: str) -> None:
    document = (
        f'mutation {{ createLabel(dataset: "{dataset}", branch: "main", '
        'label: {name: "bus", attributeSchema: {enum: [1, "a\\u0000b"]}}) { id } }'
    )
    message = refused(engine, document)
    assert message == (
        "argument label.attributeSchema.enum[1] of field createLabel contains a NUL character "
        "at offset 1"
    )
    document = f'{{ dataset(name: "{dataset}") {{ instances(where: {{attributes: {{_contains: '
    document += "{n: 100000000000000000000000}}}) { nodes { id } } } }"
    message = refused(engine, document)
    assert message == (
        "argument where.attributes._contains.n of field instances is 24 digits long; integers "
        "must fit in 64 bits"
    )


def test_a_bad_value_anywhere_in_a_query_is_refused_before_it_runs(engine: Engine) -> None:
    message = refused(engine, "query($n: String!) { dataset(name: $n) { id } }", n="a\x00")
    assert message == "variable $n contains a NUL character at offset 1"


def test_column_limits_name_the_record_and_field(engine: Engine, dataset: str) -> None:
    message = refused(engine, CREATE_LABEL, ds=dataset, label={"name": "x" * 201})
    assert message.endswith("name is 201 characters long; at most 200 are allowed")
    assert "errors" not in run(engine, CREATE_LABEL, ds=dataset, label={"name": "x" * 200})
    files = run(
        engine,
        'mutation($ds: String!) { createFile(dataset: $ds, branch: "main", file: {name: "a.jpg", '
        f'blobSha256: "{SHA}", mediaType: "image", width: 9, height: 9}}) {{ id }} }}',
        ds=dataset,
    )
    file_id = files["data"]["createFile"]["id"]
    labels = run(engine, f'{{ dataset(name: "{dataset}") {{ labels {{ nodes {{ id }} }} }} }}')
    label_id = labels["data"]["dataset"]["labels"]["nodes"][0]["id"]
    base = {"fileId": file_id, "labelId": label_id, "kind": "box", "x": 1, "y": 1, "w": 2, "h": 2}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"trackId": "t" * 201}, "track_id is 201 characters long; at most 200 are allowed"),
        ({"w": 1e308, "h": 1e308}, f"w must be within ±{COORDINATE_LIMIT:g} pixels, not 1e+308"),
        ({"x": -2e9}, f"x must be within ±{COORDINATE_LIMIT:g} pixels, not -2000000000.0"),
    ]
    for change, words in cases:
        message = refused(engine, CREATE_INSTANCES, ds=dataset, instances=[{**base, **change}])
        assert words in message, message
    assert INT32_MAX == 2**31 - 1


def test_ids_are_ascii_digits_in_bigint_range() -> None:
    assert row_id("42") == 42
    assert row_id(str(INT64_MAX)) == INT64_MAX
    for bad in (str(INT64_MAX + 1), "9" * 23, "²", "٣", "-1", "", " 1"):
        assert row_id(bad) is None, bad


@pytest.mark.parametrize("document", ["{ dataset(id: $id) { id } }", "{ job(id: $id) { id } }"])
def test_ids_past_bigint_are_bad_input(engine: Engine, document: str) -> None:
    out = run(engine, "query($id: ID!) " + document, id="9" * 23)
    (error,) = out["errors"]
    assert error["code"] == "BAD_USER_INPUT", error
    assert "is not a" in error["message"]


def test_a_key_lifetime_is_bounded(engine: Engine) -> None:
    out = run(engine, "mutation { createApiKey(admin: true, expiresInHours: 2147483647) { key } }")
    (error,) = out["errors"]
    assert error["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("a key's lifetime must be at most 100 years")
