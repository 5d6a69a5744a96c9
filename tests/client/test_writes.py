"""Writes through the client against a running server: bulk instance writes in batches (one
mutation each, ids in input order), a failing batch that says which input rows it held, and
commit, branch, tag and merge."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.client.conftest import Counting, Live
from trainingdb.client import InstanceInput, InvalidInput
from trainingdb.client.writes import InstanceRow

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Prediction:
    """A caller's own dataclass with InstanceInput's field names."""

    file_id: str
    kind: str
    label: str
    score: float
    source: str = "model"
    model_run: str = "r1"


def test_bulk_writes_go_in_batches(live: Live, counting: Counting) -> None:
    a = live.seeded.files["a.png"]
    rows: list[InstanceRow] = []
    for i in range(23):
        if i % 3 == 0:
            rows.append(Prediction(a, "classification", "bird", i / 100))
        elif i % 3 == 1:
            rows.append(InstanceInput(file_id=a, kind="box", label="cat", x=i, y=0, w=2, h=2))
        else:
            rows.append(
                {"fileId": a, "kind": "polygon", "label": "bird", "x": 0, "y": 0, "w": i, "h": i,
                 "points": [[0, 0], [i, 0], [i, i]]}
            )  # fmt: skip
    with live.client(transport=counting) as client:
        client.create_branch("birds", "bulk", from_="v1")
        before = len(counting.requests)
        ids = client.create_instances("birds", "bulk", iter(rows), batch_size=5)
        assert len(counting.requests) - before == 5  # 23 rows: 5 + 5 + 5 + 5 + 3
        assert len(set(ids)) == 23
        made = {r.id: r for r in client.instances("birds", "bulk", where={"id": {"_in": ids}})}
        assert set(made) == set(ids)
        first, second, third = (made[i] for i in ids[:3])
        assert (first.source, first.model_run, first.score) == ("model", "r1", 0.0)
        assert (second.kind, second.label, second.x) == ("box", "cat", 1.0)
        assert (third.kind, third.points) == ("polygon", [[0, 0], [2, 0], [2, 2]])

        before = len(counting.requests)
        updated = client.update_instances(
            "birds", "bulk", [{"id": i, "trackId": "t"} for i in ids], batch_size=10
        )
        deleted = client.delete_instances("birds", "bulk", ids[:7], batch_size=3)
        assert len(counting.requests) - before == 3 + 3
        assert (updated, deleted) == (ids, ids[:7])
        left = {
            row.id: row
            for row in client.instances("birds", "bulk", where={"trackId": {"_eq": "t"}})
        }
    assert set(left) == set(ids[7:])


def test_a_failing_batch_names_its_rows_and_leaves_the_earlier_ones(live: Live) -> None:
    c = live.seeded.files["c.png"]
    rows = [{"fileId": c, "kind": "classification", "label": "bird"} for _ in range(9)]
    rows[7] = {**rows[7], "label": "dragon"}
    with live.client() as client:
        client.create_branch("birds", "partial", from_="v1")
        with pytest.raises(InvalidInput) as refused:
            client.create_instances("birds", "partial", rows, batch_size=5)
        assert refused.value.code == "BAD_USER_INPUT"
        assert "#2: label: no label named 'dragon'" in refused.value.message
        assert refused.value.__notes__ == [
            "createInstances: this batch held input rows 5 to 8 (add 5 to a row number in the "
            "message); the 5 rows before it are written to 'partial''s working state"
        ]
        written = list(
            client.instances(
                "birds", "partial", where={"fileId": {"_eq": c}, "kind": {"_eq": "classification"}}
            )
        )
    assert len(written) == 5


def test_commit_branch_tag_and_merge(live: Live) -> None:
    b = live.seeded.files["b.png"]
    with live.client() as client:
        branch = client.create_branch("birds", "feature", from_="main")
        assert (branch.name, branch.head_seq) == ("feature", 0)
        (made,) = client.create_instances(
            "birds", "feature", [InstanceInput(file_id=b, kind="classification", label="cat")]
        )
        commit = client.commit("birds", "feature", "a cat", author="ada")
        assert (commit.version, commit.author, commit.merged_from) == ("feature@1", "ada", None)
        tag = client.create_tag("birds", "feature-v1", "feature", message="first cat")
        assert (tag.version, tag.message) == ("feature@1", "first cat")
        client.create_branch("birds", "target", from_="main")
        result = client.merge("birds", "feature-v1", "target", author="ada")
        assert result.merged
        assert result.changes == 1
        assert result.conflicts == ()
        assert result.commit is not None
        assert result.commit.merged_from == "feature@1"
        assert made in {row.id for row in client.instances("birds", "target")}
