"""Issue 9's "done when" for subscriptions: `jobProgress` delivers a job's progress, written by a
`trainingdb worker` process, to a WebSocket client of a `trainingdb serve` process; the two meet
only in PostgreSQL (LISTEN/NOTIFY)."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine

from tests.clirun import TRAININGDB, environment, run, serving
from tests.ingest.test_ingest_cli import image, settings
from trainingdb import versioning as v

from .wsclient import socket

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

PROGRESS = """subscription ($id: ID!) {
  jobProgress(id: $id) { id status done failed total result }
}"""


async def test_a_worker_s_progress_reaches_a_subscriber_of_the_server(
    engine: Engine, database_url: URL, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        v.create_dataset(conn, "live-media")
    folder = tmp_path / "media"
    for i in range(120):
        image(folder / f"{i:03}.png", (8 + i % 7, 8))
    submitted = run(
        "ingest", "media", "live-media", str(folder), "--no-wait", *settings(database_url, tmp_path)
    )
    assert submitted.returncode == 0, submitted.stderr
    job_id = re.search(r"job (\d+)", submitted.stdout + submitted.stderr)
    assert job_id is not None, submitted.stdout
    url = database_url.render_as_string(hide_password=False)
    env = environment()
    with serving("serve", "--database-url", url, "--local-admin", env=env) as server:
        ws_url = server.url.replace("http://", "ws://") + "/graphql"
        async with socket(ws_url) as client:
            sid = await client.subscribe(PROGRESS, id=job_id.group(1))
            first = (await client.next_data(sid))["jobProgress"]
            assert first["status"] == "QUEUED"
            worker = subprocess.Popen(
                [TRAININGDB, "worker", "--poll", "0.1", *settings(database_url, tmp_path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            try:
                seen = [first]
                async for message in client.messages(sid, timeout=60):
                    if message["type"] == "complete":
                        break
                    assert message["type"] == "next", message
                    seen.append(message["payload"]["data"]["jobProgress"])
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.communicate(timeout=30)
    statuses = [s["status"] for s in seen]
    assert statuses[-1] == "SUCCEEDED", seen
    assert statuses == sorted(statuses, key=["QUEUED", "RUNNING", "SUCCEEDED"].index), statuses
    dones = [s["done"] for s in seen]
    assert dones == sorted(dones)
    assert seen[-1]["done"] == 120
    assert seen[-1]["result"]["created"] == 120
    assert len(seen) >= 3, seen  # queued, at least one report while running, the end
