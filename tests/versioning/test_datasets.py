"""Datasets: create, rename, describe, change the default branch, delete with everything."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from tests.versioning.fixtures import make_world
from tests.versioning.test_bad_input import TABLES, snapshot
from trainingdb import versioning as v


def test_update_renames_describes_and_moves_the_default_branch(conn: Connection) -> None:
    w = make_world(conn)
    v.create_branch(conn, w.dataset, "dev", "main")
    row = v.update_dataset(conn, "ds", new_name="ds2", description="d", default_branch="dev")
    assert (row.name, row.description, row.default_branch) == ("ds2", "d", "dev")
    assert v.get_dataset(conn, "ds2").id == w.dataset
    assert v.update_dataset(conn, "ds2") == row


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"new_name": "other"}, "CONFLICT"),
        ({"new_name": "a/b"}, "BAD_USER_INPUT"),
        ({"default_branch": "nope"}, "NOT_FOUND"),
    ],
)
def test_bad_updates_change_nothing(conn: Connection, changes: dict[str, str], code: str) -> None:
    make_world(conn)
    v.create_dataset(conn, "other")
    before = snapshot(conn)
    with pytest.raises(v.TrainingdbError) as error:
        v.update_dataset(conn, "ds", **changes)
    assert error.value.code == code
    assert snapshot(conn) == before


def test_delete_removes_every_row_of_the_dataset_and_nothing_else(conn: Connection) -> None:
    keep = make_world(conn, "keep")
    w = make_world(conn, "gone")
    v.create(conn, w.dataset, "main", "instance", [w.box()])
    v.commit(conn, w.dataset, "main", "one")
    v.create_tag(conn, w.dataset, "t", "main")
    v.create_branch(conn, w.dataset, "b", "main")
    v.delete(conn, w.dataset, "b", "instance", list(w.instances("b")))
    kept = snapshot(conn)
    v.delete_dataset(conn, "gone")
    for table in TABLES:
        left = conn.scalar(
            text(
                f"SELECT count(*) FROM {table} WHERE {'id' if table == 'dataset' else 'dataset_id'}"
                " = :d"
            ),
            {"d": w.dataset},
        )
        assert left == 0, table
    assert v.get_dataset(conn, "keep").id == keep.dataset
    assert [d.name for d in v.list_datasets(conn)] == ["keep"]
    assert snapshot(conn) != kept
    with pytest.raises(v.NotFoundError):
        v.delete_dataset(conn, "gone")
