"""Reads through the client against a running server: datasets and refs, every page of a list
exactly once and one page at a time, filters, a diff between two commits, and `resolve`."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.client.conftest import BOXES, SIZES, Counting, Live
from trainingdb.client import NotFound, Where

pytestmark = pytest.mark.slow


def variables(counting: Counting) -> list[dict[str, object]]:
    return [json.loads(request.content)["variables"] for request in counting.requests]


def test_datasets_refs_and_labels(live: Live) -> None:
    with live.client() as client:
        # Other modules add branches and tags to `birds`: only the seeded ones are checked.
        names = [d.name for d in client.datasets()]
        assert names == sorted(names)
        assert {"birds", "hidden"} <= set(names)
        birds = client.dataset("birds")
        assert (birds.description, birds.default_branch) == ("client tests", "main")
        branches = [(b.name, b.head_seq) for b in client.branches("birds")]
        assert branches == sorted(branches)
        assert {("exp", 0), ("main", 2)} <= set(branches)
        tags = {tag.name: tag for tag in client.tags("birds")}
        assert tags["v1"].version == live.seeded.first.version
        log = [c.message for c in client.commits("birds")]
        assert log == ["rescore, prune, add", "25 boxes", "Dataset created"]
        first, root = client.commits("birds", "v1")
        assert first.id == live.seeded.first.id
        assert (first.parents, root.parents, root.version) == ((root.id,), (), "main@0")
        assert sorted(label.name for label in client.labels("birds", "v1")) == ["bird", "cat"]


def test_every_page_is_read_once_in_order_one_page_at_a_time(
    live: Live, counting: Counting
) -> None:
    with live.client(transport=counting) as client:
        rows = client.instances("birds", "v1", page_size=4)
        assert counting.requests == []  # nothing is sent before the first row is asked for
        head = [next(rows) for _ in range(4)]
        assert len(counting.requests) == 1
        head.append(next(rows))
        assert len(counting.requests) == 2  # the second page, only once the first is used up
        ids = [row.id for row in head] + [row.id for row in rows]
        whole = [row.id for row in client.instances("birds", "v1")]
    assert ids == whole == sorted(live.seeded.boxes)  # by id, each once
    sent = variables(counting)[:7]
    assert [v["first"] for v in sent] == [4] * 7  # 25 rows: six full pages and one of one
    assert sent[0]["after"] is None
    assert all(v["after"] for v in sent[1:])
    assert len(counting.requests) == 8  # the 7 pages, then the one-page read of `whole`


def test_instances_carry_their_fields(live: Live) -> None:
    with live.client() as client:
        by_id = {i.id: i for i in client.instances("birds", "v1", page_size=10)}
    seven = by_id[live.seeded.boxes[7]]
    assert (seven.kind, seven.label, seven.x, seven.w, seven.score) == (
        "box",
        "cat",
        7.0,
        4.0,
        0.28,
    )
    assert (seven.attributes, seven.source, seven.version) == ({"i": 7}, "human", "v1")
    assert seven.file_id == live.seeded.files["b.png"]
    assert seven.frame_number is None


def test_filters_where_and_query(live: Live) -> None:
    boxes = live.seeded.boxes
    high = {boxes[i] for i in range(BOXES) if i / BOXES > 0.5}
    high_birds = {boxes[i] for i in range(BOXES) if i / BOXES > 0.5 and i % 2 == 0}
    with live.client() as client:

        def ids(where: Where | None = None, query: str | None = None) -> set[str]:
            found = client.instances("birds", "v1", where=where, query=query, page_size=5)
            return {row.id for row in found}

        assert ids(where={"score": {"_gt": 0.5}}) == high
        assert ids(query="score > 0.5") == high
        assert ids(where={"score": {"_gt": 0.5}}, query="label = 'bird'") == high_birds
        assert ids(where={"attributes": {"path": ["i"], "_in": [3, 4]}}) == {boxes[3], boxes[4]}
        ordered = client.instances(
            "birds", "v1", order_by=[{"field": "SCORE", "direction": "DESC"}], page_size=3
        )
        assert [row.id for row in ordered] == boxes[::-1]
        a_only = client.files("birds", query="labels.bird >= 5 and width < 45", page_size=1)
        assert [f.name for f in a_only] == ["a.png"]


def test_files_and_their_bytes(live: Live, tmp_path: object) -> None:
    with live.client() as client:
        files = list(client.files("birds", "v1", order_by=[{"field": "NAME"}], page_size=2))
        assert [(f.name, f.width, f.height) for f in files] == [(n, *s) for n, s in SIZES.items()]
        a = files[0]
        data = (live.media / "a.png").read_bytes()
        assert (a.sha256, a.media_type) == (hashlib.sha256(data).hexdigest(), "image")
        assert a.url is not None
        got = client.download(a.url, live.media.parent / "got" / "a.png")
    assert got.read_bytes() == data


def test_diff_between_two_commits_pages_by_cursor(live: Live, counting: Counting) -> None:
    seeded = live.seeded
    with live.client(transport=counting) as client:
        changes = list(client.diff("birds", "v1", seeded.second.id, page_size=2))
    assert len(counting.requests) == 5  # 9 changes, 2 a page
    assert [c.entity_id for c in changes] == sorted(c.entity_id for c in changes)
    assert {(c.change, c.entity_id) for c in changes} == {
        *(("modified", i) for i in seeded.rescored),
        *(("removed", i) for i in seeded.deleted),
        *(("added", i) for i in seeded.added),
    }
    modified = next(c for c in changes if c.entity_id == seeded.rescored[1])
    assert modified.kind == "instance"
    assert modified.before is not None
    assert modified.after is not None
    assert (modified.before["score"], modified.after["score"]) == (0.04, 0.99)


def test_resolve_names_a_commit(live: Live) -> None:
    first, second = live.seeded.first, live.seeded.second
    with live.client() as client:
        assert client.resolve("birds", "main") == second  # a branch: its last commit
        assert client.resolve("birds", "v1") == first
        assert client.resolve("birds", first.id) == first
        assert client.resolve("birds", first.id[:8].upper()) == first
        assert client.resolve("birds", "main@1") == first
        assert client.resolve("birds", "exp") == first  # forked at v1, no commit of its own
        root = client.resolve("birds", "main@0")  # the dataset's root commit
        assert (root.parents, root.generation, first.parents) == ((), 0, (root.id,))
        with pytest.raises(NotFound) as unknown:
            client.resolve("birds", "nope")
    assert "nope" in unknown.value.message
