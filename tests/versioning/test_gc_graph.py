"""gc and the commit graph: commits a live branch descends from stay for ancestry; their
states go when nothing needs them, and such a commit no longer resolves."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from tests.versioning.fixtures import World, make_world
from trainingdb import versioning as v


@pytest.fixture
def w(conn: Connection) -> World:
    return make_world(conn)


def test_gc_prunes_reachable_states_and_deletes_unreachable_commits(w: World) -> None:
    c = w.conn
    (one,) = v.create(c, w.dataset, "main", "instance", [w.box()])
    v.commit(c, w.dataset, "main")
    v.create_branch(c, w.dataset, "tmp", "main")
    v.update(c, w.dataset, "tmp", "instance", {one: {"x": 11.0}})
    first = v.commit(c, w.dataset, "tmp")  # an ancestor of what main merges: pruned
    v.update(c, w.dataset, "tmp", "instance", {one: {"x": 12.0}})
    merged = v.commit(c, w.dataset, "tmp")  # main merges it: kept whole
    v.update(c, w.dataset, "tmp", "instance", {one: {"x": 13.0}})
    after = v.commit(c, w.dataset, "tmp")  # nothing descends from it: deleted
    v.merge(c, w.dataset, merged.id.hex, "main")
    v.delete_branch(c, w.dataset, "tmp")
    report = v.gc(c, w.dataset)
    assert (report.commits, report.pruned, report.branches) == (1, 1, 0)
    with pytest.raises(v.NotFoundError, match="garbage collection freed its state"):
        v.resolve(c, w.dataset, first.id.hex)
    with pytest.raises(v.NotFoundError, match="no branch, tag or commit"):
        v.resolve(c, w.dataset, after.id.hex)
    assert w.instances(merged.id.hex)[one]["x"] == 12.0
    log = [x.id for x in v.log(c, w.dataset, "main")]
    assert first.id in log  # ancestry still walks through the pruned commit
    assert merged.id in log
    # The merged commit can still be a base: a branch made before the merge takes it later.
    assert v.merge_base(c, w.dataset, "main", merged.id.hex).id == merged.id
    assert v.gc(c, w.dataset) == v.GcReport()
