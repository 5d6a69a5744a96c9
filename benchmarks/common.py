"""What every benchmark script shares: a PostgreSQL to run on, the generated dataset, and how
figures are printed."""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.generate import GeneratedDataset, generate
from trainingdb.server.runtime import Runtime
from trainingdb.server.settings import Settings


def arguments(doc: str, repeat: int, **flags: str) -> argparse.Namespace:
    """--instances N, --repeat R and --json, described by the script's docstring, and the
    script's own on/off `flags` (name: help)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--json", action="store_true")
    for name, help in flags.items():
        parser.add_argument(f"--{name}", action="store_true", help=help)
    return parser.parse_args()


@contextmanager
def generated(instances: int) -> Iterator[tuple[Runtime, GeneratedDataset, dict[str, Any]]]:
    """An embedded PostgreSQL in a temporary folder (or TRAININGDB_DATABASE_URL's), migrated,
    holding a generated dataset of `instances`, analyzed; with the figures of that setup."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        Runtime.open(Settings.resolve(data_dir=Path(tmp))) as rt,
    ):
        rt.migrate()
        start = time.perf_counter()
        ds = generate(rt.engine, instances)
        generated_s = time.perf_counter() - start
        with rt.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
            version = conn.scalar(text("SHOW server_version"))
        yield (
            rt,
            ds,
            {
                "instances": instances,
                "generate_s": round(generated_s, 1),
                "postgres_version": version,
                "machine": f"{platform.machine()} {platform.system()} {platform.release()}, "
                f"CPython {platform.python_version()}",
            },
        )


def report(figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:<18} {value}")


def run(
    doc: str, repeat: int, measure: Callable[[Runtime, GeneratedDataset, int], dict[str, Any]]
) -> None:
    """A benchmark script's main: generate the dataset, measure it, print the figures."""
    args = arguments(doc, repeat)
    with generated(args.instances) as (rt, ds, setup):
        figures = measure(rt, ds, args.repeat)
    head = {k: setup.pop(k) for k in ("instances", "generate_s")}
    report({**head, **figures, **setup}, args.json)
