"""Ingest and export figures: predictions imported by worker processes, read latency meanwhile.

    python benchmarks/ingest_bench.py --instances N [--workers W] [--format jsonl|coco]
        [--repeat R] [--json]

Starts an embedded PostgreSQL in a temporary folder unless TRAININGDB_DATABASE_URL is set, makes
a dataset of N/20 images (640x480) and 20 labels, and writes N predictions (20 per image) as W
files of the chosen format. Then, with `trainingdb serve` running as its own process:

- read_idle_ms: median of a 100-row filtered instances page over HTTP, nothing else running;
- instances_per_s: N over the time from submitting W import jobs (one per file) to the last
  one succeeding, with W `trainingdb worker` processes; worker_peak_mb: the largest resident
  memory any worker reached;
- read_loaded_ms: median of the same page while the imports run (the contract: within 2x idle);
- export_instances_per_s, export_peak_mb: `trainingdb export` of the N instances as COCO, as a
  process, and its peak resident memory.
"""

from __future__ import annotations

import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
from sqlalchemy import insert

if not __package__:  # run as `python benchmarks/ingest_bench.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import report
from benchmarks.graphql_bench import free_port
from trainingdb import versioning as v
from trainingdb.server.runtime import Runtime
from trainingdb.server.settings import Settings
from trainingdb.versioning import jobs
from trainingdb.versioning.models import Blob, JobKind, JobStatus

PER_IMAGE = 20
SHA = "e" * 64
TRAININGDB = str(Path(sys.executable).parent / "trainingdb")
PAGE = """{ dataset(name: "ingest") { instances(where: {label: {_eq: "label-3"}, score: {_gt: 0.5}},
  first: 100) { nodes { id score x y label { name } } } } }"""


def prepare(runtime: Runtime, instances: int) -> int:
    files = -(-instances // PER_IMAGE)
    with runtime.engine.begin() as conn:
        ds = v.create_dataset(conn, "ingest").id
        conn.execute(
            insert(Blob).values(
                dataset_id=ds, sha256=SHA, size=1, mime="image/jpeg", storage_key="k"
            )
        )
        v.create(conn, ds, "main", "label", [{"name": f"label-{i}"} for i in range(20)])
        for start in range(0, files, 50_000):
            v.create(
                conn,
                ds,
                "main",
                "file",
                [
                    {
                        "name": f"img/{i:08d}.jpg",
                        "blob_sha256": SHA,
                        "media_type": "image",
                        "width": 640,
                        "height": 480,
                    }
                    for i in range(start, min(files, start + 50_000))
                ],
            )
        v.commit(conn, ds, "main", "images", "bench")
    return ds


def predictions(image: int, rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "label": f"label-{rng.randrange(20)}",
            "bbox": [rng.randrange(580), rng.randrange(420), 60, 60],
            "score": round(rng.random(), 3),
        }
        for _ in range(PER_IMAGE)
    ]


def write_inputs(folder: Path, instances: int, parts: int, fmt: str) -> list[Path]:
    """`parts` files holding the N predictions between them, in `fmt`."""
    rng = random.Random(5)
    files = -(-instances // PER_IMAGE)
    paths = []
    for part in range(parts):
        images = range(part, files, parts)
        path = folder / f"part{part}.{'json' if fmt == 'coco' else 'jsonl'}"
        with path.open("wb") as out:
            if fmt == "jsonl":
                for i in images:
                    line = {"file": f"img/{i:08d}.jpg", "instances": predictions(i, rng)}
                    out.write(orjson.dumps(line) + b"\n")
            else:
                annotations: list[dict[str, Any]] = []
                for i in images:
                    for p in predictions(i, rng):
                        label = int(p["label"].split("-")[1])
                        annotations.append(
                            {
                                "id": len(annotations) + 1,
                                "image_id": i,
                                "category_id": label,
                                "bbox": p["bbox"],
                                "score": p["score"],
                            }
                        )
                document = {
                    "images": [
                        {"id": i, "file_name": f"img/{i:08d}.jpg", "width": 640, "height": 480}
                        for i in images
                    ],
                    "categories": [{"id": k, "name": f"label-{k}"} for k in range(20)],
                    "annotations": annotations,
                }
                out.write(orjson.dumps(document))
        paths.append(path)
    return paths


class PeakMemory(threading.Thread):
    """Samples the resident memory of some processes until stopped; the peak, in MB."""

    def __init__(self, processes: list[subprocess.Popen[str]]) -> None:
        super().__init__(daemon=True)
        self.watched = [psutil.Process(p.pid) for p in processes]
        self.peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            for process in self.watched:
                with contextlib.suppress(psutil.NoSuchProcess):
                    self.peak = max(self.peak, process.memory_info().rss)

    def stop(self) -> float:
        self.stopped.set()
        self.join()
        return round(self.peak / 2**20, 1)


def page_ms(client: httpx.Client) -> float:
    start = time.perf_counter()
    response = client.post("/graphql", json={"query": PAGE})
    response.raise_for_status()
    assert "errors" not in response.json(), response.text
    return (time.perf_counter() - start) * 1000


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--format", choices=["jsonl", "coco"], default="jsonl")
    parser.add_argument("--repeat", type=int, default=40, help="idle reads to take the median of")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Runtime.open(Settings.resolve(data_dir=Path(tmp) / "data")) as runtime,
    ):
        runtime.migrate()
        ds = prepare(runtime, args.instances)
        inputs = write_inputs(Path(tmp), args.instances, args.workers, args.format)
        url = runtime.url.render_as_string(hide_password=False)
        common = ["--database-url", url, "--blob-url", (Path(tmp) / "blobs").as_uri()]
        env = {**os.environ, "TRAININGDB_DATA_DIR": str(Path(tmp) / "data")}
        port = free_port()
        serve = [TRAININGDB, "serve", "--port", str(port), "--log-level", "warning"]
        server = subprocess.Popen(
            [*serve, "--local-admin", *common],
            env=env,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        workers: list[subprocess.Popen[str]] = []
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
            for _ in range(300):
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            for _ in range(5):
                page_ms(client)
            idle = statistics.median(page_ms(client) for _ in range(max(args.repeat, 1)))
            workers = [
                subprocess.Popen(
                    [TRAININGDB, "worker", "--poll", "0.05", *common],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
                for _ in range(args.workers)
            ]
            time.sleep(2)  # workers connected and polling
            memory = PeakMemory(workers)
            memory.start()
            start = time.perf_counter()
            with runtime.engine.begin() as conn:
                submitted = [
                    jobs.submit(
                        conn,
                        ds,
                        JobKind.IMPORT_ANNOTATIONS,
                        {
                            "path": str(path),
                            "format": args.format,
                            "source": "model",
                            "model_run": "bench",
                        },
                    ).id
                    for path in inputs
                ]
            loaded: list[float] = []
            while True:
                with runtime.engine.connect() as conn:
                    states = [jobs.get(conn, job_id) for job_id in submitted]
                if all(s is not None and s.status is JobStatus.SUCCEEDED for s in states):
                    break
                failed = [s for s in states if s is not None and s.status is JobStatus.FAILED]
                if failed:
                    raise RuntimeError(f"import failed: {failed[0].message} {failed[0].errors[:3]}")
                loaded.append(page_ms(client))
            elapsed = time.perf_counter() - start
            worker_peak = memory.stop()
            out = Path(tmp) / "export.json"
            export = subprocess.Popen(
                [TRAININGDB, "export", "ingest", str(out), "--format", "coco", *common],
                env=env,
                stdout=subprocess.DEVNULL,
                text=True,
            )
            export_memory = PeakMemory([export])
            export_memory.start()
            export_start = time.perf_counter()
            export.wait()
            export_elapsed = time.perf_counter() - export_start
            export_peak = export_memory.stop()
            assert export.returncode == 0
            export_mb = round(out.stat().st_size / 2**20, 1)
        finally:
            for process in [*workers, server]:
                process.terminate()
                process.wait(30)
    report(
        {
            "instances": args.instances,
            "workers": args.workers,
            "format": args.format,
            "instances_per_s": round(args.instances / elapsed),
            "worker_peak_mb": worker_peak,
            "read_idle_ms": round(idle, 2),
            "read_loaded_ms": round(statistics.median(loaded), 2) if loaded else None,
            "read_loaded_samples": len(loaded),
            "export_instances_per_s": round(args.instances / export_elapsed),
            "export_peak_mb": export_peak,
            "export_mb": export_mb,
        },
        args.json,
    )


if __name__ == "__main__":
    main()
