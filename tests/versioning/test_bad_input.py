"""Bad input gets a domain error with a stable code, and leaves the database exactly as it was."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, text

from tests.versioning.fixtures import World, make_world
from trainingdb import versioning as v

TABLES = (
    "dataset",
    "branch",
    "commit",
    "tag",
    "label",
    "file",
    "frame",
    "instance",
    "kill",
    "blob",
)


def snapshot(conn: Connection) -> dict[str, str]:
    """Every row of every table, as text: equal snapshots mean an unchanged database."""
    return {
        table: conn.scalar(
            text(f"SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') FROM {table} t")
        )
        or ""
        for table in TABLES
    }


@pytest.fixture
def w(conn: Connection) -> World:
    world = make_world(conn)
    (instance,) = v.create(conn, world.dataset, "main", "instance", [world.box()])
    v.commit(conn, world.dataset, "main", "first")
    v.create_tag(conn, world.dataset, "v1", "main")
    v.create_branch(conn, world.dataset, "feature", "main")
    v.create(conn, world.dataset, "feature", "instance", [world.box(world.person)])
    world.instance = instance  # type: ignore[attr-defined]
    return world


def other_dataset_commit(conn: Connection) -> str:
    other = v.create_dataset(conn, "other").id
    return str(v.commit(conn, other, "main", "elsewhere").id)


CASES: list[tuple[str, str, Callable[[World], Any]]] = [
    (
        "unknown branch",
        "NOT_FOUND",
        lambda w: v.create(w.conn, w.dataset, "nope", "label", [{"name": "x"}]),
    ),
    ("unknown ref", "NOT_FOUND", lambda w: v.read(w.conn, w.dataset, "nope", "label")),
    (
        "unknown commit",
        "NOT_FOUND",
        lambda w: v.read(w.conn, w.dataset, "deadbeefdeadbeef", "label"),
    ),
    ("seq past the head", "NOT_FOUND", lambda w: v.read(w.conn, w.dataset, "main@7", "label")),
    ("tag name taken", "CONFLICT", lambda w: v.create_tag(w.conn, w.dataset, "v1", "main")),
    (
        "tag named like a branch",
        "CONFLICT",
        lambda w: v.create_tag(w.conn, w.dataset, "feature", "main"),
    ),
    (
        "branch name taken",
        "CONFLICT",
        lambda w: v.create_branch(w.conn, w.dataset, "feature", "main"),
    ),
    (
        "bad branch name",
        "BAD_USER_INPUT",
        lambda w: v.create_branch(w.conn, w.dataset, "a b", "main"),
    ),
    (
        "merge with a field strategy for an unknown field",
        "BAD_USER_INPUT",
        lambda w: v.merge(
            w.conn, w.dataset, "feature", "main", field_strategies={"colour": "ours"}
        ),
    ),
    (
        "merge with a key strategy on a field that is no JSON object",
        "BAD_USER_INPUT",
        lambda w: v.merge(w.conn, w.dataset, "feature", "main", field_strategies={"x.y": "ours"}),
    ),
    (
        "merge with an unknown field strategy",
        "BAD_USER_INPUT",
        lambda w: v.merge(w.conn, w.dataset, "feature", "main", field_strategies={"x": "mine"}),
    ),
    (
        "bad merge strategy",
        "BAD_USER_INPUT",
        lambda w: v.merge(w.conn, w.dataset, "feature", "main", "mine"),
    ),
    (
        "revert to another dataset's commit",
        "NOT_FOUND",  # it is not in this dataset; saying more would tell of the other one
        lambda w: v.revert(w.conn, w.dataset, "main", other_dataset_commit(w.conn)),
    ),
    (
        "unknown kind",
        "BAD_USER_INPUT",
        lambda w: v.create(w.conn, w.dataset, "main", "shape", [{}]),
    ),
    (
        "unknown field",
        "BAD_USER_INPUT",
        lambda w: v.create(w.conn, w.dataset, "main", "label", [{"name": "x", "colour": "red"}]),
    ),
    (
        "missing field",
        "BAD_USER_INPUT",
        lambda w: v.create(w.conn, w.dataset, "main", "label", [{"color": "#000000"}]),
    ),
    (
        "score out of range",
        "BAD_USER_INPUT",
        lambda w: v.create(w.conn, w.dataset, "main", "instance", [w.box(score=1.5)]),
    ),
    (
        "box without geometry",
        "BAD_USER_INPUT",
        lambda w: v.create(w.conn, w.dataset, "main", "instance", [w.box(x=None)]),
    ),
    (
        "dangling label",
        "BAD_USER_INPUT",
        lambda w: v.create(w.conn, w.dataset, "main", "instance", [w.box(label=uuid.uuid4())]),
    ),
    (
        "duplicate label name",
        "CONFLICT",
        lambda w: v.create(w.conn, w.dataset, "main", "label", [{"name": "car"}]),
    ),
    (
        "entity id already there",
        "CONFLICT",
        lambda w: v.create(
            w.conn, w.dataset, "main", "label", [{"name": "truck", "entity_id": w.car}]
        ),
    ),
    (
        "update of a missing entity",
        "NOT_FOUND",
        lambda w: v.update(w.conn, w.dataset, "main", "label", {uuid.uuid4(): {"name": "x"}}),
    ),
    (
        "delete of a label in use",
        "CONFLICT",
        lambda w: v.delete(w.conn, w.dataset, "main", "label", [w.car]),
    ),
    (
        "delete of the default branch",
        "BAD_USER_INPUT",
        lambda w: v.delete_branch(w.conn, w.dataset, "main"),
    ),
    (
        "label color not #rrggbb",
        "BAD_USER_INPUT",
        lambda w: v.create(w.conn, w.dataset, "main", "label", [{"name": "x", "color": "red"}]),
    ),
    (
        "file of a blob the dataset does not hold",
        "BAD_USER_INPUT",
        lambda w: v.create(
            w.conn,
            w.dataset,
            "main",
            "file",
            [{"name": "new.png", "blob_sha256": "d" * 64, "media_type": "image"}],
        ),
    ),
    (
        "unknown media type",
        "BAD_USER_INPUT",
        lambda w: v.create(
            w.conn,
            w.dataset,
            "main",
            "file",
            [{"name": "new.png", "blob_sha256": "a" * 64, "media_type": "photo"}],
        ),
    ),
    (
        "video without timing",
        "BAD_USER_INPUT",
        lambda w: v.create(
            w.conn,
            w.dataset,
            "main",
            "file",
            [{"name": "v.mp4", "blob_sha256": "a" * 64, "media_type": "video"}],
        ),
    ),
    (
        "negative width",
        "BAD_USER_INPUT",
        lambda w: v.update(w.conn, w.dataset, "main", "file", {w.img1: {"width": -3}}),
    ),
    (
        "text span end before start",
        "BAD_USER_INPUT",
        lambda w: v.create(
            w.conn,
            w.dataset,
            "main",
            "instance",
            [w.box(kind="text_span", text_start=5, text_end=2)],
        ),
    ),
    (
        "model run on a human instance",
        "BAD_USER_INPUT",
        lambda w: v.create(w.conn, w.dataset, "main", "instance", [w.box(model_run="r1")]),
    ),
    (
        "attributes not an object",
        "BAD_USER_INPUT",
        lambda w: v.create(w.conn, w.dataset, "main", "instance", [w.box(attributes=[1])]),
    ),
    (
        "score as text",
        "BAD_USER_INPUT",
        lambda w: v.create(w.conn, w.dataset, "main", "instance", [w.box(score="high")]),
    ),
    (
        "coordinate not a number",
        "BAD_USER_INPUT",
        lambda w: v.create(w.conn, w.dataset, "main", "instance", [w.box(x=float("nan"))]),
    ),
    (
        "file id not a uuid",
        "BAD_USER_INPUT",
        lambda w: v.create(w.conn, w.dataset, "main", "instance", [w.box(file_entity_id="img-1")]),
    ),
    (
        "a batch that fails half way",
        "BAD_USER_INPUT",
        lambda w: v.create(
            w.conn, w.dataset, "main", "instance", [w.box(), w.box(), w.box(score=2.0)]
        ),
    ),
]


@pytest.mark.parametrize(("what", "code", "call"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_changes_nothing(
    w: World, what: str, code: str, call: Callable[[World], Any]
) -> None:
    before = snapshot(w.conn)
    with pytest.raises(v.TrainingdbError) as error:
        call(w)
    assert error.value.code == code, error.value.message
    # "revert to another dataset's commit" creates that dataset first, on purpose, outside the
    # failing call; everything else must be untouched.
    after = snapshot(w.conn)
    if what == "revert to another dataset's commit":
        after = {k: val for k, val in after.items() if k not in ("dataset", "branch", "commit")}
        before = {k: val for k, val in before.items() if k not in ("dataset", "branch", "commit")}
    assert after == before


def test_merging_a_branch_into_itself_is_up_to_date_and_writes_nothing(w: World) -> None:
    v.create(w.conn, w.dataset, "feature", "label", [{"name": "pending"}])
    before = snapshot(w.conn)
    for source in ("feature", "feature@0", "main"):
        result = v.merge(w.conn, w.dataset, source, "feature")
        assert result.up_to_date, source
        assert result.commit is None, source
    assert snapshot(w.conn) == before


def test_protected_branch_refuses_writes_and_accepts_merges(w: World) -> None:
    v.commit(w.conn, w.dataset, "feature")
    v.set_protected(w.conn, w.dataset, "main", True)
    before = snapshot(w.conn)
    for call in (
        lambda: v.create(w.conn, w.dataset, "main", "label", [{"name": "x"}]),
        lambda: v.update(w.conn, w.dataset, "main", "label", {w.car: {"color": "#000000"}}),
        lambda: v.delete(w.conn, w.dataset, "main", "instance", [w.instance]),  # type: ignore[attr-defined]
        lambda: v.revert(w.conn, w.dataset, "main", "main@0"),
        lambda: v.delete_branch(w.conn, w.dataset, "main"),
    ):
        with pytest.raises(v.TrainingdbError) as error:
            call()
        assert error.value.code in ("PROTECTED_BRANCH", "BAD_USER_INPUT")
    assert snapshot(w.conn) == before
    result = v.merge(w.conn, w.dataset, "feature", "main")
    assert result.commit is not None


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            lambda w: [w.box(), w.box(score=2.0)],
            "instance #1: score 2.0 is outside [0, 1]",
        ),
        (
            lambda w: [w.box(), w.box(kind="text_span", text_start=5, text_end=2)],
            "instance #1: text_end 2 is before text_start 5",
        ),
        (
            lambda w: [w.box(w=-1.0, score="x")],
            "instance #0: score must be a number, not 'x'",
        ),
        (
            lambda w: [w.box(), w.box(label=uuid.UUID(int=7))],
            "instance #1: instance ",
        ),
    ],
)
def test_messages_name_the_row_of_the_batch(
    w: World, rows: Callable[[World], list[dict[str, Any]]], message: str
) -> None:
    with pytest.raises(v.InvalidInputError) as error:
        v.create(w.conn, w.dataset, "main", "instance", rows(w))
    assert error.value.message.startswith(message), error.value.message
