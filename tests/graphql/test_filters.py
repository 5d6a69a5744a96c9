"""The filter compiler against a plain-Python evaluation of the same filters on the same data.

hypothesis draws filter trees over instances and files (every operator, JSON paths, relations
both ways with each quantifier and counts, geometry, boolean structure); each is compiled to SQL
and run at three versions — main's head, an old commit of main, and a branch with its own edits
— and must select exactly the entities the reference evaluation selects.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, select

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
from trainingdb.graphql_schema.filters.compiler import compile_filter
from trainingdb.graphql_schema.filters.fields import FILES, INSTANCES, Target
from trainingdb.versioning.errors import InvalidFilterError
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import Version, resolve
from trainingdb.versioning.visibility import visible

from .reference import State, matching
from .world import LABELS, REFS, SENSORS, WORDS, build, state

EXAMPLES = int(os.environ.get("TRAININGDB_HYPOTHESIS_EXAMPLES", "400"))


@pytest.fixture(scope="module")
def world(engine: Engine) -> tuple[int, dict[str, Version], dict[str, State]]:
    with engine.begin() as conn:
        dataset = build(conn)
    with engine.connect() as conn:
        versions = {ref: resolve(conn, dataset, ref) for ref in REFS}
        states = {ref: state(conn, dataset, ref) for ref in REFS}
    return dataset, versions, states


def selected(conn: Connection, version: Version, target: Target, flt: Filter) -> set[uuid.UUID]:
    table = KINDS[target.entity].table
    query = select(table.c.entity_id).where(
        visible(table, version), compile_filter(version, target, flt, table)
    )
    return set(conn.scalars(query))


# --- strategies -------------------------------------------------------------------------------

floats = st.sampled_from((0.0, 0.25, 0.5, 0.75, 1.0, 2.5, 10.0, 40.0, 400.0))
ints = st.integers(-1, 25)
words = st.sampled_from(WORDS)
patterns = st.sampled_from(("%", "img%", "%1%", "_", "vid/_", "IMG%", "%a"))


def _ordering(field: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Filter]:
    return st.one_of(
        st.builds(
            Compare,
            st.just(field),
            st.sampled_from((Op.EQ, Op.NEQ, Op.GT, Op.GTE, Op.LT, Op.LTE)),
            values,
        ),
        st.builds(
            Compare, st.just(field), st.sampled_from((Op.IN, Op.NIN)), st.lists(values, max_size=3)
        ),
        st.builds(Compare, st.just(field), st.just(Op.IS_NULL), st.booleans()),
    )


def _text(field: str) -> st.SearchStrategy[Filter]:
    return st.one_of(
        _ordering(field, words),
        st.builds(Compare, st.just(field), st.sampled_from((Op.LIKE, Op.ILIKE)), patterns),
    )


def _choice(field: str, values: tuple[str, ...]) -> st.SearchStrategy[Filter]:
    return st.one_of(
        st.builds(
            Compare, st.just(field), st.sampled_from((Op.EQ, Op.NEQ)), st.sampled_from(values)
        ),
        st.builds(
            Compare,
            st.just(field),
            st.sampled_from((Op.IN, Op.NIN)),
            st.lists(st.sampled_from(values), max_size=3),
        ),
    )


json_values = st.one_of(
    st.sampled_from((1, 2.5, 10, 0)), st.sampled_from((*SENSORS, "high", "x")), st.booleans()
)


def _json(field: str, paths: tuple[tuple[str, ...], ...]) -> st.SearchStrategy[Filter]:
    path = st.sampled_from(paths)
    return st.one_of(
        st.builds(
            JsonTest,
            st.just(field),
            st.just(()),
            st.just(Op.HAS_KEY),
            st.sampled_from(tuple(p[0] for p in paths)),
        ),
        st.builds(
            JsonTest,
            st.just(field),
            st.just(()),
            st.just(Op.CONTAINS),
            st.dictionaries(
                st.sampled_from(tuple(p[0] for p in paths if len(p) == 1)), json_values, max_size=1
            ),
        ),
        st.builds(JsonTest, st.just(field), path, st.just(Op.IS_NULL), st.booleans()),
        st.builds(JsonTest, st.just(field), path, st.sampled_from((Op.EQ, Op.NEQ)), json_values),
        st.builds(
            JsonTest,
            st.just(field),
            path,
            st.sampled_from((Op.GT, Op.LTE)),
            st.sampled_from((1, 2.5, 50)),
        ),
        st.builds(
            JsonTest,
            st.just(field),
            path,
            st.just(Op.IN),
            st.lists(st.sampled_from(SENSORS), min_size=1, max_size=2),
        ),
    )


label_names = st.builds(
    lambda op, name: Related("label", Compare("name", op, name)),
    st.sampled_from((Op.EQ, Op.NEQ)),
    st.sampled_from((*LABELS, "bike")),
)

file_leaf = st.one_of(
    _text("name"),
    _text("author"),
    _ordering("width", st.sampled_from((10, 640, 1280, 700))),
    _choice("media_type", ("image", "video")),
    _json("metadata", (("sensor",), ("night",), ("exposure",), ("camera", "id"), ("tags",))),
)

instance_leaf = st.one_of(
    _ordering("score", floats),
    _ordering("area", floats),
    _ordering("x", floats),
    _ordering("frame_number", ints),
    _choice("kind", ("box", "polygon", "point", "classification")),
    _choice("source", ("human", "model")),
    _text("track_id"),
    _text("model_run"),
    _text("author"),
    _json("attributes", (("occluded",), ("conf",), ("tags",), ("size", "px"))),
    label_names,
    st.builds(
        Inside,
        st.builds(
            Box, floats, floats, st.sampled_from((50.0, 100.0)), st.sampled_from((50.0, 120.0))
        ),
    ),
)


def _tree(leaf: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda ps: And(tuple(ps)), st.lists(inner, max_size=3)),
            st.builds(lambda ps: Or(tuple(ps)), st.lists(inner, max_size=3)),
            st.builds(Not, inner),
        ),
        max_leaves=5,
    )


counts = st.tuples(st.sampled_from((Op.EQ, Op.GTE, Op.LT, Op.NEQ)), st.integers(0, 4))
instance_filters = st.recursive(
    _tree(instance_leaf),
    lambda inner: st.one_of(
        st.builds(Related, st.just("file"), _tree(file_leaf)),
        st.builds(Related, st.just("file"), _tree(file_leaf), st.just(Quantifier.NONE)),
        st.builds(And, st.tuples(inner, inner)),
    ),
    max_leaves=3,
)
file_filters = st.recursive(
    _tree(file_leaf),
    lambda inner: st.one_of(
        st.builds(
            Related, st.just("instances"), instance_filters, st.sampled_from(tuple(Quantifier))
        ),
        st.builds(
            Related, st.just("instances"), instance_filters, st.just(Quantifier.SOME), counts
        ),
        st.builds(Or, st.tuples(inner, inner)),
        st.builds(Not, inner),
    ),
    max_leaves=3,
)

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@SETTINGS
@given(flt=instance_filters)
def test_instance_filters_match_the_reference(world: Any, engine: Engine, flt: Filter) -> None:
    _, versions, states = world
    with engine.connect() as conn:
        for ref in REFS:
            assert selected(conn, versions[ref], INSTANCES, flt) == matching(
                states[ref], INSTANCES, flt
            ), ref


@SETTINGS
@given(flt=file_filters)
def test_file_filters_match_the_reference(world: Any, engine: Engine, flt: Filter) -> None:
    _, versions, states = world
    with engine.connect() as conn:
        for ref in REFS:
            assert selected(conn, versions[ref], FILES, flt) == matching(states[ref], FILES, flt), (
                ref
            )


def test_the_data_makes_filters_discriminate(world: Any, engine: Engine) -> None:
    """The versions differ and common filters split them: the comparisons above can fail."""
    _, versions, states = world
    flt = Related("instances", Related("label", Compare("name", Op.EQ, "car")), count=(Op.GTE, 3))
    with engine.connect() as conn:
        per_ref = [selected(conn, versions[ref], FILES, flt) for ref in REFS]
        high = [
            selected(conn, versions[ref], INSTANCES, Compare("score", Op.GT, 0.5)) for ref in REFS
        ]
    assert 0 < len(per_ref[0]) < 8
    assert len({frozenset(s) for s in high}) == 3
    assert all(
        0 < len(h) < len(states[ref].rows["instances"]) for h, ref in zip(high, REFS, strict=True)
    )


@pytest.mark.parametrize(
    ("target", "flt", "message"),
    [
        (INSTANCES, Compare("scor", Op.GT, 1), "where: instances have no field 'scor'"),
        (INSTANCES, Compare("score", Op.LIKE, "a"), "where.score._like: score (Float) takes"),
        (
            INSTANCES,
            Compare("score", Op.GT, "high"),
            "where.score._gt: 'high' is not a valid Float",
        ),
        (INSTANCES, Compare("kind", Op.EQ, "boxx"), "'boxx' is not a kind; one of box"),
        (INSTANCES, Compare("id", Op.EQ, "nope"), "where.id._eq: 'nope' is not an id"),
        (INSTANCES, Compare("score", Op.EQ, None), "use _is_null"),
        (INSTANCES, Compare("score", Op.IN, 3), "_in takes a list"),
        (INSTANCES, Compare("score", Op.IN, [0.5, "x"]), "where.score._in[1]"),
        (FILES, Inside(Box(0, 0, 1, 1)), "files have no geometry"),
        (INSTANCES, Related("labels", And(())), "instances have no relation 'labels'"),
        (INSTANCES, Related("file", And(()), count=(Op.GTE, 1)), "file is one entity"),
        (FILES, Related("instances", And(()), count=(Op.GTE, -1)), "a whole number >= 0"),
        (FILES, JsonTest("metadata", (), Op.GT, 1), "takes _contains, _has_key, or a path"),
        (FILES, JsonTest("name", (), Op.HAS_KEY, "a"), "name is not a JSON field"),
        (FILES, Or((Compare("name", Op.EQ, "a"), Compare("nam", Op.EQ, "b"))), "where._or[1]"),
    ],
)
def test_bad_filters_name_what_and_where(
    world: Any, target: Target, flt: Filter, message: str
) -> None:
    _, versions, _ = world
    table = KINDS[target.entity].table
    with pytest.raises(InvalidFilterError) as raised:
        compile_filter(versions["main"], target, flt, table)
    assert raised.value.code == "INVALID_FILTER"
    assert message in raised.value.message
