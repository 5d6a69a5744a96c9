"""Jobs run with their submitter's rights as they are when a worker runs them: a key revoked or
a grant withdrawn after the job was queued stops it; an allowed job's result is audited under
the submitter's name."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.graphql.execute import run_as
from trainingdb import versioning as v
from trainingdb.server.blobs.local import LocalBlobStore
from trainingdb.server.jobs.kinds import HANDLERS
from trainingdb.server.jobs.worker import Worker
from trainingdb.versioning import jobs
from trainingdb.versioning.access import audit, grants, identities, keys
from trainingdb.versioning.access.principal import Principal

_numbers = itertools.count()
EXPORT = 'mutation($ds: String!) { exportDataset(dataset: $ds, format: "jsonl") { id } }'


@pytest.fixture
def worker(engine: Engine, tmp_path: Path) -> Worker:
    return Worker(engine, LocalBlobStore(tmp_path / "blobs"), HANDLERS, name="rights")


def submitted(engine: Engine) -> tuple[str, str, str]:
    """A dataset, a team key that may read it, and the id of an export that key queued."""
    n = next(_numbers)
    dataset, team = f"jr{n}", f"jt{n}"
    with engine.begin() as conn:
        v.create_dataset(conn, dataset)
        found = identities.create_team(conn, team)
        grants.set_grant(conn, team, dataset, "viewer")
        made = keys.create_key(conn, team=team)
    who = Principal(found.id, team, None, None, False, f"key:{made.row.prefix}")
    out = run_as(engine, who, EXPORT, ds=dataset)
    assert "errors" not in out, out
    return dataset, made.row.prefix, str(out["data"]["exportDataset"]["id"])


def status(engine: Engine, job_id: str) -> tuple[str, str]:
    with engine.connect() as conn:
        job = jobs.get(conn, int(job_id))
    assert job is not None
    return job.status, job.message


def test_an_allowed_job_runs_and_is_audited_as_its_submitter(
    engine: Engine, worker: Worker
) -> None:
    dataset, prefix, job_id = submitted(engine)
    worker.run_once()
    assert status(engine, job_id) == ("succeeded", "")
    with engine.connect() as conn:
        events = audit.events(conn, dataset_id=v.get_dataset(conn, dataset).id)
    assert [(e.action, e.credential) for e in events] == [
        ("export job", f"key:{prefix}"),
        ("export", f"key:{prefix}"),
    ]


def test_a_key_revoked_after_queueing_stops_the_job(engine: Engine, worker: Worker) -> None:
    _, prefix, job_id = submitted(engine)
    with engine.begin() as conn:
        keys.revoke_key(conn, prefix)
    worker.run_once()
    state, message = status(engine, job_id)
    assert state == "failed"
    assert message.startswith("UNAUTHENTICATED: ")


def test_a_grant_withdrawn_after_queueing_stops_the_job(engine: Engine, worker: Worker) -> None:
    dataset, _, job_id = submitted(engine)
    with engine.begin() as conn:
        (grant,) = grants.list_grants(conn, dataset=dataset)
        grants.revoke_grant(conn, grant.team, dataset)
        dataset_id = v.get_dataset(conn, dataset).id
    worker.run_once()
    assert status(engine, job_id) == ("failed", f"NOT_FOUND: no dataset has id {dataset_id}")
