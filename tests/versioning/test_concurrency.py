"""Concurrent writers on one branch lose no change; a commit never captures half a write.

Real concurrent transactions on separate connections: the branch row lock (refs.lock_branch)
orders them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine

from tests.versioning.fixtures import make_world
from trainingdb import versioning as v
from trainingdb.versioning.bulk import BulkResult, create_stream
from trainingdb.versioning.tables import KINDS


def test_two_writers_on_one_entity_keep_both_changes(engine: Engine) -> None:
    with engine.begin() as conn:
        w = make_world(conn, "concurrent-writers")
        (eid,) = v.create(conn, w.dataset, "main", "instance", [w.box()])
        v.commit(conn, w.dataset, "main")
    first_wrote = threading.Event()
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            first_wrote.wait(5)
            with engine.begin() as conn:
                v.update(conn, w.dataset, "main", "instance", {eid: {"y": 20.0}})
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=second_writer)
    thread.start()
    with engine.begin() as conn:
        v.update(conn, w.dataset, "main", "instance", {eid: {"x": 10.0}})
        first_wrote.set()
        time.sleep(0.3)  # the second writer is now waiting for the branch
    thread.join(10)
    assert not errors
    with engine.connect() as conn:
        state = v.read(conn, w.dataset, "main", "instance")[eid]
    assert (state["x"], state["y"]) == (10.0, 20.0)


def test_a_commit_waits_for_a_write_in_progress(engine: Engine) -> None:
    with engine.begin() as conn:
        w = make_world(conn, "commit-race")
        v.commit(conn, w.dataset, "main")
    write_open = threading.Event()
    committed = threading.Event()
    result: list[v.CommitRow] = []

    def committer() -> None:
        write_open.wait(5)
        with engine.begin() as conn:
            result.append(v.commit(conn, w.dataset, "main", "racing"))
        committed.set()

    thread = threading.Thread(target=committer)
    thread.start()
    with engine.begin() as conn:
        ids = v.create(conn, w.dataset, "main", "instance", [w.box(x=float(i)) for i in range(50)])
        write_open.set()
        # The commit must not finish while the write is still open.
        assert not committed.wait(0.5)
    thread.join(10)
    [commit] = result
    with engine.connect() as conn:
        assert set(v.read(conn, w.dataset, f"main@{commit.seq}", "instance")) == set(ids)


def test_a_bulk_stream_locks_the_branch_only_once_staged(engine: Engine) -> None:
    """Reading an import's input takes most of its time; other writers must not wait for it,
    and the import still sees their work when it applies (it lands in the same working state)."""
    with engine.begin() as conn:
        w = make_world(conn, "stream-lock")
    midway = threading.Event()
    other_done = threading.Event()
    defaults = KINDS[v.EntityType.INSTANCE].defaults

    def rows() -> Iterator[dict[str, Any]]:
        yield {**defaults, **w.box(), "entity_id": uuid.uuid4()}
        midway.set()
        assert other_done.wait(5), "a write waited for a stream still being staged"
        yield {**defaults, **w.box(), "entity_id": uuid.uuid4()}

    def other_writer() -> None:
        midway.wait(5)
        with engine.begin() as conn:
            v.create(conn, w.dataset, "main", "instance", [w.box()])
        other_done.set()

    thread = threading.Thread(target=other_writer)
    thread.start()
    with engine.begin() as conn:
        result = create_stream(conn, w.dataset, "main", "instance", rows())
    thread.join(10)
    assert result == BulkResult(2, 0)
    with engine.connect() as conn:
        assert len(v.read(conn, w.dataset, "main", "instance")) == 3
