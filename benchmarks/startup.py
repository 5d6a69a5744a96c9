"""Start-up figures of the single-command setup: what `trainingdb demo` costs a new user.

Prints, for a fresh data directory: embedded PostgreSQL cold start (initdb + start), migration
to head, demo load, then a warm start on the same directory, and the latency of the example
GraphQL query through the real ASGI app (in process, httpx).

    python benchmarks/startup.py [--queries 300]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from trainingdb.server.app import create_app
from trainingdb.server.demo.load import load_demo
from trainingdb.server.runtime import Runtime
from trainingdb.server.settings import Settings

QUERY = "{ datasets { name description branches { name headSeq } } }"


def timed(label: str, start: float) -> float:
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {elapsed * 1000:9.1f} ms")
    return elapsed


async def query_latency(runtime: Runtime, count: int) -> list[float]:
    transport = httpx.ASGITransport(app=create_app(runtime.engine))
    samples = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _ in range(count):
            start = time.perf_counter()
            response = await client.post("/graphql", json={"query": QUERY})
            samples.append(time.perf_counter() - start)
            response.raise_for_status()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.resolve(data_dir=Path(tmp) / "data", environ={})
        start = time.perf_counter()
        with Runtime.open(settings) as runtime:
            timed("cold start (initdb + start + create db)", start)
            start = time.perf_counter()
            runtime.migrate()
            timed("migrate empty -> head", start)
            start = time.perf_counter()
            summary = load_demo(runtime.engine, runtime.blobs)
            timed(f"demo load ({summary.files} files, {summary.instances} instances)", start)
        start = time.perf_counter()
        with Runtime.open(settings) as runtime:
            timed("warm start (existing data directory)", start)
            samples = asyncio.run(query_latency(runtime, args.queries))
    samples.sort()
    print(
        f"example query over ASGI, {len(samples)} runs: "
        f"median {statistics.median(samples) * 1000:.2f} ms, "
        f"p95 {samples[int(len(samples) * 0.95)] * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
