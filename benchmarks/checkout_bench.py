"""Checkout, update and streaming against a running server on this machine.

    python benchmarks/checkout_bench.py --files N [--instances M] [--repeat R] [--json]

Starts `trainingdb serve --with-worker --local-admin` on a fresh data directory (embedded
PostgreSQL), imports N small generated JPEGs (`trainingdb ingest media --run`) and M boxes
(default 20 per file) through the Python client, commits and tags `v1`. Then:

- `trainingdb checkout bench@v1 DIR --json` into an empty cache: checkout_files_per_s,
  checkout_instances_per_s, checkout_peak_mb (the command's peak resident memory);
- 1% more files (new images) and 5% of the boxes rescored, committed on main, then
  `trainingdb checkout --update DIR @main --json`: update_fetched_fraction (files fetched / files
  in the checkout: about 0.01, not 1.0), update_s;
- `TrainingSet(url, "bench", "v1")` iterated R times (default 2) in a child process with a warm
  cache: stream_instances_per_s (the best pass), stream_peak_mb.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from PIL import Image

if not __package__:  # run as `python benchmarks/checkout_bench.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import report
from benchmarks.graphql_bench import free_port
from trainingdb.client import Client, InstanceInput

TRAININGDB = str(Path(sys.executable).parent / "trainingdb")
LABELS = ("car", "person", "bike", "bus", "sign")


def jpeg(i: int) -> bytes:
    """A small JPEG whose bytes no other index shares."""
    image = Image.new("RGB", (64, 48), ((i * 37) % 256, (i * 11) % 256, (i // 256) % 256))
    image.putpixel((i % 64, (i // 64) % 48), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def images(folder: Path, first: int, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(first, first + count):
        (folder / f"img{i:07}.jpg").write_bytes(jpeg(i))


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [TRAININGDB, *args], capture_output=True, text=True, env=env, check=False, timeout=3600
    )
    if done.returncode != 0:
        raise RuntimeError(f"trainingdb {' '.join(args)}: {done.stderr[-2000:]}")
    return done.stdout


def measured(command: list[str], env: dict[str, str]) -> tuple[dict[str, Any], float, float]:
    """Run `command`; its last stdout line as JSON, its seconds and its peak RSS in MB."""
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = process.communicate()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {err.decode()[-2000:]}")
    return json.loads(out.decode().strip().splitlines()[-1]), seconds, peak / 2**20


STREAM = """
import json, sys, time, resource
from trainingdb.client.data import TrainingSet
ts = TrainingSet(sys.argv[1], "bench", "v1", cache=sys.argv[2])
best = None
for _ in range(int(sys.argv[3])):
    start, n = time.perf_counter(), 0
    for sample in ts:
        n += len(sample.instances)
    seconds = time.perf_counter() - start
    best = seconds if best is None else min(best, seconds)
print(json.dumps({"instances": n, "seconds": best,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def seed(url: str, env: dict[str, str], tmp: Path, files: int, boxes: int) -> Client:
    client = Client(url)
    client.create_dataset("bench")
    client.create_labels("bench", "main", list(LABELS))
    images(tmp / "media", 0, files)
    cli(env, "ingest", "media", "bench", str(tmp / "media"), "--run")
    ids = [f.id for f in client.files("bench")]
    rows = (
        InstanceInput(
            file_id=ids[i % len(ids)],
            kind="box",
            label=LABELS[i % len(LABELS)],
            x=float(i % 50),
            y=float(i % 40),
            w=8.0,
            h=6.0,
            score=(i % 100) / 100,
        )
        for i in range(boxes)
    )
    client.create_instances("bench", "main", rows)
    client.commit("bench", "main", "v1", author="bench")
    client.create_tag("bench", "v1", "main")
    return client


def change(client: Client, env: dict[str, str], tmp: Path, files: int, boxes: int) -> None:
    """1% more files, 5% of the boxes rescored, committed on main."""
    images(tmp / "more", files, max(1, files // 100))
    cli(env, "ingest", "media", "bench", str(tmp / "more"), "--run")
    some = [i.id for _, i in zip(range(boxes // 20), client.instances("bench"), strict=False)]
    client.update_instances("bench", "main", [{"id": i, "score": 0.5} for i in some])
    client.commit("bench", "main", "1% files, 5% boxes", author="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--instances", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    boxes = args.instances if args.instances is not None else args.files * 20
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        env = {**os.environ, "TRAININGDB_DATA_DIR": str(tmp / "data")}
        env.pop("TRAININGDB_DATABASE_URL", None)
        port = free_port()
        command = [TRAININGDB, "serve", "--with-worker", "--local-admin", "--port", str(port)]
        server = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    Client(url).datasets()
                    break
                except Exception:  # not up yet
                    time.sleep(0.2)
            start = time.perf_counter()
            client = seed(url, env, tmp, args.files, boxes)
            seeded_s = time.perf_counter() - start
            cache = str(tmp / "cache")
            out = str(tmp / "checkout")
            run = [TRAININGDB, "checkout", "bench@v1", out, "--server", url, "--json"]
            done, seconds, peak = measured([*run, "--cache", cache], env)
            change(client, env, tmp, args.files, boxes)
            update = [TRAININGDB, "checkout", "--update", out, "@main", "--json"]
            updated, update_s, update_peak = measured([*update, "--cache", cache], env)
            stream, _, _ = measured(
                [sys.executable, "-c", STREAM, url, cache, str(args.repeat)], env
            )
        finally:
            server.send_signal(signal.SIGINT)  # Ctrl-C: serve stops its embedded PostgreSQL
            server.wait(timeout=60)
    figures = {
        "files": args.files,
        "instances": boxes,
        "seed_s": round(seeded_s, 1),
        "checkout_s": round(seconds, 2),
        "checkout_files_per_s": round(done["files"] / seconds, 1),
        "checkout_instances_per_s": round(done["instances"] / seconds, 1),
        "checkout_fetched_bytes": done["fetched_bytes"],
        "checkout_peak_mb": round(peak, 1),
        "update_s": round(update_s, 2),
        "update_fetched_files": updated["fetched_files"],
        "update_fetched_fraction": round(updated["fetched_files"] / updated["files"], 4),
        "update_peak_mb": round(update_peak, 1),
        "stream_instances_per_s": round(stream["instances"] / stream["seconds"], 1),
        "stream_peak_mb": round(stream["peak_mb"], 1),
    }
    report(figures, args.json)


if __name__ == "__main__":
    main()
