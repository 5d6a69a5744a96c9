"""How long a commit takes to reach `refUpdated` subscribers, over real WebSockets.

    python benchmarks/subscription_latency.py --instances N [--repeat R] [--json]

Generates the GraphQL benchmark's dataset (benchmarks/generate.py), starts `trainingdb serve`
on it, and opens S subscriptions to `refUpdated` (S = 1 and 100, each on its own WebSocket, all
with the API key of a team that may read refs `main` only, so every event takes the per-event
access check). Then commits on `main`, R x 10 times one after the other, from this process, and
times from the moment each commit returned until each subscriber has the update:

- notify1_ms / notify1_p95_ms: median and 95th percentile with one subscriber;
- notify100_ms / notify100_p95_ms: the same for the last of 100 subscribers to hear it.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

if not __package__:  # run as `python benchmarks/subscription_latency.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import arguments, generated, report
from benchmarks.graphql_bench import ref_scoped_key, server
from trainingdb import versioning as v
from trainingdb.server.runtime import Runtime
from trainingdb.versioning.models import Dataset

SUBSCRIBE = "subscription ($ds: String!) { refUpdated(dataset: $ds) { change version } }"


async def subscriber(url: str, key: str, dataset: str) -> ClientConnection:
    """A socket with one refUpdated subscription in place (the server has answered a ping
    sent after it, and graphql-transport-ws handles a socket's messages in order)."""
    ws = await connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], proxy=None)
    await ws.send(orjson.dumps({"type": "connection_init", "payload": {"x-api-key": key}}).decode())
    assert orjson.loads(await ws.recv())["type"] == "connection_ack"
    payload = {"query": SUBSCRIBE, "variables": {"ds": dataset}}
    await ws.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}).decode())
    await ws.send(orjson.dumps({"type": "ping"}).decode())
    assert orjson.loads(await ws.recv())["type"] == "pong"
    return ws


async def heard(ws: ClientConnection, version: str, timeout: float = 60) -> float:
    """When `ws` received the update naming `version` (skipping earlier ones)."""
    while True:
        message = orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] != "next":
            raise RuntimeError(f"subscription: {message}")
        update = message["payload"]["data"]["refUpdated"]
        if update["version"] == version:
            return time.perf_counter()


def commit(rt: Runtime, ds_id: int) -> tuple[str, float]:
    """A commit on main: the version it made, and when it returned."""
    with rt.engine.begin() as conn:
        made = v.commit(conn, ds_id, "main", "bench")
    return f"main@{made.seq}", time.perf_counter()


async def live(rt: Runtime, ds_id: int, sockets: list[ClientConnection]) -> None:
    """Commit until every socket hears of it: the protocol says nothing when a subscription
    starts listening, a moment after `subscribe`."""
    for _ in range(100):
        version, _ = await asyncio.to_thread(commit, rt, ds_id)
        try:
            await asyncio.gather(*(heard(ws, version, timeout=1.0) for ws in sockets))
            return
        except TimeoutError:
            continue
    raise RuntimeError("the subscriptions never went live")


async def latencies(
    rt: Runtime, ds_id: int, sockets: list[ClientConnection], commits: int
) -> list[float]:
    """Seconds from each commit's return until the last socket heard of it."""
    found = []
    for _ in range(commits):
        version, committed = await asyncio.to_thread(commit, rt, ds_id)
        found.append(max(await asyncio.gather(*(heard(ws, version) for ws in sockets))) - committed)
    return found


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(len(values) * 0.95) - 1)]


async def measure(rt: Runtime, ds_id: int, base: str, key: str, repeat: int) -> dict[str, Any]:
    with rt.engine.connect() as conn:
        name = str(conn.scalar(select(Dataset.name).where(Dataset.id == ds_id)))
    url = base.replace("http://", "ws://") + "/graphql"
    figures: dict[str, Any] = {}
    for count in (1, 100):
        sockets = [await subscriber(url, key, name) for _ in range(count)]
        try:
            await live(rt, ds_id, sockets)
            await latencies(rt, ds_id, sockets, 3)  # warm-up
            found = await latencies(rt, ds_id, sockets, repeat * 10)
        finally:
            for ws in sockets:
                await ws.close()
        figures[f"notify{count}_ms"] = round(statistics.median(found) * 1000, 2)
        figures[f"notify{count}_p95_ms"] = round(p95(found) * 1000, 2)
    return figures


def main() -> None:
    args = arguments(__doc__, 5)
    with generated(args.instances) as (rt, ds, setup):
        with rt.engine.connect() as conn:
            name = str(conn.scalar(select(Dataset.name).where(Dataset.id == ds.dataset_id)))
        key = ref_scoped_key(rt, name)
        with server(rt.url.render_as_string(hide_password=False), local_admin=False) as base:
            figures = asyncio.run(measure(rt, ds.dataset_id, base, key, args.repeat))
    head = {k: setup.pop(k) for k in ("instances", "generate_s")}
    report({**head, **figures, **setup}, args.json)


if __name__ == "__main__":
    main()
