"""The text filter language: each construct parses to its tree, and errors point at the column."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainingdb.graphql_schema.filters.ast import (
    And,
    Box,
    Compare,
    Filter,
    Inside,
    JsonTest,
    Not,
    Op,
    Or,
    Quantifier,
    Related,
)
from trainingdb.graphql_schema.filters.fields import FILES, FRAMES, INSTANCES, Target
from trainingdb.graphql_schema.filters.query_language import parse_query
from trainingdb.versioning.errors import InvalidFilterError


def car(op: Op = Op.EQ, name: str = "car") -> Related:
    return Related("label", Compare("name", op, name))


CASES: list[tuple[Target, str, Filter]] = [
    (INSTANCES, "score > 0.8", Compare("score", Op.GT, 0.8)),
    (INSTANCES, "score >= 1", Compare("score", Op.GTE, 1)),
    (INSTANCES, "x == -1.5e-3", Compare("x", Op.EQ, -0.0015)),
    (INSTANCES, "kind != 'box'", Compare("kind", Op.NEQ, "box")),
    (INSTANCES, "frameNumber < 3", Compare("frame_number", Op.LT, 3)),
    (INSTANCES, "frame_number <= 3", Compare("frame_number", Op.LTE, 3)),
    (INSTANCES, "kind in ('box', \"polygon\")", Compare("kind", Op.IN, ["box", "polygon"])),
    (INSTANCES, "frame_number not in (1, 2)", Compare("frame_number", Op.NIN, [1, 2])),
    (INSTANCES, "modelRun is null", Compare("model_run", Op.IS_NULL, True)),
    (INSTANCES, "model_run IS NOT NULL", Compare("model_run", Op.IS_NULL, False)),
    (INSTANCES, "track_id like 't%'", Compare("track_id", Op.LIKE, "t%")),
    (INSTANCES, "author ILIKE 'A\\'b%'", Compare("author", Op.ILIKE, "A'b%")),
    (INSTANCES, "label = 'car'", car()),
    (INSTANCES, "label != 'car'", car(Op.NEQ)),
    (INSTANCES, "label.name = 'car'", car()),
    (INSTANCES, "label in ('car')", Related("label", Compare("name", Op.IN, ["car"]))),
    (
        INSTANCES,
        "attributes.occluded = true",
        JsonTest("attributes", ("occluded",), Op.EQ, True),
    ),
    (
        INSTANCES,
        "attributes.size.px > 3",
        JsonTest("attributes", ("size", "px"), Op.GT, 3),
    ),
    (INSTANCES, "attributes has 'tags'", JsonTest("attributes", (), Op.HAS_KEY, "tags")),
    (INSTANCES, "attributes.conf is null", JsonTest("attributes", ("conf",), Op.IS_NULL, True)),
    (
        INSTANCES,
        "file.metadata.sensor = 'A'",
        Related("file", JsonTest("metadata", ("sensor",), Op.EQ, "A")),
    ),
    (INSTANCES, "file.name like 'img/%'", Related("file", Compare("name", Op.LIKE, "img/%"))),
    (INSTANCES, "any file(width > 100)", Related("file", Compare("width", Op.GT, 100))),
    (INSTANCES, "inside(0, 0, 640, 360.5)", Inside(Box(0, 0, 640, 360.5))),
    (FILES, "labels.car >= 3", Related("instances", car(), count=(Op.GTE, 3))),
    (FILES, "labels.car", Related("instances", car())),
    (
        FILES,
        'labels."traffic light" > 0',
        Related("instances", car(name="traffic light"), count=(Op.GT, 0)),
    ),
    (FILES, "file.metadata.sensor = 'A'", JsonTest("metadata", ("sensor",), Op.EQ, "A")),
    (FILES, "metadata has 'sensor'", JsonTest("metadata", (), Op.HAS_KEY, "sensor")),
    (
        FILES,
        "count instances(label = 'car' and score > 0.8) >= 3",
        Related("instances", And((car(), Compare("score", Op.GT, 0.8))), count=(Op.GTE, 3)),
    ),
    (FILES, "any instances(score > 1)", Related("instances", Compare("score", Op.GT, 1))),
    (
        FILES,
        "no instances(score > 1)",
        Related("instances", Compare("score", Op.GT, 1), Quantifier.NONE),
    ),
    (
        FILES,
        "EVERY instances(score > 1)",
        Related("instances", Compare("score", Op.GT, 1), Quantifier.EVERY),
    ),
    (
        FRAMES,
        "labels.car >= 2 and frame_number > 100",
        And(
            (
                Related("instances", car(), count=(Op.GTE, 2)),
                Compare("frame_number", Op.GT, 100),
            )
        ),
    ),
    (
        INSTANCES,
        "score > 1 or x < 2 and not y = 3 or w = 4",
        Or(
            (
                Compare("score", Op.GT, 1),
                And((Compare("x", Op.LT, 2), Not(Compare("y", Op.EQ, 3)))),
                Compare("w", Op.EQ, 4),
            )
        ),
    ),
    (
        INSTANCES,
        "(score > 1 or x < 2) AND y = 3 and w = 4",
        And(
            (
                Or((Compare("score", Op.GT, 1), Compare("x", Op.LT, 2))),
                Compare("y", Op.EQ, 3),
                Compare("w", Op.EQ, 4),
            )
        ),
    ),
    (INSTANCES, "   ", And(())),
]


@pytest.mark.parametrize(("target", "text", "expected"), CASES, ids=[c[1] for c in CASES])
def test_constructs_parse_to_their_trees(target: Target, text: str, expected: Filter) -> None:
    assert parse_query(text, target) == expected


ERRORS = [
    (INSTANCES, "score >> 3", "line 1, column 8: unexpected '>'; expected a value"),
    (INSTANCES, "scor > 3", "line 1, column 1: instances have no field 'scor'"),
    (INSTANCES, "(score > 3", "line 1, column 11: the query ends too early; expected ')'"),
    (INSTANCES, "score > 1 and\n  kind = ", "line 2, column 10: the query ends too early"),
    (INSTANCES, "score 3", "column 7: unexpected '3'; expected an operator"),
    (INSTANCES, "score > 3 @", "column 11: unexpected character '@'"),
    (INSTANCES, "labels.car >= 3", "instances have no labels list; use label = 'name'"),
    (INSTANCES, "score = null", "null compares only with 'is null'"),
    (FILES, "inside(0, 0, 1, 1)", "files have no geometry"),
    (INSTANCES, "count file(score > 1) > 2", "count applies to lists; file is one entity"),
    (INSTANCES, "no file(score > 1)", "file is one entity: use any file"),
    (FILES, "labels.car >= 1.5", "compare labels.NAME with a whole number"),
    (INSTANCES, "attributes = 3", "compare a path inside attributes"),
    (INSTANCES, "score has 'x'", "has applies to JSON fields"),
    (INSTANCES, "file.nme = 'a'", "files have no field 'nme'"),
    (FILES, "instances.score > 1", "instances is a list; use any/no/every instances"),
    (FILES, "any instances(scor > 1)", "column 15: instances have no field 'scor'"),
]


@pytest.mark.parametrize(("target", "text", "message"), ERRORS, ids=[e[1] for e in ERRORS])
def test_errors_say_what_and_where(target: Target, text: str, message: str) -> None:
    with pytest.raises(InvalidFilterError) as raised:
        parse_query(text, target)
    assert raised.value.code == "INVALID_FILTER"
    assert raised.value.message.startswith("query: line ")
    assert message in raised.value.message


# --- round trip: print random trees, parse them back ---------------------------------------

FLOAT_FIELDS = ("score", "x", "area")
TEXT_FIELDS = ("author", "track_id", "model_run")
names = st.sampled_from(("car", "person", "traffic light", "o'brien"))
texts = st.text(alphabet="abc xyz'\"%_\\", max_size=6)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _quote(value) if isinstance(value, str) else repr(value)


_SYMBOL = {Op.EQ: "=", Op.NEQ: "!=", Op.GT: ">", Op.GTE: ">=", Op.LT: "<", Op.LTE: "<="}


def show(flt: Filter) -> str:
    match flt:
        case And(parts):
            return "(" + " and ".join(show(p) for p in parts) + ")"
        case Or(parts):
            return "(" + " or ".join(show(p) for p in parts) + ")"
        case Not(part):
            return f"not {show(part)}"
        case Related("label", Compare("name", op, value)):
            return f"label {_SYMBOL[op]} {_quote(value)}"
        case Compare(field, Op.IS_NULL, value):
            return f"{field} is {'null' if value else 'not null'}"
        case Compare(field, Op.IN | Op.NIN as op, values):
            word = "in" if op is Op.IN else "not in"
            return f"{field} {word} ({', '.join(_literal(v) for v in values)})"
        case Compare(field, Op.LIKE | Op.ILIKE as op, value):
            return f"{field} {op.value.lstrip('_')} {_quote(value)}"
        case Compare(field, op, value):
            return f"{field} {_SYMBOL[op]} {_literal(value)}"
    raise AssertionError(flt)


leaves = st.one_of(
    st.builds(
        Compare,
        st.sampled_from(FLOAT_FIELDS),
        st.sampled_from(tuple(_SYMBOL)),
        st.floats(-1e6, 1e6, allow_nan=False),
    ),
    st.builds(Compare, st.sampled_from(TEXT_FIELDS), st.sampled_from((Op.LIKE, Op.ILIKE)), texts),
    st.builds(
        Compare,
        st.sampled_from(FLOAT_FIELDS),
        st.sampled_from((Op.IN, Op.NIN)),
        st.lists(st.integers(-5, 5), min_size=1, max_size=3),
    ),
    st.builds(Compare, st.sampled_from(TEXT_FIELDS), st.just(Op.IS_NULL), st.booleans()),
    st.builds(lambda op, n: car(op, n), st.sampled_from((Op.EQ, Op.NEQ)), names),
)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda ps: And(tuple(ps)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda ps: Or(tuple(ps)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(Not, inner),
    ),
    max_leaves=8,
)


def flatten(flt: Filter) -> Filter:
    """The tree the parser builds: nested And-in-And and Or-in-Or merged."""
    match flt:
        case And(parts) | Or(parts):
            kind = type(flt)
            flat: list[Filter] = []
            for part in map(flatten, parts):
                flat += list(part.parts) if isinstance(part, kind) else [part]
            return kind(tuple(flat))
        case Not(part):
            return Not(flatten(part))
    return flt


@settings(max_examples=200, deadline=None, database=None)
@given(tree=trees)
def test_printed_trees_parse_back(tree: Filter) -> None:
    assert parse_query(show(tree), INSTANCES) == flatten(tree)
