"""Versioning contract figures (DESIGN.md section 5) on a generated dataset of N instances.

    python benchmarks/versioning_bench.py --instances N [--repeat R] [--json]

Starts an embedded PostgreSQL in a temporary folder unless TRAININGDB_DATABASE_URL is set,
generates the dataset (benchmarks/generate.py), then prints medians over R repeats of:
branch_ms, tag_ms, commit_ms (must be flat in N); read_head_ms, read_old_ms, read_branch3_ms
(a 100-row page of one label's instances with score > 0.5 in entity order, at main's head, at
an old commit of main, and at the head of branch c, three deep; old and branch reads should be
within 2x of head); diff_10k_ms (a diff of 10k changed instances, consumed whole: flat in N);
merge_10k_ms (a three-way merge bringing 10k changes into a branch that changed 100 others).

    python benchmarks/versioning_bench.py ... [--commits 1000,10000,100000] [--engine-commits E]

Then, for each size C of --commits, a commit history of C commits in a dataset of its own: 50
branches, merges in every direction, branches made from old commits (benchmarks/commit_graph.py:
the last E commits, 5,000 by default, through the engine; any before them in bulk, laid out as
the engine lays them out). Figures per size, each name ending in the size (_1k, _10k, _100k):
graph_build_s (wall time of the build), graph_bulk_s (the bulk part of it),
graph_engine_commits, graph_merges, graph_branches, graph_generations; then over 101 calls
each, not R: merge_base_ms (`v.merge_base` between two random heads, the typical merge: at most
50 ms at 100k, flat in C), merge_base_old_tag_ms (a random head and a tag of the commit 1,000
commits before the last), log100_ms (`v.log(..., limit=100)` at a random head); for each of
the three also _p95_ms, _sql_ms (median time inside its statements), _statements and
_statements_max (statements per call, counted by a before_cursor_execute listener); and
merge_base_depth, merge_base_depth_max (generations from the lower head down to the base). The
largest size's merge_base_ms, merge_base_old_tag_ms, log100_ms and merge_base_statements are
printed again without the suffix.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

if not __package__:  # run as `python benchmarks/versioning_bench.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import commit_graph
from benchmarks.common import generated, report
from benchmarks.generate import GeneratedDataset, present
from trainingdb import versioning as v
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import resolve
from trainingdb.versioning.visibility import visible

INSTANCE = KINDS[EntityType.INSTANCE].table


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def page_query(engine: Engine, ds: GeneratedDataset, ref: str) -> Callable[[], Any]:
    with engine.connect() as conn:
        version = resolve(conn, ds.dataset_id, ref)
    query = (
        select(INSTANCE.c.entity_id, INSTANCE.c.score, INSTANCE.c.x, INSTANCE.c.y)
        .where(
            visible(INSTANCE, version),
            INSTANCE.c.label_entity_id == ds.labels[3],
            INSTANCE.c.score > 0.5,
        )
        .order_by(INSTANCE.c.entity_id)
        .limit(100)
    )

    def run() -> None:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
            assert len(rows) == 100, len(rows)

    return run


def changed_branch(
    engine: Engine, ds: GeneratedDataset, name: str, changes: int, seed: int
) -> None:
    """Branch `name` off main with `changes` instances updated, committed."""
    rng = random.Random(seed)
    with engine.begin() as conn:
        v.create_branch(conn, ds.dataset_id, name, "main")
        wanted = {ds.random_instance(rng) for _ in range(changes * 2)}
        ids = sorted(present(conn, ds, name, wanted))[:changes]
        v.update(conn, ds.dataset_id, name, "instance", {eid: {"x": 999.0} for eid in ids})
        v.commit(conn, ds.dataset_id, name, f"{changes} changes", "bench")


def measure(engine: Engine, ds: GeneratedDataset, repeat: int, prefix: str = "") -> dict[str, Any]:
    """The figures; branch and tag names start with `prefix` (to measure a dataset again)."""
    figures: dict[str, Any] = {}
    samples: dict[str, list[float]] = {k: [] for k in ("branch", "tag", "commit")}
    for i in range(repeat):
        with engine.begin() as conn:
            samples["branch"].append(
                timed(partial(v.create_branch, conn, ds.dataset_id, f"{prefix}x{i}", "main"))
            )
        with engine.begin() as conn:
            samples["tag"].append(
                timed(partial(v.create_tag, conn, ds.dataset_id, f"{prefix}tag{i}", "main"))
            )
        with engine.begin() as conn:
            v.update(
                conn,
                ds.dataset_id,
                f"{prefix}x{i}",
                "label",
                {ds.labels[0]: {"description": str(i)}},
            )
            samples["commit"].append(
                timed(partial(v.commit, conn, ds.dataset_id, f"{prefix}x{i}", "c", "bench"))
            )
    for key, values in samples.items():
        figures[f"{key}_ms"] = median_ms(values)
    for key, ref in (("read_head", "main"), ("read_old", "main@5"), ("read_branch3", "c")):
        read = page_query(engine, ds, ref)
        read()  # warm the cache: every figure is a warm read
        figures[f"{key}_ms"] = median_ms([timed(read) for _ in range(max(repeat, 5))])
    diffs, merges = [], []
    for i in range(repeat):
        changed_branch(engine, ds, f"{prefix}d{i}", 10_000, seed=100 + i)
        with engine.connect() as conn:
            count = 0

            def consume(name: str = f"{prefix}d{i}") -> None:
                nonlocal count
                count = sum(1 for _ in v.diff(conn, ds.dataset_id, "main", name))

            diffs.append(timed(consume))
            assert count >= 9_000, count
        changed_branch(engine, ds, f"{prefix}t{i}", 100, seed=200 + i)
        with engine.begin() as conn:
            merges.append(
                timed(
                    partial(
                        v.merge, conn, ds.dataset_id, f"{prefix}d{i}", f"{prefix}t{i}", "theirs"
                    )
                )
            )
    figures["diff_10k_ms"] = median_ms(diffs)
    figures["merge_10k_ms"] = median_ms(merges)
    return figures


UNSUFFIXED = ("merge_base_ms", "merge_base_old_tag_ms", "log100_ms", "merge_base_statements")


def measure_graphs(engine: Engine, sizes: list[int], engine_commits: int) -> dict[str, Any]:
    """The commit-graph figures of each size (module docstring), largest last."""
    figures: dict[str, Any] = {}
    for size in sorted(sizes):
        label = commit_graph.size_label(size)
        history = commit_graph.build(engine, size, f"graph-{label}", engine_commits)
        graph = history.graph
        figures |= {
            f"graph_build_s_{label}": round(history.build_s, 1),
            f"graph_bulk_s_{label}": round(history.bulk_s, 1),
            f"graph_engine_commits_{label}": history.engine_commits,
            f"graph_merges_{label}": history.merges,
            f"graph_branches_{label}": len(graph.branches),
            f"graph_generations_{label}": max(graph.generation),
        }
        measured = commit_graph.measure(engine, history, f"_{label}")
        figures |= measured
    if sizes:
        figures |= {key: measured[f"{key}_{label}"] for key in UNSUFFIXED}
    return figures


def commit_sizes(value: str) -> list[int]:
    """`1000,10000,100000` -> [1000, 10000, 100000]; empty: no commit graph."""
    sizes = {int(part) for part in value.split(",") if part.strip()}
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError("every size must be a positive number of commits")
    return sorted(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--commits",
        type=commit_sizes,
        default=[1_000, 10_000, 100_000],
        help="commit-graph sizes, comma separated (default 1000,10000,100000)",
    )
    parser.add_argument(
        "--engine-commits",
        type=int,
        default=commit_graph.ENGINE_COMMITS,
        help="the last commits of each graph written through the engine (default 5000)",
    )
    args = parser.parse_args()
    with generated(args.instances) as (rt, ds, setup):
        figures = measure(rt.engine, ds, args.repeat)
        figures |= measure_graphs(rt.engine, args.commits, args.engine_commits)
    head = {k: setup.pop(k) for k in ("instances", "generate_s")}
    report({**head, **figures, **setup}, args.json)


if __name__ == "__main__":
    main()
