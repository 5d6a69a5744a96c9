"""Merges through GraphQL: the two merge-base regressions of issue 18, cell-level merges and
field conflicts, per-field strategies, and the merge base as a query.

Each test builds its own dataset with mutations, as a client would.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from tests.versioning.test_bad_input import snapshot

from .execute import run
from .test_mutations import COMMIT, CREATE_INSTANCES, UPDATE_INSTANCES, box, dataset, ok

MERGE = """
mutation($ds: String!, $source: String!, $target: String!, $strategy: MergeStrategy! = FAIL,
         $fields: [FieldStrategy!]) {
  merge(dataset: $ds, source: $source, target: $target, strategy: $strategy,
        fieldStrategies: $fields) {
    merged upToDate fastForward changes base
    baseCommit { id version }
    commit { version parents mergedFrom }
    conflicts { kind entityId sourceChange targetChange message fields { field base ours theirs } }
  }
}"""
BRANCH = """
mutation($ds: String!, $name: String!, $from: String!) {
  createBranch(dataset: $ds, name: $name, from: $from) { name }
}"""
TAG = """
mutation($ds: String!, $name: String!, $version: String!) {
  createTag(dataset: $ds, name: $name, version: $version) { version }
}"""
INSTANCE = """
query($ds: String!, $version: String!) {
  dataset(name: $ds) {
    instances(version: $version, first: 100) { nodes { id x y w h score attributes } }
  }
}"""
DIFF = """
query($ds: String!, $from: String!, $to: String!) {
  dataset(name: $ds) { diff(from: $from, to: $to) { changes { entityId change } } }
}"""
BASE = """
query($ds: String!, $a: String!, $b: String!) {
  dataset(name: $ds) { mergeBase(a: $a, b: $b) { id version generation } }
}"""


def merge(engine: Engine, ds: str, source: str, target: str, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = ok(engine, MERGE, ds=ds, source=source, target=target, **extra)["merge"]
    return found


def commit(engine: Engine, ds: str, branch: str) -> None:
    ok(engine, COMMIT, ds=ds, branch=branch, message=f"on {branch}")


def branch(engine: Engine, ds: str, name: str, start: str) -> None:
    ok(engine, BRANCH, ds=ds, name=name, **{"from": start})


def update(engine: Engine, ds: str, on: str, **patch: Any) -> None:
    ok(engine, UPDATE_INSTANCES, ds=ds, branch=on, patches=[patch])


def instance(engine: Engine, ds: str, version: str) -> dict[str, Any]:
    (only,) = ok(engine, INSTANCE, ds=ds, version=version)["dataset"]["instances"]["nodes"]
    found: dict[str, Any] = only
    return found


def commit_id(engine: Engine, ds: str, version: str) -> str:
    found: str = ok(engine, BASE, ds=ds, a=version, b=version)["dataset"]["mergeBase"]["id"]
    return found


def test_the_same_commit_merges_the_same_whatever_its_name(engine: Engine) -> None:
    """Case 1 of issue 18: a tag of a commit the target already has is up to date."""
    ds, file, labels = dataset(engine)
    (gone,) = ok(engine, CREATE_INSTANCES, ds=ds, instances=[box(file, 1, label="person")])[
        "createInstances"
    ]
    commit(engine, ds, "main")  # C1
    commit(engine, ds, "main")  # C2
    ok(engine, CREATE_INSTANCES, ds=ds, instances=[box(file, 2, label="car")])
    commit(engine, ds, "main")  # C3
    commit(engine, ds, "main")  # C4
    ok(engine, TAG, ds=ds, name="t1", version="main@4")
    branch(engine, ds, "b3", "main")
    branch(engine, ds, "b4", "main@2")
    assert merge(engine, ds, "b3", "b4")["fastForward"]  # b4 now contains C4
    ok(
        engine,
        'mutation($ds: String!, $ids: [ID!]!) { deleteInstances(dataset: $ds, branch: "b4", '
        "ids: $ids) }",
        ds=ds,
        ids=[gone["id"]],
    )
    ok(
        engine,
        'mutation($ds: String!, $ids: [ID!]!) { deleteLabels(dataset: $ds, branch: "b4", '
        "ids: $ids) }",
        ds=ds,
        ids=[labels[1]],
    )
    commit(engine, ds, "b4")
    c4 = commit_id(engine, ds, "t1")
    with engine.connect() as conn:
        before = snapshot(conn)
    for name in ("t1", "b3@0", "b3", "main@4", "main", c4, c4[:10]):
        answer = merge(engine, ds, name, "b4")
        assert answer["upToDate"], name
        assert answer["merged"], name
        assert answer["commit"] is None, name
        assert answer["conflicts"] == [], name
        assert answer["baseCommit"]["id"] == c4, name
    with engine.connect() as conn:
        assert snapshot(conn) == before


def test_a_committed_edit_is_kept_when_the_source_brings_nothing(engine: Engine) -> None:
    """Case 2 of issue 18: the base is the main commit both sides merged, not b1's fork."""
    ds, file, _ = dataset(engine)
    (e4,) = ok(engine, CREATE_INSTANCES, ds=ds, instances=[box(file, 1, label="car")])[
        "createInstances"
    ]
    commit(engine, ds, "main")
    branch(engine, ds, "b1", "main")
    branch(engine, ds, "b2", "b1")
    branch(engine, ds, "b3", "b1")
    ok(engine, CREATE_INSTANCES, ds=ds, instances=[box(file, 5, label="person")])
    commit(engine, ds, "main")  # C2
    c2 = commit_id(engine, ds, "main")
    assert merge(engine, ds, "main", "b2", strategy="THEIRS")["merged"]
    assert merge(engine, ds, "main", "b3", strategy="THEIRS")["merged"]
    update(engine, ds, "b3", id=e4["id"], y=7.5, h=9.0)
    commit(engine, ds, "b3")  # b3@2
    assert ok(engine, BASE, ds=ds, a="b2", b="b3")["dataset"]["mergeBase"]["id"] == c2
    answer = merge(engine, ds, "b2", "b3", strategy="THEIRS")
    assert answer["baseCommit"]["id"] == c2
    assert answer["conflicts"] == []
    assert answer["changes"] == 0
    edited = next(
        n
        for n in ok(engine, INSTANCE, ds=ds, version="b3")["dataset"]["instances"]["nodes"]
        if n["id"] == e4["id"]
    )
    assert (edited["y"], edited["h"]) == (7.5, 9.0)
    diff = ok(engine, DIFF, ds=ds, **{"from": "b3@2", "to": "b3"})["dataset"]["diff"]
    assert diff["changes"] == []


def _diverged(engine: Engine) -> tuple[str, str]:
    """A dataset with one instance changed on `a` and on main since their fork: (ds, id)."""
    ds, file, _ = dataset(engine)
    (one,) = ok(
        engine,
        CREATE_INSTANCES,
        ds=ds,
        instances=[box(file, 1, label="car", score=0.5, attributes={"color": "red", "n": 1})],
    )["createInstances"]
    commit(engine, ds, "main")
    branch(engine, ds, "a", "main")
    return ds, one["id"]


def test_fields_changed_on_different_sides_merge_cleanly(engine: Engine) -> None:
    ds, eid = _diverged(engine)
    update(engine, ds, "a", id=eid, x=10.0, attributes={"color": "red", "n": 1, "occluded": True})
    commit(engine, ds, "a")
    update(engine, ds, "main", id=eid, y=20.0, attributes={"color": "blue", "n": 1})
    commit(engine, ds, "main")
    answer = merge(engine, ds, "a", "main")
    assert answer["merged"]
    assert answer["conflicts"] == []
    assert answer["commit"]["mergedFrom"] == "a@1"
    merged = instance(engine, ds, "main")
    assert (merged["x"], merged["y"]) == (10.0, 20.0)
    assert merged["attributes"] == {"color": "blue", "n": 1, "occluded": True}


def test_the_same_field_changed_twice_is_a_field_conflict(engine: Engine) -> None:
    ds, eid = _diverged(engine)
    update(engine, ds, "a", id=eid, score=0.9, x=4.0, attributes={"color": "green", "n": 1})
    commit(engine, ds, "a")
    update(engine, ds, "main", id=eid, score=0.1, attributes={"color": "blue", "n": 1})
    commit(engine, ds, "main")
    with engine.connect() as conn:
        before = snapshot(conn)
    refused = merge(engine, ds, "a", "main")
    with engine.connect() as conn:
        assert snapshot(conn) == before
    assert not refused["merged"]
    assert refused["base"] == "main@1"
    (conflict,) = refused["conflicts"]
    assert conflict["fields"] == [
        {"field": "attributes.color", "base": "red", "ours": "blue", "theirs": "green"},
        {"field": "score", "base": 0.5, "ours": 0.1, "theirs": 0.9},
    ]
    assert (conflict["sourceChange"], conflict["targetChange"]) == ("modified", "modified")
    assert "score: base 0.5, target 0.1, source 0.9" in conflict["message"]
    # Per field: the source's score, the target's colour; x (changed on one side) merges.
    taken = merge(
        engine,
        ds,
        "a",
        "main",
        fields=[
            {"field": "score", "strategy": "THEIRS"},
            {"field": "attributes.color", "strategy": "OURS"},
        ],
    )
    assert taken["merged"]
    assert [c["field"] for c in taken["conflicts"][0]["fields"]] == ["attributes.color", "score"]
    merged = instance(engine, ds, "main")
    assert (merged["score"], merged["x"], merged["attributes"]["color"]) == (0.9, 4.0, "blue")


def test_a_bad_field_strategy_is_refused_by_name(engine: Engine) -> None:
    ds, _ = _diverged(engine)
    answer = run(
        engine,
        'mutation($ds: String!) { merge(dataset: $ds, source: "a", target: "main", '
        'fieldStrategies: [{field: "colour", strategy: OURS}]) { merged } }',
        ds=ds,
    )
    (error,) = answer["errors"]
    assert error["code"] == "BAD_USER_INPUT"
    assert "fieldStrategies[0].field: 'colour'" in error["message"]


def test_the_commit_graph_is_in_the_log(engine: Engine) -> None:
    ds, eid = _diverged(engine)
    update(engine, ds, "a", id=eid, x=3.0)
    commit(engine, ds, "a")
    answer = merge(engine, ds, "a", "main")
    assert answer["fastForward"]
    log = ok(
        engine,
        "query($ds: String!) { dataset(name: $ds) { commits { id version parents generation "
        "mergedFrom } } }",
        ds=ds,
    )["dataset"]["commits"]
    assert [c["version"] for c in log] == ["main@2", "a@1", "main@1", "main@0"]
    merged, on_a, first, root = log
    assert merged["parents"] == [first["id"], on_a["id"]]
    assert on_a["parents"] == [first["id"]]
    assert root["parents"] == []
    assert [c["generation"] for c in log] == [3, 2, 1, 0]
