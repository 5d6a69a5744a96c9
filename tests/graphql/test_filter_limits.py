"""Hostile filters: every one ends as INVALID_FILTER naming what and where, never an internal
error, a RecursionError or unbounded work; and the limits of `filters/ast.py` hold exactly at
their boundary.

Each hostile case goes through the real schema twice — inline in the document and as a variable
(which no document-level limit bounds) — and the text language is also read directly, as export
jobs and the CLI read it. Values the request guard refuses first (a NUL character, an integer
wider than 64 bits in a JSON value) are also checked below the guard, in the filter layer.
"""

from __future__ import annotations

import ast as pyast
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from trainingdb.graphql_schema.filters.ast import (
    MAX_DEPTH,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    MAX_TREE_DEPTH,
    MAX_VALUES,
    And,
    Box,
    Compare,
    Filter,
    Inside,
    JsonTest,
    Not,
    Op,
    Related,
)
from trainingdb.graphql_schema.filters.compiler import compile_filter
from trainingdb.graphql_schema.filters.fields import FILES, INSTANCES, Target
from trainingdb.graphql_schema.filters.inputs import to_filter
from trainingdb.graphql_schema.filters.query_language import parse_query
from trainingdb.versioning.errors import InvalidFilterError
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import resolve

from .execute import run
from .world import build

# Codes a hostile value may end as when the request guard (graphql_schema/input_guard.py) sees it
# before the filter layer does: both are typed, neither is internal.
GUARDED = {"INVALID_FILTER", "BAD_USER_INPUT"}


def terms(n: int) -> str:
    return " or ".join(["score > 0"] * n)


def column_of_term(n: int) -> int:
    """The column where term n (from 1) of `terms` starts."""
    return (n - 1) * len("score > 0 or ") + 1


# (target, text, message): each names the column of the offending character.
HOSTILE_TEXT: list[tuple[Target, str, str]] = [
    (INSTANCES, "label = 'a\\u0000b'", "column 11: a string may not hold a NUL"),
    (INSTANCES, "label = 'a\\x00b'", "column 11: a string may not hold a NUL"),
    (INSTANCES, "label = 'a\\0'", "column 11: a string may not hold a NUL"),
    (INSTANCES, 'track_id = "\\ud800"', "column 13: a string may not hold a lone surrogate"),
    (INSTANCES, "author like 'x\\udfff%'", "column 15: a string may not hold a lone surrogate"),
    (INSTANCES, "label = '\\ud83d.'", "column 10: a string may not hold a lone surrogate (U+D83D)"),
    (
        INSTANCES,
        "label = '\\x4'",
        "column 10: malformed escape '\\\\x'; write \\xhh (two hex digits)",
    ),
    (INSTANCES, "label = '\\N{NO SUCH NAME}'", "column 10: '\\\\N{NO SUCH NAME}' names no"),
    (INSTANCES, "label = '\\U00110000'", "column 10: \\U00110000 is not a character"),
    (
        INSTANCES,
        "frame_number > 99999999999999999999999",
        "column 16: 99999999999999999999999 is out of range for frame_number, a 32-bit integer",
    ),
    (INSTANCES, "frame_number in (1, 2147483648)", "column 21: 2147483648 is out of range"),
    (INSTANCES, "text_start < -2147483649", "column 14: -2147483649 is out of range"),
    (INSTANCES, "score > 1e400", "column 9: score takes finite numbers, not inf"),
    (INSTANCES, "score > " + "9" * 400, "column 1: a number of 400 digits is out of range"),
    (INSTANCES, "x < -1e999 or y > 0", "column 5: x takes finite numbers"),
    (
        INSTANCES,
        "attributes.size > 99999999999999999999999",
        "column 19: 99999999999999999999999 is out of range for a JSON integer, a 64-bit",
    ),
    (INSTANCES, "attributes.conf = 1e400", "column 19: a JSON number takes finite numbers"),
    (INSTANCES, "attributes.conf in (1, -2e999)", "column 24: a JSON number takes finite"),
    (INSTANCES, "inside(0, 0, 1e400, 10)", "column 1: a coordinate takes finite numbers"),
    (INSTANCES, "not " * 1000 + "score > 0", f"column {4 * MAX_DEPTH + 1}: nested deeper than"),
    (
        INSTANCES,
        "(" * 1000 + "score > 0" + ")" * 1000,
        f"column {MAX_DEPTH + 1}: nested deeper than {MAX_DEPTH} levels",
    ),
    (
        INSTANCES,
        "score > 0 and not (" * 1000 + "x > 0" + ")" * 1000,
        "nested deeper than 32 levels",
    ),
    (INSTANCES, "attributes" + ".a" * 40 + " = 1", "column 1: the name has 41 parts; at most 32"),
    (
        INSTANCES,
        terms(5000),
        f"column {column_of_term(MAX_TERMS + 1)}: the query has 5000 terms; at most 256 are",
    ),
    (
        INSTANCES,
        "score in (" + ", ".join(["0.5"] * 2000) + ")",
        "column 1: the in-lists of the query hold 2000 values; at most 1024 are allowed",
    ),
    (
        FILES,
        "count instances(score > 0) >= 99999999999999999999",
        "column 1: 99999999999999999999 is out of range for a count",
    ),
    (FILES, "labels.car > 9223372036854775808", "out of range for a count"),
    (
        FILES,
        "any instances(any file(labels.car))",
        "column 24: instances(...) is a list inside another list relation",
    ),
    (FILES, "no instances(file.labels.car > 1)", "is a list inside another list relation"),
]

TEXT_IDS = [text[:40] for _, text, _ in HOSTILE_TEXT]


def field_of(target: Target) -> str:
    return "instances" if target is INSTANCES else "files"


def inline_query(target: Target, text: str) -> str:
    # JSON string syntax is GraphQL's: the text arrives exactly as written.
    field = field_of(target)
    return (
        f'{{ dataset(name: "filters") {{ {field}(query: {json.dumps(text)}) {{ totalCount }} }} }}'
    )


def variable_query(target: Target) -> str:
    field = field_of(target)
    return (
        f'query Q($q: String) {{ dataset(name: "filters") {{ {field}(query: $q) '
        "{ totalCount } } }"
    )


def error_of(out: dict[str, Any]) -> dict[str, Any]:
    assert out["data"] is None, out
    (error,) = out["errors"]
    assert isinstance(error, dict)
    return error


@pytest.fixture(scope="module")
def world(engine: Engine) -> int:
    with engine.begin() as conn:
        return build(conn)


# --- the text language, read directly (export jobs, the CLI) -------------------------------


@pytest.mark.parametrize(("target", "text", "message"), HOSTILE_TEXT, ids=TEXT_IDS)
def test_hostile_text_is_refused_where_it_is_wrong(target: Target, text: str, message: str) -> None:
    with pytest.raises(InvalidFilterError) as raised:
        parse_query(text, target)
    assert raised.value.code == "INVALID_FILTER"
    assert raised.value.message.startswith("query: line 1, column ")
    assert message in raised.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("label = 'a\x00b'", "column 11: a string may not hold a NUL (U+0000)"),
        ("label = '\ud800'", "column 10: a string may not hold a lone surrogate (U+D800)"),
        ("author = 'ok' or label = '\udc00'", "column 27: a string may not hold a lone surrogate"),
        ("score > 0 \x00", "column 11: unexpected character '\\x00'"),
        ("score > 0\nor label = 'a\x00'", "line 2, column 14: a string may not hold a NUL"),
    ],
)
def test_characters_no_column_holds_are_refused(text: str, message: str) -> None:
    """Written as the characters themselves, as a file or the CLI may hold them."""
    with pytest.raises(InvalidFilterError) as raised:
        parse_query(text, INSTANCES)
    assert message in raised.value.message


def test_the_text_length_limit_is_exact() -> None:
    padded = "score > 0" + " " * (MAX_QUERY_CHARS - len("score > 0"))
    assert parse_query(padded, INSTANCES) == Compare("score", Op.GT, 0)
    with pytest.raises(InvalidFilterError) as raised:
        parse_query(padded + " ", INSTANCES)
    assert raised.value.message == (
        f"query: line 1, column {MAX_QUERY_CHARS + 1}: the query is {MAX_QUERY_CHARS + 1} "
        f"characters long; at most {MAX_QUERY_CHARS} are allowed"
    )


def test_the_term_limit_is_exact() -> None:
    parsed = parse_query(terms(MAX_TERMS), INSTANCES)
    assert isinstance(parsed, type(parse_query("score > 0 or x > 0", INSTANCES)))
    with pytest.raises(InvalidFilterError) as raised:
        parse_query(terms(MAX_TERMS + 1), INSTANCES)
    assert raised.value.message == (
        f"query: line 1, column {column_of_term(MAX_TERMS + 1)}: the query has "
        f"{MAX_TERMS + 1} terms; at most {MAX_TERMS} are allowed"
    )


def test_relation_tests_count_as_terms() -> None:
    # One `any` and one comparison per repetition: 128 of them are 256 terms.
    text = " or ".join(["any instances(score > 0)"] * (MAX_TERMS // 2))
    parse_query(text, FILES)
    with pytest.raises(InvalidFilterError, match="has 257 terms"):
        parse_query(text + " or labels.car", FILES)


def test_the_value_limit_is_exact() -> None:
    values = ", ".join(["1"] * MAX_VALUES)
    assert parse_query(f"frame_number in ({values})", INSTANCES) == Compare(
        "frame_number", Op.IN, [1] * MAX_VALUES
    )
    with pytest.raises(InvalidFilterError, match=f"hold {MAX_VALUES + 1} values; at most"):
        parse_query(f"frame_number in ({values}) or frame_number not in (2)", INSTANCES)


def test_the_nesting_limit_is_exact() -> None:
    deepest = "not " * MAX_DEPTH + "score > 0"
    expected: Filter = Compare("score", Op.GT, 0)
    for _ in range(MAX_DEPTH):
        expected = Not(expected)
    assert parse_query(deepest, INSTANCES) == expected
    with pytest.raises(InvalidFilterError) as raised:
        parse_query("not " + deepest, INSTANCES)
    assert raised.value.message == (
        f"query: line 1, column {4 * MAX_DEPTH + 1}: nested deeper than {MAX_DEPTH} levels"
    )

    parenthesized = "(" * MAX_DEPTH + "score > 0" + ")" * MAX_DEPTH
    assert parse_query(parenthesized, INSTANCES) == Compare("score", Op.GT, 0)
    with pytest.raises(InvalidFilterError, match=f"column {MAX_DEPTH + 1}: nested deeper"):
        parse_query("(" + parenthesized + ")", INSTANCES)
    # Parentheses inside a string are characters, not nesting.
    assert parse_query("author = '" + "(" * 100 + "'", INSTANCES) == Compare(
        "author", Op.EQ, "(" * 100
    )


def test_relations_and_operators_nest_in_one_count() -> None:
    # `any instances(...)` is a level; `a or (b and ...)` adds two (the or, the and).
    # Each repetition nests an and and an or: `score > 0 and (x > 0 or score > 0 and (...))`.
    inner = "score > 0 and (x > 0 or " * 15 + "y > 0" + ")" * 15
    assert parse_query(f"not any instances({inner})", FILES)
    with pytest.raises(InvalidFilterError, match="nested deeper than 32 levels"):
        parse_query(f"not not any instances({inner})", FILES)


@pytest.mark.parametrize(
    "text",
    [
        "'a\\'b'",
        '"a\\"b"',
        "'tab\\there'",
        "'\\\\'",
        "'\\x41\\101\\u00e9\\U0001F600'",
        "'\\N{BULLET}'",
        "'\\a\\b\\f\\n\\r\\v'",
    ],
)
def test_escapes_mean_what_python_means(text: str) -> None:
    assert parse_query(f"author = {text}", INSTANCES) == Compare(
        "author", Op.EQ, pyast.literal_eval(text)
    )


def test_unknown_escapes_keep_their_backslash_for_like() -> None:
    assert parse_query("author like '100\\%'", INSTANCES) == Compare("author", Op.LIKE, "100\\%")
    assert parse_query("author = '\\ud83d\\ude00'", INSTANCES) == Compare("author", Op.EQ, "😀")


storable = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))


@settings(max_examples=300, deadline=None, database=None)
@given(value=storable)
def test_python_literals_read_back(value: str) -> None:
    """repr and ascii spell any storable string with Python's escapes; both read back."""
    for literal in (repr(value), ascii(value)):
        assert parse_query(f"author = {literal}", INSTANCES) == Compare("author", Op.EQ, value)


FRAGMENTS = [
    "not",
    "and",
    "or",
    "(",
    ")",
    ",",
    "score",
    "frame_number",
    "attributes.size",
    "labels.car",
    "label",
    "any instances(",
    "any file(",
    "count instances(",
    "inside(",
    ">",
    ">=",
    "=",
    "in",
    "is",
    "null",
    "like",
    "has",
    "1",
    "-0",
    "1e400",
    "99999999999999999999999",
    "2147483648",
    "'a'",
    "'\\u0000'",
    "'\\ud800'",
    "'\\x'",
    "'\x00'",
    "'\ud800'",
    "'",
    '"',
    "\\",
    "\x00",
]


@settings(max_examples=500, deadline=None, database=None)
@given(
    target=st.sampled_from((INSTANCES, FILES)),
    parts=st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=3), max_size=30),
)
def test_any_text_parses_or_is_an_invalid_filter(target: Target, parts: list[str]) -> None:
    text = " ".join(parts)
    message = None
    try:
        parse_query(text, target)
    except InvalidFilterError as error:  # anything else fails the test
        message = error.message
    assert message is None or message.startswith("query: line "), message


# --- the text language through the schema ---------------------------------------------------


@pytest.mark.parametrize("how", ["inline", "variable"])
@pytest.mark.parametrize(("target", "text", "message"), HOSTILE_TEXT, ids=TEXT_IDS)
def test_hostile_text_through_the_schema(
    world: int, engine: Engine, how: str, target: Target, text: str, message: str
) -> None:
    if how == "inline":
        out = run(engine, inline_query(target, text))
    else:
        out = run(engine, variable_query(target), q=text)
    error = error_of(out)
    assert error["code"] == "INVALID_FILTER", error
    assert message in error["message"]


@pytest.mark.parametrize(
    "text",
    ["label = 'a\x00b'", "label = '\ud800'", terms(20_000)],
    ids=["NUL", "surrogate", "260 KB"],
)
def test_what_the_request_guard_refuses_first_is_typed(
    world: int, engine: Engine, text: str
) -> None:
    """The request guard walks every variable first; either layer answers a typed error."""
    error = error_of(run(engine, variable_query(INSTANCES), q=text))
    assert error["code"] in GUARDED


def test_the_limits_hold_at_their_boundary_through_the_schema(world: int, engine: Engine) -> None:
    query = variable_query(INSTANCES)
    for ok in (terms(MAX_TERMS), "not " * MAX_DEPTH + "score > 0"):
        out = run(engine, query, q=ok)
        assert "errors" not in out, out
    for bad, message in (
        (terms(MAX_TERMS + 1), "the query has 257 terms; at most 256 are allowed"),
        ("not " * (MAX_DEPTH + 1) + "score > 0", "nested deeper than 32 levels"),
    ):
        assert message in error_of(run(engine, query, q=bad))["message"]


def test_the_deepest_text_runs(world: int, engine: Engine) -> None:
    """At the limit every reader down to SQLAlchemy's compiler and PostgreSQL still copes."""
    deepest = "score > 0 and not (" * 16 + "label = 'car'" + ")" * 16
    out = run(engine, variable_query(INSTANCES), q=deepest)
    assert "errors" not in out, out
    files = "not no instances(" + "x > 0 and (y > 0 or " * 15 + "file.width > 0" + ")" * 16
    out = run(engine, variable_query(FILES), q=files)
    assert "errors" not in out, out


# --- where: inputs through the schema --------------------------------------------------------


def literal(value: Any) -> str:
    """`value` as a GraphQL input literal."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return json.dumps(value)


def nested(key: str, depth: int, leaf: dict[str, Any], **beside: Any) -> dict[str, Any]:
    """`depth` levels of `{key: ...}` around `leaf`, with `beside` next to each key."""
    where = leaf
    for _ in range(depth):
        where = {**beside, key: [where] if key in ("_and", "_or") else where}
    return where


SCORE = {"score": {"_gt": 0}}

# (type, where, message)
HOSTILE_WHERE: list[tuple[str, dict[str, Any], str]] = [
    (
        "InstanceWhere",
        nested("_not", MAX_DEPTH + 1, SCORE),
        "instances.where" + "._not" * (MAX_DEPTH + 1) + ": nested deeper than 32 levels",
    ),
    (
        "FileWhere",
        {"instances": {"every": nested("_not", MAX_DEPTH, SCORE)}},
        "files.where.instances.every" + "._not" * MAX_DEPTH + ": nested deeper than 32 levels",
    ),
    (
        "InstanceWhere",
        {"_or": [SCORE] * (MAX_TERMS + 1)},
        "instances.where._or: 257 parts; at most 256 are allowed",
    ),
    (
        "InstanceWhere",
        {"_or": [SCORE] * MAX_TERMS, "x": {"_gt": 0}},
        # GraphQL orders the keys as the input type does: x comes first.
        "instances.where._or[255].score._gt: the filter has 257 terms; at most 256 are allowed",
    ),
    (
        "InstanceWhere",
        {"_or": [{"_and": [{}] * 50}] * 50},
        "instances.where._or[5]._and[6]: the filter has 2500 terms; at most 256 are allowed",
    ),
    (
        "InstanceWhere",
        {"score": {"_in": [0.5] * 2000}},
        "instances.where.score._in: the in-lists of the filter hold 2000 values; at most 1024",
    ),
    (
        "FileWhere",
        {"instances": {"some": {"file": {"instances": {"none": {}}}}}},
        "files.where.instances.some.file.instances: instances is a list inside another list",
    ),
    (
        "InstanceWhere",
        {"attributes": {"path": ["a"] * 40, "_eq": 1}},
        "instances.where.attributes.path: 40 keys; at most 32 are allowed",
    ),
]

WHERE_IDS = [message[-40:] for _, _, message in HOSTILE_WHERE]


def where_query(type_name: str, inline: dict[str, Any] | None = None) -> str:
    field = "instances" if type_name == "InstanceWhere" else "files"
    if inline is not None:
        return (
            f'{{ dataset(name: "filters") {{ {field}(where: {literal(inline)}) '
            "{ totalCount } } }"
        )
    return (
        f'query Q($w: {type_name}) {{ dataset(name: "filters") {{ {field}(where: $w) '
        "{ totalCount } } }"
    )


@pytest.mark.parametrize("how", ["inline", "variable"])
@pytest.mark.parametrize(("type_name", "where", "message"), HOSTILE_WHERE, ids=WHERE_IDS)
def test_hostile_where_through_the_schema(
    world: int, engine: Engine, how: str, type_name: str, where: dict[str, Any], message: str
) -> None:
    if how == "inline":
        out = run(engine, where_query(type_name, where))
    else:
        out = run(engine, where_query(type_name), w=where)
    error = error_of(out)
    assert error["code"] == "INVALID_FILTER", error
    assert message in error["message"]


def test_where_limits_hold_at_their_boundary(world: int, engine: Engine) -> None:
    query = where_query("InstanceWhere")
    for ok in (
        {"_or": [SCORE] * MAX_TERMS},
        nested("_not", MAX_DEPTH, SCORE),
        {"score": {"_in": [0.5] * MAX_VALUES}},
    ):
        out = run(engine, query, w=ok)
        assert "errors" not in out, out
    for bad in (
        {"_or": [SCORE] * MAX_TERMS, "x": {"_gt": 0}},
        nested("_not", MAX_DEPTH + 1, SCORE),
        {"score": {"_in": [0.5] * MAX_VALUES}, "x": {"_in": [1.0]}},
    ):
        assert error_of(run(engine, query, w=bad))["code"] == "INVALID_FILTER"


def test_the_deepest_where_runs(world: int, engine: Engine) -> None:
    """Each level of `{x, _not: {...}}` is two levels of the tree (an And around the keys):
    the compiler's own bound leaves room for the deepest input the reader accepts."""
    leaf = {"label": {"_eq": "car"}, "file": {"name": {"_like": "%"}}}
    deepest = nested("_not", MAX_DEPTH - 1, {"file": leaf["file"]}, x={"_gte": 0})
    out = run(engine, where_query("InstanceWhere"), w=deepest)
    assert "errors" not in out, out
    # instances, 30 levels of _not, file: 32.
    files = {"instances": {"some": nested("_not", MAX_DEPTH - 2, leaf, score={"_gt": 0})}}
    out = run(engine, where_query("FileWhere"), w=files)
    assert "errors" not in out, out


@pytest.mark.parametrize(
    "where",
    [
        {"attributes": {"_contains": {"n": 99999999999999999999999}}},
        {"attributes": {"path": ["n"], "_in": [1, 99999999999999999999999]}},
        {"attributes": {"_contains": {"a": "b\x00"}}},
        {"label": {"_eq": "a\x00b"}},
        {"trackId": {"_like": "\ud800%"}},
        {"frameNumber": {"_gt": 99999999999}},
        {"frameNumber": {"_gt": 1.5}},
    ],
    ids=["contains-23-digits", "in-23-digits", "contains-NUL", "NUL", "surrogate", "int", "float"],
)
def test_where_values_the_request_checks_first_are_typed(
    world: int, engine: Engine, where: dict[str, Any]
) -> None:
    """GraphQL's Int and the request guard see these first; the filter layer checks them again
    (below) for filters built anywhere else."""
    error = error_of(run(engine, where_query("InstanceWhere"), w=where))
    assert error["code"] in GUARDED | {"GRAPHQL_VALIDATION_FAILED"}, error


# --- below the guard: conversion and the compiler --------------------------------------------


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        (
            JsonTest("attributes", (), Op.CONTAINS, {"n": 99999999999999999999999}),
            "where.attributes._contains.n: 99999999999999999999999 is out of range for a JSON "
            "integer, a 64-bit integer",
        ),
        (
            JsonTest("attributes", (), Op.CONTAINS, {"n": [1.0, float("inf")]}),
            "where.attributes._contains.n[1]: a JSON number takes finite numbers, not inf",
        ),
        (
            JsonTest("attributes", ("n",), Op.IN, [1, float("nan")]),
            "where.attributes._in[1]: a JSON number takes finite numbers, not nan",
        ),
        (
            JsonTest("attributes", ("n",), Op.GT, 10**400),
            "where.attributes._gt: 100000000000... (401 digits) is out of range",
        ),
        (
            JsonTest("attributes", (), Op.CONTAINS, {"a\x00": 1}),
            "where.attributes._contains (a key): text may not hold a NUL",
        ),
        (
            JsonTest("attributes", ("a\ud800",), Op.IS_NULL, True),
            "where.attributes.path[0]: text may not hold a lone surrogate (U+D800)",
        ),
        (
            JsonTest("attributes", (), Op.CONTAINS, json.loads("[" * 40 + "]" * 40)),
            "nested deeper than 32 levels",
        ),
        (Compare("frame_number", Op.GT, 2**31), "where.frame_number._gt: 2147483648 is out of"),
        (Compare("frame_number", Op.IN, [1, -(2**31) - 1]), "where.frame_number._in[1]: "),
        (Compare("score", Op.LT, 10**400), "where.score._lt: 100000000000... (401 digits)"),
        (Compare("score", Op.LT, float("-inf")), "score takes finite numbers, not -inf"),
        (Compare("author", Op.EQ, "a\x00"), "where.author._eq: text may not hold a NUL"),
        (Compare("track_id", Op.LIKE, "\udc00"), "text may not hold a lone surrogate"),
        (Inside(Box(0, 0, float("inf"), 1)), "where.inside: a coordinate takes finite numbers"),
        (
            Related("file", Related("instances", And(()), count=(Op.GTE, 2**63))),
            "where.file.instances.count: 9223372036854775808 is out of range for a count",
        ),
    ],
)
def test_the_compiler_checks_every_value(
    world: int, engine: Engine, flt: Filter, message: str
) -> None:
    table = KINDS[INSTANCES.entity].table
    with engine.connect() as conn:
        version = resolve(conn, world, "main")
    with pytest.raises(InvalidFilterError) as raised:
        compile_filter(version, INSTANCES, flt, table)
    assert raised.value.code == "INVALID_FILTER"
    assert message in raised.value.message


def test_the_compiler_bounds_any_tree(world: int, engine: Engine) -> None:
    """A tree built anywhere else (not by the two readers) is bounded too, before recursing."""
    table = KINDS[INSTANCES.entity].table
    with engine.connect() as conn:
        version = resolve(conn, world, "main")
    flt: Filter = Compare("score", Op.GT, 0)
    for _ in range(MAX_TREE_DEPTH):
        flt = Not(And((Compare("x", Op.GT, 0), flt)))
    with pytest.raises(InvalidFilterError) as raised:
        compile_filter(version, INSTANCES, flt, table)
    assert raised.value.message == (
        "where" + "._not._and[1]" * (MAX_TREE_DEPTH // 2) + "._not: nested deeper than "
        f"{MAX_TREE_DEPTH} levels"
    )


def test_where_conversion_names_the_path() -> None:
    """to_filter, as every resolver calls it, with the coerced argument dicts."""
    # Through the schema the request guard refuses this first (a list and an object a level).
    with pytest.raises(InvalidFilterError) as raised:
        to_filter(INSTANCES, nested("_or", MAX_DEPTH + 1, SCORE, x={"_gt": 0}), "w")
    assert raised.value.message == f"w{'._or[0]' * MAX_DEPTH}._or: nested deeper than 32 levels"
    assert to_filter(INSTANCES, nested("_or", MAX_DEPTH, SCORE), "w")
    deep = nested("_not", MAX_DEPTH + 1, SCORE)
    with pytest.raises(InvalidFilterError) as raised:
        to_filter(INSTANCES, deep, "w")
    assert raised.value.message == f"w{'._not' * (MAX_DEPTH + 1)}: nested deeper than 32 levels"
    # An empty part tests nothing, but a list of them still costs: each counts as a term.
    assert to_filter(INSTANCES, {"_and": [{}] * MAX_TERMS}, "w") == And((And(()),) * MAX_TERMS)
    with pytest.raises(InvalidFilterError) as raised:
        to_filter(INSTANCES, {"_or": [{"_and": [{}] * MAX_TERMS}, {}]}, "w")
    assert raised.value.message == "w._or[1]: the filter has 257 terms; at most 256 are allowed"
