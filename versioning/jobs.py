"""jobs: the queue of batch jobs (models/jobs.py): submit, claim with a lease, renew it,
report progress, finish or fail.

Claiming is `SELECT ... FOR UPDATE SKIP LOCKED` on the oldest claimable job (queued, or running
with a lease that has passed): any number of workers on any number of machines take distinct
jobs without waiting for each other. A lease rather than a lock held for the whole job, so that
progress and errors can be written (and read by clients) while the job runs; `finish` checks the
lease in the same transaction as the job's data, so a worker that lost its job to another (it
stalled past its lease) cannot also apply it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, text, update

from .errors import InvalidInputError
from .events import job_changed
from .models import Job, JobKind, JobStatus

MAX_ERRORS = 1000  # record errors kept per job; `failed` counts them all
CREATED_BY_LIMIT = 200  # the column's width (models/jobs.py)


class LeaseLost(RuntimeError):
    """The job is no longer this worker's: its lease passed and another worker claimed it."""


@dataclass(frozen=True, slots=True)
class JobRow:
    id: int
    dataset_id: int
    kind: JobKind
    params: dict[str, Any]
    status: JobStatus
    attempts: int
    max_attempts: int
    worker: str | None
    total: int | None
    done: int
    failed: int
    errors: list[dict[str, Any]]
    result: dict[str, Any] | None
    message: str
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    principal: dict[str, Any]  # whom it acts for (access.policy.principal_json)


_COLUMNS = (
    Job.id,
    Job.dataset_id,
    Job.kind,
    Job.params,
    Job.status,
    Job.attempts,
    Job.max_attempts,
    Job.worker,
    Job.total,
    Job.done,
    Job.failed,
    Job.errors,
    Job.result,
    Job.message,
    Job.created_by,
    Job.created_at,
    Job.started_at,
    Job.finished_at,
    Job.principal,
)


def _row(values: Any) -> JobRow:
    row = dict(values._mapping)
    row["kind"], row["status"] = JobKind(row["kind"]), JobStatus(row["status"])
    return JobRow(**row)


def submit(
    conn: Connection,
    dataset_id: int,
    kind: JobKind,
    params: dict[str, Any],
    *,
    created_by: str = "",
    max_attempts: int = 3,
    principal: dict[str, Any] | None = None,
) -> JobRow:
    """submit: a queued job acting for `principal` (None: the operator); visible to workers
    when the caller's transaction commits."""
    if len(created_by) > CREATED_BY_LIMIT:
        raise InvalidInputError(
            f"author is {len(created_by):,} characters long; at most {CREATED_BY_LIMIT} are allowed"
        )
    values = conn.execute(
        insert(Job)
        .values(
            dataset_id=dataset_id,
            kind=kind.value,
            params=params,
            created_by=created_by,
            max_attempts=max_attempts,
            **({} if principal is None else {"principal": principal}),
        )
        .returning(*_COLUMNS)
    ).one()
    made = _row(values)
    job_changed(conn, made.dataset_id, made.id)
    return made


def get(conn: Connection, job_id: int) -> JobRow | None:
    """The job `job_id`, or None."""
    values = conn.execute(select(*_COLUMNS).where(Job.id == job_id)).one_or_none()
    return None if values is None else _row(values)


def claim(engine: Engine, worker: str, lease_seconds: float) -> JobRow | None:
    """claim: the oldest claimable job, now running under `worker`'s lease; None if none.

    A job whose lease passed `max_attempts` times is failed here instead: its worker died each
    time (out of memory, killed), and trying again would die again.
    """
    while True:
        with engine.begin() as conn:
            found = conn.execute(
                select(Job.dataset_id, Job.id, Job.attempts, Job.max_attempts)
                .where(
                    or_(
                        Job.status == JobStatus.QUEUED.value,
                        and_(Job.status == JobStatus.RUNNING.value, Job.lease_until < func.now()),
                    )
                )
                .order_by(Job.created_at, Job.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).one_or_none()
            if found is None:
                return None
            key = and_(Job.dataset_id == found.dataset_id, Job.id == found.id)
            if found.attempts < found.max_attempts:
                values = conn.execute(
                    update(Job)
                    .where(key)
                    .values(
                        status=JobStatus.RUNNING.value,
                        worker=worker,
                        attempts=Job.attempts + 1,
                        lease_until=func.now() + _seconds(lease_seconds),
                        started_at=func.coalesce(Job.started_at, func.now()),
                    )
                    .returning(*_COLUMNS)
                ).one()
                job_changed(conn, found.dataset_id, found.id)
                return _row(values)
            conn.execute(
                update(Job)
                .where(key)
                .values(
                    status=JobStatus.FAILED.value,
                    worker=None,
                    lease_until=None,
                    finished_at=func.now(),
                    message=f"gave up after {found.attempts} attempts: each worker stopped "
                    "before finishing (killed, or out of memory)",
                )
            )
            job_changed(conn, found.dataset_id, found.id)


def _seconds(seconds: float) -> Any:
    return text("make_interval(secs => :lease)").bindparams(lease=seconds)


def _mine(job: JobRow, worker: str) -> Any:
    return and_(
        Job.dataset_id == job.dataset_id,
        Job.id == job.id,
        Job.worker == worker,
        Job.status == JobStatus.RUNNING.value,
    )


def renew(engine: Engine, job: JobRow, worker: str, lease_seconds: float) -> bool:
    """renew: extend the lease; False if the job is no longer this worker's."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(Job)
            .where(_mine(job, worker))
            .values(lease_until=func.now() + _seconds(lease_seconds))
        ).rowcount
    return bool(changed)


def progress(
    engine: Engine,
    job: JobRow,
    worker: str,
    *,
    total: int | None = None,
    done: int | None = None,
    failed: int | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> None:
    """progress: counts (and the first record errors) clients see while the job runs."""
    values: dict[str, Any] = {}
    if total is not None:
        values["total"] = total
    if done is not None:
        values["done"] = done
    if failed is not None:
        values["failed"] = failed
    if errors is not None:
        values["errors"] = errors[:MAX_ERRORS]
    if not values:
        return
    with engine.begin() as conn:
        changed = conn.execute(update(Job).where(_mine(job, worker)).values(**values)).rowcount
        if changed:
            job_changed(conn, job.dataset_id, job.id)
    if not changed:
        raise LeaseLost(f"job {job.id} is no longer claimed by {worker}")


def finish(
    conn: Connection,
    job: JobRow,
    worker: str,
    result: dict[str, Any],
    **counts: Any,
) -> None:
    """finish: mark the job succeeded with its final `counts` (total, done, failed, errors), in
    the caller's transaction (the one applying its data); LeaseLost if the job is no longer this
    worker's, so that transaction rolls back."""
    if "errors" in counts:
        counts["errors"] = counts["errors"][:MAX_ERRORS]
    changed = conn.execute(
        update(Job)
        .where(_mine(job, worker))
        .values(
            status=JobStatus.SUCCEEDED.value,
            result=result,
            lease_until=None,
            finished_at=func.now(),
            **counts,
        )
    ).rowcount
    if not changed:
        raise LeaseLost(f"job {job.id} is no longer claimed by {worker}")
    job_changed(conn, job.dataset_id, job.id)


def fail(
    engine: Engine,
    job: JobRow,
    worker: str,
    message: str,
    errors: list[dict[str, Any]] | None = None,
    **counts: Any,
) -> None:
    """fail: the job ended without applying anything; `message` says why, `counts` (total,
    done) how far it got."""
    values: dict[str, Any] = {
        "status": JobStatus.FAILED.value,
        "message": message,
        "lease_until": None,
        "finished_at": func.now(),
        **counts,
    }
    if errors is not None:
        values["errors"] = errors[:MAX_ERRORS]
        values["failed"] = len(errors)
    with engine.begin() as conn:
        if conn.execute(update(Job).where(_mine(job, worker)).values(**values)).rowcount:
            job_changed(conn, job.dataset_id, job.id)
