"""The engine on hand-written scenarios: each capability once, with its row-level effects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Table, event, func, select, text

from tests.versioning.fixtures import World, make_world
from trainingdb import versioning as v
from trainingdb.versioning import revisions, sql
from trainingdb.versioning.models import Instance, Kill
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import resolve


@pytest.fixture
def w(conn: Connection) -> World:
    return make_world(conn)


def rows(conn: Connection, table: str) -> int:
    return int(conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


def test_write_commit_branch_tag_and_read_any_version(w: World) -> None:
    c = w.conn
    (first,) = v.create(c, w.dataset, "main", "instance", [w.box(score=0.5)])
    c1 = v.commit(c, w.dataset, "main", "one", "ann")
    assert c1.seq == 1
    v.create_tag(c, w.dataset, "v1", "main")
    v.create_branch(c, w.dataset, "a", "v1")
    v.update(c, w.dataset, "a", "instance", {first: {"score": 0.9}})
    (second,) = v.create(c, w.dataset, "main", "instance", [w.box(w.person)])
    assert w.instances("a")[first]["score"] == 0.9
    assert set(w.instances("main")) == {first, second}
    for ref in ("v1", "main@1", str(c1.id), c1.id.hex[:8]):
        assert w.instances(ref) == {first: w.instances("v1")[first]}
        assert w.instances(ref)[first]["score"] == 0.5
    assert w.instances("main@0") == {}
    assert w.instances("a@0") == w.instances("v1")


def test_uncommitted_work_stays_on_its_branch(w: World) -> None:
    v.commit(w.conn, w.dataset, "main")
    (pending,) = v.create(w.conn, w.dataset, "main", "instance", [w.box()])
    v.create_branch(w.conn, w.dataset, "b", "main")
    assert pending in w.instances("main")
    assert pending not in w.instances("b")
    # A branch where a kept version is needed means its current commit, inherited or its own.
    tag = v.create_tag(w.conn, w.dataset, "t", "b")
    assert (tag.branch_id, tag.seq) == (v.resolve(w.conn, w.dataset, "main@1").branch_id, 1)
    assert pending not in w.instances("t")


def test_uncommitted_rows_change_in_place(w: World) -> None:
    before = rows(w.conn, "instance")
    (eid,) = v.create(w.conn, w.dataset, "main", "instance", [w.box()])
    v.update(w.conn, w.dataset, "main", "instance", {eid: {"x": 5.0}})
    v.update(w.conn, w.dataset, "main", "instance", {eid: {"x": 6.0}})
    assert rows(w.conn, "instance") == before + 1
    v.delete(w.conn, w.dataset, "main", "instance", [eid])
    assert rows(w.conn, "instance") == before


def test_committed_rows_end_and_inherited_rows_are_killed(w: World) -> None:
    c = w.conn
    (eid,) = v.create(c, w.dataset, "main", "instance", [w.box()])
    v.commit(c, w.dataset, "main")
    v.update(c, w.dataset, "main", "instance", {eid: {"x": 7.0}})
    ends = c.execute(
        select(Instance.seq_from, Instance.seq_to)
        .where(Instance.entity_id == eid)
        .order_by(Instance.seq_from)
    ).all()
    assert [tuple(r) for r in ends] == [(1, 2), (2, None)]
    v.commit(c, w.dataset, "main")
    v.create_branch(c, w.dataset, "child", "main")
    v.delete(c, w.dataset, "child", "instance", [eid])
    assert c.scalar(select(func.count()).select_from(Kill)) == 1
    assert eid not in w.instances("child")
    assert eid in w.instances("main")
    assert eid in w.instances("child@0")


def test_root_head_reads_need_no_lineage_join(w: World) -> None:
    table = KINDS[v.EntityType.INSTANCE].table
    head = str(v.visible(table, resolve(w.conn, w.dataset, "main")).compile(dialect=w.conn.dialect))
    assert "kill" not in head
    assert "seq_to IS NULL" in head
    v.commit(w.conn, w.dataset, "main")
    v.create_branch(w.conn, w.dataset, "c", "main")
    child = str(v.visible(table, resolve(w.conn, w.dataset, "c")).compile(dialect=w.conn.dialect))
    assert child.count("kill") >= 1


def test_bulk_create_is_one_copy(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    inserts: list[str] = []
    copies: list[tuple[str, int]] = []
    real_copy = sql.copy_rows

    def counting_copy(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        copies.append((table.name, len(rows)))
        real_copy(conn, table, rows)

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("INSERT INTO instance"):
            inserts.append(statement)

    monkeypatch.setattr(revisions, "copy_rows", counting_copy)
    with engine.connect() as conn, conn.begin() as tx:
        w = make_world(conn, "bulk")
        event.listen(engine, "before_cursor_execute", record)
        try:
            ids = v.create(
                conn, w.dataset, "main", "instance", [w.box(x=float(i)) for i in range(3000)]
            )
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert len(ids) == len(set(ids)) == 3000
        assert sorted(i["x"] for i in w.instances("main").values()) == [
            float(i) for i in range(3000)
        ]
        tx.rollback()
    assert copies[-1:] == [("instance", 3000)]  # make_world's labels and files come first
    assert inserts == []


def test_file_delete_takes_its_annotations_and_labels_in_use_stay(w: World) -> None:
    c = w.conn
    _on1, on2 = v.create(c, w.dataset, "main", "instance", [w.box(), w.box(file=w.img2)])
    v.create(c, w.dataset, "main", "frame", [{"file_entity_id": w.img1, "frame_number": 3}])
    with pytest.raises(v.ConflictError, match="still used by instance"):
        v.delete(c, w.dataset, "main", "label", [w.car])
    v.delete(c, w.dataset, "main", "file", [w.img1])
    assert set(w.instances("main")) == {on2}
    assert v.read(c, w.dataset, "main", "frame") == {}


def test_diff_between_branches_and_its_summary(w: World) -> None:
    c = w.conn
    keep, change, drop = v.create(
        c, w.dataset, "main", "instance", [w.box(), w.box(x=9.0), w.box(w.person)]
    )
    v.commit(c, w.dataset, "main")
    v.create_branch(c, w.dataset, "a", "main")
    v.update(c, w.dataset, "a", "instance", {change: {"x": 10.0}})
    v.delete(c, w.dataset, "a", "instance", [drop])
    (added,) = v.create(c, w.dataset, "a", "instance", [w.box(w.person, score=0.8)])
    changes = {(ch.entity_id, ch.change): ch for ch in v.diff(c, w.dataset, "main", "a")}
    assert set(changes) == {(change, "modified"), (drop, "removed"), (added, "added")}
    modified = changes[(change, "modified")]
    assert (modified.before or {})["x"] == 9.0
    assert (modified.after or {})["x"] == 10.0
    assert {(ch.entity_id, ch.change) for ch in v.diff(c, w.dataset, "a", "main")} == {
        (change, "modified"),
        (drop, "added"),
        (added, "removed"),
    }
    assert list(v.diff(c, w.dataset, "main", "main@1")) == []
    summary = v.diff_summary(c, w.dataset, "main", "a")
    assert summary.by_label == {
        ("car", "modified"): 1,
        ("person", "removed"): 1,
        ("person", "added"): 1,
    }
    assert summary.by_kind == {
        (v.EntityType.INSTANCE, k): 1 for k in ("modified", "removed", "added")
    }
    del keep


def test_merge_fast_forward_then_three_way(w: World) -> None:
    c = w.conn
    (i1,) = v.create(c, w.dataset, "main", "instance", [w.box()])
    v.commit(c, w.dataset, "main")
    v.create_branch(c, w.dataset, "a", "main")
    v.update(c, w.dataset, "a", "instance", {i1: {"score": 0.3}})
    v.commit(c, w.dataset, "a")
    first = v.merge(c, w.dataset, "a", "main")
    assert first.fast_forward
    assert first.commit is not None
    a = v.resolve(c, w.dataset, "a").branch_id
    assert first.commit.merged_from == (a, 1)
    assert w.instances("main")[i1]["score"] == 0.3
    # Both sides move on; the second merge brings only what changed on `a` since the first.
    (i2,) = v.create(c, w.dataset, "main", "instance", [w.box(w.person)])
    v.commit(c, w.dataset, "main")
    (i3,) = v.create(c, w.dataset, "a", "instance", [w.box(file=w.img2)])
    v.commit(c, w.dataset, "a")
    second = v.merge(c, w.dataset, "a", "main")
    assert not second.fast_forward
    assert (second.base.branch_id, second.base.seq) == (a, 1)
    assert second.changes == 1
    assert set(w.instances("main")) == {i1, i2, i3}
    again = v.merge(c, w.dataset, "a", "main")
    assert again.up_to_date
    assert again.commit is None


def test_merge_conflicts_by_strategy(w: World) -> None:
    c = w.conn
    (i1,) = v.create(c, w.dataset, "main", "instance", [w.box()])
    v.commit(c, w.dataset, "main")
    v.create_branch(c, w.dataset, "a", "main")
    v.update(c, w.dataset, "a", "instance", {i1: {"x": 100.0}})
    v.commit(c, w.dataset, "a")
    v.update(c, w.dataset, "main", "instance", {i1: {"x": 200.0}})
    v.commit(c, w.dataset, "main")
    with pytest.raises(v.MergeConflictError) as error:
        v.merge(c, w.dataset, "a", "main")
    assert [(x.entity_id, x.source_change, x.target_change) for x in error.value.conflicts] == [
        (i1, "modified", "modified")
    ]
    assert w.instances("main")[i1]["x"] == 200.0
    ours = v.merge(c, w.dataset, "a", "main", "ours")
    assert w.instances("main")[i1]["x"] == 200.0
    assert len(ours.conflicts) == 1
    v.update(c, w.dataset, "a", "instance", {i1: {"x": 300.0}})
    v.commit(c, w.dataset, "a")
    v.merge(c, w.dataset, "a", "main", "theirs")
    assert w.instances("main")[i1]["x"] == 300.0


def test_merge_refuses_a_result_breaking_references(w: World) -> None:
    c = w.conn
    v.commit(c, w.dataset, "main")
    v.create_branch(c, w.dataset, "a", "main")
    v.create(c, w.dataset, "a", "instance", [w.box(w.person)])
    v.commit(c, w.dataset, "a")
    v.delete(c, w.dataset, "main", "label", [w.person])
    v.commit(c, w.dataset, "main")
    with pytest.raises(v.MergeConflictError, match="does not exist here"):
        v.merge(c, w.dataset, "a", "main", "theirs")


def test_revert_log_and_history(w: World) -> None:
    c = w.conn
    (i1,) = v.create(c, w.dataset, "main", "instance", [w.box()])
    c1 = v.commit(c, w.dataset, "main", "add")
    v.update(c, w.dataset, "main", "instance", {i1: {"x": 50.0}})
    v.create(c, w.dataset, "main", "instance", [w.box(w.person)])
    v.commit(c, w.dataset, "main", "edit")
    reverted = v.revert(c, w.dataset, "main", "main@1")
    assert w.instances("main") == w.instances(str(c1.id))
    log = [x.message for x in v.log(c, w.dataset, "main")]
    assert log == ["Revert to main@1", "edit", "add", "Dataset created"]
    v.create_branch(c, w.dataset, "a", "main")
    v.update(c, w.dataset, "a", "instance", {i1: {"x": 60.0}})
    revisions = v.history(c, w.dataset, i1)
    assert [(r.branch, r.content["x"]) for r in revisions] == [
        ("main", 1.0),
        ("main", 50.0),
        ("main", 1.0),
        ("a", 60.0),
    ]
    assert [(k.branch, k.seq) for k in revisions[2].killed_by] == [("a", 1)]
    assert reverted.seq == 3


def test_gc_frees_only_what_nothing_sees(w: World) -> None:
    c = w.conn
    v.commit(c, w.dataset, "main")
    v.create_branch(c, w.dataset, "tmp", "main")
    v.create(c, w.dataset, "tmp", "instance", [w.box(), w.box(w.person)])
    v.commit(c, w.dataset, "tmp")
    v.create_tag(c, w.dataset, "keep", "tmp")
    v.create(c, w.dataset, "tmp", "instance", [w.box(file=w.img2)])
    v.commit(c, w.dataset, "tmp")
    v.delete_branch(c, w.dataset, "tmp")
    kept = w.instances("keep")
    report = v.gc(c, w.dataset)
    assert report.rows == {v.EntityType.INSTANCE: 1}
    assert report.commits == 1
    assert w.instances("keep") == kept
    v.delete_tag(c, w.dataset, "keep")
    report = v.gc(c, w.dataset)
    assert report.rows == {v.EntityType.INSTANCE: 2}
    assert report.branches == 1


def test_gc_keeps_a_deleted_branch_state_a_merge_recorded(w: World) -> None:
    c = w.conn
    v.commit(c, w.dataset, "main")
    v.create_branch(c, w.dataset, "tmp", "main")
    (merged,) = v.create(c, w.dataset, "tmp", "instance", [w.box()])
    v.commit(c, w.dataset, "tmp")
    v.merge(c, w.dataset, "tmp", "main")  # records tmp@1: a possible base of later merges
    v.update(c, w.dataset, "tmp", "instance", {merged: {"x": 9.0}})
    v.commit(c, w.dataset, "tmp")
    v.delete_branch(c, w.dataset, "tmp")
    report = v.gc(c, w.dataset)
    kept = c.execute(
        select(Instance.seq_from, Instance.seq_to).where(
            Instance.entity_id == merged,
            Instance.branch_id != resolve(c, w.dataset, "main").branch_id,
        )
    ).all()
    assert [tuple(r) for r in kept] == [(1, 2)]  # tmp@1's revision stays, tmp@2's goes
    assert report.rows == {v.EntityType.INSTANCE: 1}
    assert report.branches == 0  # main's merge commit still names it


def test_uncommitted_labels_can_swap_names_back(w: World) -> None:
    """Found by the model-based test: replacing uncommitted rows one UPDATE at a time passed
    through a duplicate name when a revert swapped two names back."""
    c = w.conn
    v.commit(c, w.dataset, "main")
    v.update(c, w.dataset, "main", "label", {w.car: {"name": "bike"}})
    v.update(c, w.dataset, "main", "label", {w.person: {"name": "car"}})
    v.revert(c, w.dataset, "main", "main@1")
    names = {eid: label["name"] for eid, label in v.read(c, w.dataset, "main", "label").items()}
    assert names == {w.car: "car", w.person: "person"}
