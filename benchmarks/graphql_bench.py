"""GraphQL API figures over HTTP, against the real server, on a generated dataset of N instances.

    python benchmarks/graphql_bench.py --instances N [--repeat R] [--auth] [--json]

Starts an embedded PostgreSQL in a temporary folder unless TRAININGDB_DATABASE_URL is set,
generates the dataset (benchmarks/generate.py: 20 labels, images with 20 boxes each, videos with
frame-level tracks, 30 commits of edits on main, tags), then starts `trainingdb serve` (uvicorn,
one worker) as a separate process on that database and times HTTP requests from a keep-alive
client, reading each response body whole. Prints medians (and p95 for the 100-row page) of:

- page100_ms: 100 instances of one label with score > 0.5, 8 fields including the label's name;
- page10k_ms: 10,000 instances with 8 scalar fields (id fileId frameNumber labelId kind score x y);
- relfilter_ms: 100 files having at least 5 instances scored > 0.8 (a to-many count filter);
- aggregate_ms: instance counts by label over the whole version;
- old_page100_ms: the 100-row page at an old commit of main (`main@5`);
- entities1k_ms: federation `_entities` with 1,000 mixed representations (instances at the
  head, instances at `main@5` and at a tag, files, labels) selecting a few fields each;
- node100_ms: Relay `nodes(ids:)` with 100 mixed global ids (the same mix, plus a commit and
  the dataset) selecting the same fields.

Without --auth the server runs with `--local-admin` (the benchmark's loopback requests carry no
credentials and cost no check). With --auth every request carries an API key of a team whose
only grant is viewer on refs `main`: each request looks the key up, reads the team's grants and
checks the version against them (`main@5` is readable as an ancestor of `main`).
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from strawberry.relay import GlobalID

if not __package__:  # run as `python benchmarks/graphql_bench.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import arguments, generated, report
from benchmarks.generate import GeneratedDataset, file_id, label_id
from trainingdb import versioning as v
from trainingdb.server.runtime import Runtime
from trainingdb.versioning.access import grants, identities, keys
from trainingdb.versioning.models import Dataset

PAGE100 = """
query Page($ds: String!, $version: String) {
  dataset(name: $ds) {
    instances(version: $version, where: {label: {_eq: "label-3"}, score: {_gt: 0.5}},
              first: 100) {
      pageInfo { hasNextPage endCursor }
      nodes { id fileId frameNumber kind score x y label { name } }
    }
  }
}"""
PAGE10K = """
query Big($ds: String!) {
  dataset(name: $ds) {
    instances(first: 10000) { nodes { id fileId frameNumber labelId kind score x y } }
  }
}"""
RELFILTER = """
query Busy($ds: String!) {
  dataset(name: $ds) {
    files(query: "count instances(score > 0.8) >= 5", first: 100) { nodes { id name } }
  }
}"""
ENTITIES = """
query Entities($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Instance { id version kind score label { name } }
    ... on File { id name width }
    ... on Label { id name }
  }
}"""
NODES = """
query Nodes($ids: [ID!]!) {
  nodes(ids: $ids) {
    nodeId
    ... on Instance { id version kind score label { name } }
    ... on File { id name width }
    ... on Label { id name }
    ... on Commit { id version message }
    ... on Dataset { id name }
  }
}"""
AGGREGATE = """
query Counts($ds: String!) {
  dataset(name: $ds) { instanceStats { byLabel { name count } } }
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def server(database_url: str, local_admin: bool = True) -> Iterator[str]:
    """`trainingdb serve` on `database_url` in its own process (`--local-admin` unless told
    otherwise); its base URL once ready."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trainingdb.server",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--database-url",
            database_url,
            *(["--local-admin"] if local_admin else []),
        ],
        env={**os.environ, "TRAININGDB_DATA_DIR": tempfile.mkdtemp()},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            time.sleep(0.1)
        else:
            raise RuntimeError("the server did not become ready in 30 s")
        yield base
    finally:
        process.terminate()
        process.wait(10)


def timings(
    client: httpx.Client, document: str, repeat: int, partial: bool = False, **variables: Any
) -> list[float]:
    """Seconds per request (response read whole), after one warm-up request; with `partial`,
    errors beside data are expected (keys of instances deleted since)."""
    samples: list[float] = []
    for i in range(repeat + 1):
        start = time.perf_counter()
        response = client.post("/graphql", json={"query": document, "variables": variables})
        body = response.content
        elapsed = time.perf_counter() - start
        response.raise_for_status()
        result = json.loads(body)
        if result.get("errors") and not (partial and result.get("data")):
            raise RuntimeError(result["errors"])
        if i:
            samples.append(elapsed)
    return samples


def ms(value: float) -> float:
    return round(value * 1000, 2)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def representations(ds: GeneratedDataset, n: int = 1000) -> list[dict[str, Any]]:
    """`n` mixed federation keys into the generated dataset: instances at the head (60%), at
    `main@5` and at a tag (20%), files (10%) and labels (10%)."""
    rng = random.Random(7)
    tag = ds.tags[0] if ds.tags else "main@5"
    found: list[dict[str, Any]] = []
    for _ in range(n):
        pick = rng.random()
        if pick < 0.6:
            found.append({"__typename": "Instance", "id": str(ds.random_instance(rng))})
        elif pick < 0.8:
            version = rng.choice(("main@5", tag))
            instance = str(ds.random_instance(rng))
            found.append({"__typename": "Instance", "id": instance, "version": version})
        elif pick < 0.9:
            found.append({"__typename": "File", "id": str(file_id(rng.randrange(ds.files)))})
        else:
            label = str(label_id(rng.randrange(len(ds.labels))))
            found.append({"__typename": "Label", "id": label})
    return found


def node_ids(rt: Runtime, ds: GeneratedDataset, n: int = 100) -> list[str]:
    """`n` Relay global ids into the generated dataset: `representations`' mix at `main` (an
    instance or file global id names its version), one commit (`main@5`'s) and the dataset."""
    with rt.engine.connect() as conn:
        (commit,) = v.log(conn, ds.dataset_id, "main@5", 1)
    ids = [str(GlobalID("Commit", commit.id.hex)), str(GlobalID("Dataset", str(ds.dataset_id)))]
    for rep in representations(ds, n - len(ids)):
        rest = rep["id"]
        if rep["__typename"] in {"Instance", "File"}:
            rest += "@" + rep.get("version", "main")
        ids.append(str(GlobalID(rep["__typename"], rest)))
    return ids


def measure(
    base: str,
    dataset: str,
    repeat: int,
    key: str | None = None,
    reps: list[dict[str, Any]] | None = None,
    ids: list[str] | None = None,
) -> dict[str, Any]:
    headers = {} if key is None else {"authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=120, headers=headers) as client:
        page = timings(client, PAGE100, repeat * 4, ds=dataset)
        figures: dict[str, Any] = {
            "page100_ms": ms(statistics.median(page)),
            "page100_p95_ms": ms(p95(page)),
            "page10k_ms": ms(statistics.median(timings(client, PAGE10K, repeat, ds=dataset))),
            "relfilter_ms": ms(statistics.median(timings(client, RELFILTER, repeat, ds=dataset))),
            "aggregate_ms": ms(statistics.median(timings(client, AGGREGATE, repeat, ds=dataset))),
            "old_page100_ms": ms(
                statistics.median(
                    timings(client, PAGE100, repeat * 4, ds=dataset, version="main@5")
                )
            ),
        }
        if reps is not None:
            figures["entities1k_ms"] = ms(
                statistics.median(timings(client, ENTITIES, repeat, partial=True, r=reps))
            )
        if ids is not None:
            figures["node100_ms"] = ms(
                statistics.median(timings(client, NODES, repeat * 4, partial=True, ids=ids))
            )
        size = client.post(
            "/graphql", json={"query": PAGE10K, "variables": {"ds": dataset}}
        ).content
        figures["page10k_bytes"] = len(size)
    return figures


def ref_scoped_key(rt: Runtime, dataset: str) -> str:
    """An API key of a team that may read refs `main` of `dataset` only."""
    with rt.engine.begin() as conn:
        identities.create_team(conn, "bench-readers")
        grants.set_grant(conn, "bench-readers", dataset, "viewer", "main")
        return keys.create_key(conn, team="bench-readers").key


def measure_over_http(
    rt: Runtime, ds: GeneratedDataset, repeat: int, auth: bool = False
) -> dict[str, Any]:
    with rt.engine.connect() as conn:
        name = str(conn.scalar(select(Dataset.name).where(Dataset.id == ds.dataset_id)))
    key = ref_scoped_key(rt, name) if auth else None
    with server(rt.url.render_as_string(hide_password=False), local_admin=not auth) as base:
        figures = measure(base, name, repeat, key, representations(ds), node_ids(rt, ds))
        return {"auth": auth, **figures}


def main() -> None:
    args = arguments(__doc__, 10, auth="Requests carry an API key with a ref-scoped grant.")
    with generated(args.instances) as (rt, ds, setup):
        figures = measure_over_http(rt, ds, args.repeat, args.auth)
    head = {k: setup.pop(k) for k in ("instances", "generate_s")}
    report({**head, **figures, **setup}, args.json)


if __name__ == "__main__":
    main()
