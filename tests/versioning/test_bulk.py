"""create_stream: staged bulk creation keeps the row rules, skips existing entities, and refuses
duplicates and dangling references without writing anything."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Connection

from tests.versioning.fixtures import World, make_world
from tests.versioning.test_bad_input import snapshot
from trainingdb import versioning as v
from trainingdb.versioning.bulk import BulkResult, create_stream
from trainingdb.versioning.tables import KINDS


def full(w: World, **extra: Any) -> dict[str, Any]:
    return {**KINDS[v.EntityType.INSTANCE].defaults, **w.box(), "entity_id": uuid.uuid4(), **extra}


def test_rows_become_working_state_and_existing_ones_are_skipped(conn: Connection) -> None:
    w = make_world(conn)
    rows = [full(w, score=i / 10) for i in range(5)]
    assert create_stream(conn, w.dataset, "main", "instance", iter(rows)) == BulkResult(5, 0)
    seen = w.instances("main")
    assert sorted(seen) == sorted(r["entity_id"] for r in rows)
    assert seen[rows[3]["entity_id"]]["score"] == 0.3
    again = create_stream(conn, w.dataset, "main", "instance", iter([*rows, full(w)]))
    assert (again.created, again.existing) == (1, 5)
    v.commit(conn, w.dataset, "main", "bulk")
    assert len(v.read(conn, w.dataset, "main@1", "instance")) == 6
    # Inherited entities exist on a child branch too, whichever block of ids a stream spans.
    v.create_branch(conn, w.dataset, "child", "main")
    mixed = [
        *rows,
        full(w, entity_id=uuid.UUID(int=0)),
        full(w, entity_id=uuid.UUID(int=-1 % 2**128)),
    ]
    assert create_stream(conn, w.dataset, "child", "instance", iter(mixed)) == BulkResult(2, 5)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda w, r: [*r, {**r[0]}], "appears twice in the import"),
        (
            lambda w, r: [*r, full(w, label_entity_id=uuid.UUID(int=1))],
            "refers to label 00000000-0000-0000-0000-000000000001, which does not exist",
        ),
    ],
)
def test_bad_streams_write_nothing(conn: Connection, bad: Any, message: str) -> None:
    w = make_world(conn)
    rows = [full(w) for _ in range(3)]
    before = snapshot(conn)
    with pytest.raises(v.InvalidInputError, match=message):
        create_stream(conn, w.dataset, "main", "instance", iter(bad(w, rows)))
    assert snapshot(conn) == before
