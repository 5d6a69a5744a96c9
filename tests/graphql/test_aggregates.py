"""Aggregates (`instanceStats`) against counts computed in Python from the engine's reads and the
reference filter evaluator, at every version of the test world; one statement per field."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine

from trainingdb import versioning as v
from trainingdb.graphql_schema.filters.fields import INSTANCES
from trainingdb.graphql_schema.filters.query_language import parse_query

from .execute import run, statements
from .reference import State, matching
from .world import REFS, build, state

STATS = """
query($version: String, $query: String) {
  dataset(name: "filters") {
    instanceStats(version: $version, query: $query) {
      count
      byLabel { labelId name count }
      byKind { value count }
      bySource { value count }
      byFrame(first: 10000) { fileId frameNumber count }
      scoreHistogram(buckets: 4) { lower upper count }
      areaHistogram(buckets: 3) { lower upper count }
    }
  }
}"""


@pytest.fixture(scope="module")
def world(engine: Engine) -> dict[str, State]:
    with engine.begin() as conn:
        dataset = build(conn)
    with engine.connect() as conn:
        return {ref: state(conn, dataset, ref) for ref in REFS}


def histogram(values: list[float], lo: float, hi: float, n: int) -> list[dict[str, Any]]:
    counts = Counter(
        1 if hi == lo else min(math.floor((x - lo) / (hi - lo) * n) + 1, n) for x in values
    )
    step = (hi - lo) / n
    return [
        {
            "lower": pytest.approx(lo + step * (i - 1)),
            "upper": pytest.approx(hi if i == n else lo + step * i),
            "count": counts[i],
        }
        for i in range(1, n + 1)
    ]


@pytest.mark.parametrize("text", [None, "score > 0.3", "label = 'car' and frame_number >= 5"])
@pytest.mark.parametrize("ref", REFS)
def test_stats_count_what_the_version_holds(
    world: dict[str, State], engine: Engine, ref: str, text: str | None
) -> None:
    st = world[ref]
    chosen = matching(st, INSTANCES, parse_query(text or "true", INSTANCES)) if text else None
    rows = [r for r in st.rows["instances"] if chosen is None or r["entity_id"] in chosen]
    names = {r["entity_id"]: r["name"] for r in st.rows["labels"]}
    with statements(engine) as seen:
        out = run(engine, STATS, version=ref, query=text)
    assert "errors" not in out, out
    assert len(seen) == 2 + 7  # dataset, version, then one statement per aggregate
    stats = out["data"]["dataset"]["instanceStats"]

    assert stats["count"] == len(rows)
    labels = Counter(r["label_entity_id"] for r in rows)
    assert {(uuid.UUID(x["labelId"]), x["name"], x["count"]) for x in stats["byLabel"]} == {
        (label, names[label], n) for label, n in labels.items()
    }
    assert [x["count"] for x in stats["byLabel"]] == sorted(labels.values(), reverse=True)
    assert {x["value"]: x["count"] for x in stats["byKind"]} == Counter(r["kind"] for r in rows)
    assert {x["value"]: x["count"] for x in stats["bySource"]} == Counter(r["source"] for r in rows)
    frames = Counter(
        (str(r["file_entity_id"]), r["frame_number"]) for r in rows if r["frame_number"] is not None
    )
    assert [(x["fileId"], x["frameNumber"], x["count"]) for x in stats["byFrame"]] == sorted(
        (f, n, k) for (f, n), k in frames.items()
    )
    scores = [r["score"] for r in rows if r["score"] is not None]
    assert stats["scoreHistogram"] == histogram(scores, 0.0, 1.0, 4)
    areas = [r["area"] for r in rows if r["area"] is not None]
    expected = histogram(areas, min(areas), max(areas), 3) if areas else []
    assert stats["areaHistogram"] == expected


def test_stats_of_nothing_are_empty(world: dict[str, State], engine: Engine) -> None:
    out = run(engine, STATS, query="score > 2")
    stats = out["data"]["dataset"]["instanceStats"]
    assert stats["count"] == 0
    assert stats["byLabel"] == stats["byKind"] == stats["byFrame"] == []
    assert [b["count"] for b in stats["scoreHistogram"]] == [0, 0, 0, 0]
    assert stats["areaHistogram"] == []


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("scoreHistogram(buckets: 0) { count }", "between 1 and 1000 buckets, not 0"),
        ("byFrame(first: 0) { count }", "byFrame.first: between 1 and 10000, not 0"),
        ('byFrame(file: "x") { count }', "byFrame.file: 'x' is not an entity id"),
    ],
)
def test_bad_aggregate_arguments(
    world: dict[str, State], engine: Engine, field: str, message: str
) -> None:
    out = run(engine, '{ dataset(name: "filters") { instanceStats { ' + field + " } } }")
    (error,) = out["errors"]
    assert error["code"] == "BAD_USER_INPUT"
    assert message in error["message"]


def test_a_dataset_is_found_by_id_or_name(world: dict[str, State], engine: Engine) -> None:
    with engine.connect() as conn:
        ds = v.get_dataset(conn, "filters")
    by_id = run(engine, "query($id: ID!) { dataset(id: $id) { name } }", id=str(ds.id))
    assert by_id["data"] == {"dataset": {"name": "filters"}}
    for document, code in [
        ('{ dataset(id: "999999") { name } }', "NOT_FOUND"),
        ('{ dataset(id: "x") { name } }', "BAD_USER_INPUT"),
        ("{ dataset { name } }", "BAD_USER_INPUT"),
        ('{ dataset(id: "1", name: "filters") { name } }', "BAD_USER_INPUT"),
    ]:
        (error,) = run(engine, document)["errors"]
        assert error["code"] == code, document
