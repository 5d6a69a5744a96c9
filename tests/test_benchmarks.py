"""The benchmark scripts run as documented and print every figure they promise (on a tiny
dataset; the figures themselves are recorded in docs/BENCHMARKS.md, never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import environment

ROOT = Path(__file__).resolve().parent.parent

GRAPHQL_FIGURES = {
    "page100_ms",
    "page100_p95_ms",
    "page10k_ms",
    "relfilter_ms",
    "aggregate_ms",
    "old_page100_ms",
    "entities1k_ms",
    "node100_ms",
}
SCRIPTS = {
    # One commit graph of 300 commits, all through the engine.
    "versioning_bench.py --commits 300": (
        20_000,
        {
            "branch_ms",
            "tag_ms",
            "commit_ms",
            "read_head_ms",
            "read_old_ms",
            "read_branch3_ms",
            "diff_10k_ms",
            "merge_10k_ms",
            "graph_build_s_300",
            "merge_base_ms",
            "merge_base_old_tag_ms",
            "log100_ms",
            "merge_base_statements",
        },
    ),
    "ingest_bench.py": (
        2_000,
        {
            "instances_per_s",
            "worker_peak_mb",
            "read_idle_ms",
            "read_loaded_ms",
            "export_instances_per_s",
            "export_peak_mb",
        },
    ),
    "import_phases.py": (
        2_000,
        {
            "validate_us",
            "format_us",
            "stage_s",
            "apply_s",
            "import_per_s",
            "insert_floor_per_s",
            "insert_heap_only_per_s",
            "bulk_index_per_s",
        },
    ),
    "graphql_bench.py": (5_000, GRAPHQL_FIGURES),
    # Every request with a key whose team may read refs `main` only.
    "graphql_bench.py --auth": (5_000, GRAPHQL_FIGURES),
    "auth_overhead.py": (
        5_000,
        {
            f"{case}_{figure}"
            for case in ("page100", "page10k", "old_page100")
            for figure in ("open_ms", "auth_ms")
        },
    ),
    # 100 files, and --instances boxes over them.
    "checkout_bench.py --files 100": (
        2_000,
        {
            "checkout_files_per_s",
            "checkout_instances_per_s",
            "checkout_peak_mb",
            "update_fetched_fraction",
            "update_peak_mb",
            "stream_instances_per_s",
            "stream_peak_mb",
        },
    ),
    "subscription_latency.py": (
        500,
        {"notify1_ms", "notify1_p95_ms", "notify100_ms", "notify100_p95_ms"},
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_script_prints_its_figures(script: str) -> None:
    instances, figures = SCRIPTS[script]
    path, *flags = script.split()
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / path),
            *flags,
            "--instances",
            str(instances),
            "--repeat",
            "1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment(),
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    assert printed["instances"] == instances
    assert figures <= set(printed)
    # read_loaded_ms may be None: a tiny import can end before a read is made during it.
    assert all(printed[f] is None or printed[f] > 0 for f in figures)
    assert all(printed[f] is not None for f in figures - {"read_loaded_ms"})
