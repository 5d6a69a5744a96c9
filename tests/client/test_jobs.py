"""Jobs through the client against a running server with a batch worker: an export queued,
followed to its end and downloaded; a failing import raises JobFailed with the job's errors; a
forged link is refused."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from tests.client.conftest import BOXES, Live
from tests.clirun import cli
from trainingdb.client import Forbidden, Job, JobFailed

pytestmark = pytest.mark.slow


def test_export_wait_and_download(live: Live, tmp_path: Path) -> None:
    seen: list[Job] = []
    with live.client() as client:
        queued = client.export("birds", "v1", "jsonl", query="label = 'bird'")
        assert (queued.kind, queued.dataset, queued.download) == ("EXPORT", "birds", None)
        done = client.wait(queued, poll=0.1, timeout=60, on_progress=seen.append)
        path = client.download(done, tmp_path / "out" / "birds.jsonl")
    assert seen[-1] == done
    assert done.status == "SUCCEEDED"
    assert done.ended
    assert len({(j.status, j.done) for j in seen}) == len(seen)  # only changes are reported
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    exported = [i for line in lines for i in line["instances"]]
    birds = len(range(0, BOXES, 2))
    assert len(exported) == done.result["instances"] == birds
    assert {i["label"] for i in exported} == {"bird"}
    assert [p.name for p in path.parent.iterdir()] == ["birds.jsonl"]  # no temporary left


def test_waiting_on_a_failing_job_raises_job_failed(live: Live, tmp_path: Path) -> None:
    junk = tmp_path / "junk.png"
    junk.write_text("not an image")
    out = cli(live.env, "ingest", "media", "birds", str(junk), "--no-wait")
    found = re.search(r"job (\S+) submitted", out)
    assert found, out
    with live.client() as client, pytest.raises(JobFailed) as failed:
        client.wait(found.group(1), poll=0.1, timeout=60)
    job = failed.value.job
    assert (failed.value.code, job.status, job.kind, job.failed) == (
        "JOB_FAILED", "FAILED", "IMPORT_MEDIA", 1,
    )  # fmt: skip
    assert "nothing was imported" in job.message
    assert job.errors[0].record == str(junk)
    assert "not a readable image" in job.errors[0].message


def test_a_forged_link_is_refused_and_leaves_no_file(live: Live, tmp_path: Path) -> None:
    with live.client() as client:
        (a,) = client.files("birds", where={"name": {"_eq": "a.png"}})
        assert a.url is not None
        forged = re.sub(r"signature=[0-9a-f]+", "signature=" + "0" * 64, a.url)
        with pytest.raises(Forbidden) as refused:
            client.download(forged, tmp_path / "a.png")
    assert refused.value.status == 403
    assert "signature=" not in refused.value.message  # a link's secret stays out of messages
    assert list(tmp_path.iterdir()) == []
