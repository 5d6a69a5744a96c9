"""What authentication and the access policy add to a request, measured side by side.

    python benchmarks/auth_overhead.py --instances N [--repeat R] [--json]

Generates the GraphQL benchmark's dataset (benchmarks/generate.py), then starts two
`trainingdb serve` processes on it: one with `--local-admin` (requests carry no credential and
cost no check), one requiring keys. Requests alternate between the two, in turn order swapped
every round, so drift of the machine falls on both alike; the keyed requests carry an API key
of a team whose only grant is viewer on refs `main`. Prints the medians of each, and the
overhead in percent, for:

- page100: 100 instances of one label with score > 0.5 (graphql_bench's page100);
- page10k: 10,000 instances with 8 scalar fields (graphql_bench's page10k);
- old_page100: page100 at `main@5`, readable as an ancestor of `main`.

`graphql_bench.py --auth` runs its whole set with a key; two runs one after the other differ by
more than the overhead itself, which is why this script interleaves.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

if not __package__:  # run as `python benchmarks/auth_overhead.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import arguments, generated, report
from benchmarks.graphql_bench import PAGE10K, PAGE100, ref_scoped_key, server
from trainingdb.versioning.models import Dataset

CASES = (
    ("page100", PAGE100, None, 20),
    ("page10k", PAGE10K, None, 4),
    ("old_page100", PAGE100, "main@5", 20),
)


def interleaved(
    clients: dict[str, httpx.Client], document: str, rounds: int, **variables: Any
) -> dict[str, float]:
    """Median seconds per request of each client, alternating, after a warm-up round."""
    samples: dict[str, list[float]] = {name: [] for name in clients}
    order = list(clients)
    for i in range(rounds + 1):
        for name in order if i % 2 else reversed(order):
            start = time.perf_counter()
            response = clients[name].post(
                "/graphql", json={"query": document, "variables": variables}
            )
            body = response.content
            elapsed = time.perf_counter() - start
            if response.status_code != 200 or b'"errors"' in body[:200]:
                raise RuntimeError(f"{name}: {response.status_code} {body[:300]!r}")
            if i:
                samples[name].append(elapsed)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    args = arguments(__doc__, 10)
    with generated(args.instances) as (rt, ds, setup):
        with rt.engine.connect() as conn:
            name = str(conn.scalar(select(Dataset.name).where(Dataset.id == ds.dataset_id)))
        key = ref_scoped_key(rt, name)
        url = rt.url.render_as_string(hide_password=False)
        figures: dict[str, Any] = {}
        with server(url, local_admin=True) as open_base, server(url, local_admin=False) as keyed:
            clients = {
                "open": httpx.Client(base_url=open_base, timeout=120),
                "auth": httpx.Client(
                    base_url=keyed, timeout=120, headers={"authorization": f"Bearer {key}"}
                ),
            }
            for case, document, version, per_repeat in CASES:
                extra = {} if version is None else {"version": version}
                found = interleaved(clients, document, args.repeat * per_repeat, ds=name, **extra)
                figures[f"{case}_open_ms"] = round(found["open"] * 1000, 2)
                figures[f"{case}_auth_ms"] = round(found["auth"] * 1000, 2)
                figures[f"{case}_overhead_pct"] = round(
                    (found["auth"] / found["open"] - 1) * 100, 1
                )
            for client in clients.values():
                client.close()
    head = {k: setup.pop(k) for k in ("instances", "generate_s")}
    report({**head, **figures, **setup}, args.json)


if __name__ == "__main__":
    main()
