"""Cell-level merges: the rule of versioning/cells.py on single entities, and through the
engine the cases a single rule table cannot show (a mix of valid sides that is invalid, a
criss-cross, the base reported on a conflict)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Connection

from tests.versioning.fixtures import World, make_world
from trainingdb import versioning as v
from trainingdb.versioning.cells import Strategies, merge_entity
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.tables import KINDS

INSTANCE = KINDS[EntityType.INSTANCE]
EID = uuid.UUID(int=7)
BASE: dict[str, Any] = {
    **INSTANCE.defaults,
    "file_entity_id": uuid.UUID(int=1),
    "label_entity_id": uuid.UUID(int=2),
    "kind": "box",
    "x": 1.0,
    "y": 2.0,
    "w": 3.0,
    "h": 4.0,
    "score": 0.5,
    "attributes": {"color": "red", "n": 1},
}


def cells(
    ours: dict[str, Any] | None,
    theirs: dict[str, Any] | None,
    base: dict[str, Any] | None = BASE,
    strategy: str = "fail",
    fields: dict[str, str] | None = None,
) -> Any:
    return merge_entity(INSTANCE, EID, base, ours, theirs, Strategies.parse(strategy, fields))


def test_fields_changed_on_one_side_each_take_that_side() -> None:
    out = cells({**BASE, "x": 9.0}, {**BASE, "y": 8.0})
    assert out.conflict is None
    assert out.write
    assert out.mixed
    assert (out.content["x"], out.content["y"]) == (9.0, 8.0)


def test_json_objects_merge_key_by_key() -> None:
    ours = {**BASE, "attributes": {"color": "blue", "n": 1}}
    theirs = {**BASE, "attributes": {"n": 1, "occluded": True}}  # drops color, adds a key
    out = cells(ours, theirs)
    (found,) = out.conflict.fields
    assert (found.field, found.base, found.ours, found.theirs) == (
        "attributes.color",
        "red",
        "blue",
        None,
    )
    assert out.standing
    settled = cells(ours, theirs, strategy="theirs")
    assert settled.content["attributes"] == {"n": 1, "occluded": True}
    kept = cells(ours, theirs, fields={"attributes.color": "ours"})
    assert kept.content["attributes"] == {"color": "blue", "n": 1, "occluded": True}
    assert not kept.standing


def test_the_same_change_on_both_sides_is_no_conflict() -> None:
    out = cells({**BASE, "score": 0.9, "x": 0.0}, {**BASE, "score": 0.9})
    assert out.conflict is None
    assert out.content["score"] == 0.9
    assert out.content["x"] == 0.0


def test_a_field_strategy_beats_the_default_and_a_key_beats_its_field() -> None:
    ours = {**BASE, "score": 0.1, "attributes": {"color": "blue", "n": 2}}
    theirs = {**BASE, "score": 0.9, "attributes": {"color": "green", "n": 3}}
    out = cells(ours, theirs, strategy="ours", fields={"score": "theirs", "attributes": "theirs"})
    assert out.content["score"] == 0.9
    assert out.content["attributes"] == {"color": "green", "n": 3}
    out = cells(ours, theirs, fields={"attributes": "theirs", "attributes.n": "ours"})
    assert out.standing  # score is left to fail
    assert out.content["attributes"] == {"color": "green", "n": 2}
    assert [f.field for f in out.conflict.fields] == ["attributes.color", "attributes.n", "score"]


def test_removed_against_changed_is_an_entity_conflict() -> None:
    out = cells(None, {**BASE, "x": 5.0})
    assert out.conflict.fields == ()
    assert (out.conflict.source_change, out.conflict.target_change) == ("modified", "removed")
    assert "removed on the target, modified on the source" in out.conflict.message
    assert out.standing
    assert cells(None, {**BASE, "x": 5.0}, strategy="theirs").content["x"] == 5.0
    assert cells(None, {**BASE, "x": 5.0}, strategy="ours", fields={"x": "theirs"}).content is None


def test_added_on_both_sides_merges_with_every_base_absent() -> None:
    out = cells({**BASE, "x": 1.0}, {**BASE, "x": 2.0}, base=None)
    assert [f.field for f in out.conflict.fields] == ["x"]
    assert out.conflict.fields[0].base is None
    assert (out.conflict.source_change, out.conflict.target_change) == ("added", "added")


def test_unknown_fields_and_strategies_are_refused() -> None:
    with pytest.raises(v.InvalidInputError, match="'colour': not a content field"):
        Strategies.parse("fail", {"colour": "ours"})
    with pytest.raises(v.InvalidInputError, match=r"'score\.x': not a content field of JSON"):
        Strategies.parse("fail", {"score.x": "ours"})
    with pytest.raises(v.InvalidInputError, match=r"'attributes\.': not a content field"):
        Strategies.parse("fail", {"attributes.": "ours"})
    with pytest.raises(v.InvalidInputError, match="merge strategy: 'both'"):
        Strategies.parse("both")


@pytest.fixture
def w(conn: Connection) -> World:
    return make_world(conn)


def _span(w: World) -> uuid.UUID:
    (span,) = v.create(
        w.conn,
        w.dataset,
        "main",
        "instance",
        [
            {
                "file_entity_id": w.img1,
                "label_entity_id": w.car,
                "kind": "text_span",
                "text_start": 10,
                "text_end": 20,
            }
        ],
    )
    v.commit(w.conn, w.dataset, "main")
    v.create_branch(w.conn, w.dataset, "a", "main")
    return span


def test_two_valid_sides_that_make_an_invalid_entity_are_refused(w: World) -> None:
    span = _span(w)
    v.update(w.conn, w.dataset, "a", "instance", {span: {"text_start": 15}})
    v.commit(w.conn, w.dataset, "a")
    v.update(w.conn, w.dataset, "main", "instance", {span: {"text_end": 12}})
    v.commit(w.conn, w.dataset, "main")
    with pytest.raises(v.MergeConflictError, match="text") as error:
        v.merge(w.conn, w.dataset, "a", "main", "theirs")
    assert [c.entity_id for c in error.value.conflicts] == [span]
    assert error.value.base_id == v.log(w.conn, w.dataset, "main@1", 1)[0].id
    assert w.instances("main")[span]["text_start"] == 10


def test_a_criss_cross_picks_one_best_common_ancestor_by_the_commits(w: World) -> None:
    """a and b each merge the other's first commit: both are best common ancestors."""
    c = w.conn
    (one,) = v.create(c, w.dataset, "main", "instance", [w.box(score=0.5)])
    v.commit(c, w.dataset, "main")
    v.create_branch(c, w.dataset, "a", "main")
    v.create_branch(c, w.dataset, "b", "main")
    v.update(c, w.dataset, "a", "instance", {one: {"x": 10.0}})
    a1 = v.commit(c, w.dataset, "a")
    v.update(c, w.dataset, "b", "instance", {one: {"y": 20.0}})
    b1 = v.commit(c, w.dataset, "b")
    v.merge(c, w.dataset, "a@1", "b")
    v.merge(c, w.dataset, "b@1", "a")
    base = v.merge_base(c, w.dataset, "a", "b")
    # Same generation: the later of the two.
    assert base.id == max([a1, b1], key=lambda x: (x.generation, x.ordinal, x.id)).id
    assert base.id == v.merge_base(c, w.dataset, "b", "a").id
    v.update(c, w.dataset, "a", "instance", {one: {"score": 0.9}})
    v.commit(c, w.dataset, "a")
    result = v.merge(c, w.dataset, "a", "b")
    assert result.base.id == base.id
    assert result.conflicts == ()
    assert {k: w.instances("b")[one][k] for k in ("x", "y", "score")} == {
        "x": 10.0,
        "y": 20.0,
        "score": 0.9,
    }
