"""GraphQL types of batch jobs (imports, exports): their status, progress and errors.

Jobs are submitted by `trainingdb ingest ...` (and, with access control, by mutations) and run
by workers; clients poll `job(id)` or a dataset's `jobs` to follow them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Connection, Table, or_, select
from strawberry.scalars import JSON

from trainingdb.versioning.access.policy import DatasetAccess, Gate, principal_json
from trainingdb.versioning.errors import InvalidInputError, NotFoundError
from trainingdb.versioning.inputs import row_id
from trainingdb.versioning.jobs import submit
from trainingdb.versioning.models import Job, Role
from trainingdb.versioning.models.vocabulary import JobKind, JobStatus

from .filters.fields import INSTANCES
from .filters.query_language import parse_query
from .global_ids import Node

MAX_JOBS = 1000
JOBS: Table = Job.__table__  # type: ignore[assignment]


# The core's own enums, registered as GraphQL enums (values by member name: QUEUED ...).
strawberry.enum(JobStatus, description="Where a job is: waiting, being run by a worker, or ended.")
strawberry.enum(JobKind, description="What a job does.")


@strawberry.type(description="One input record a job could not use, and why.")
class JobError:
    record: str = strawberry.field(description="The file, line or record at fault.")
    message: str


@strawberry.type(description="A batch job: an import or export run by a worker.")
class BatchJob(Node):
    id: strawberry.ID
    dataset: str = strawberry.field(description="The dataset's name.")
    kind: JobKind
    status: JobStatus
    attempts: int = strawberry.field(description="Times a worker has claimed it.")
    total: int | None = strawberry.field(description="Records to process, once known.")
    done: int = strawberry.field(description="Records processed so far.")
    failed: int = strawberry.field(description="Records refused so far.")
    errors: list[JobError] = strawberry.field(description="The first refused records.")
    result: JSON | None = strawberry.field(description="What the job did, once succeeded.")
    message: str = strawberry.field(description="Why the job failed, if it did.")
    params: JSON
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @strawberry.field(
        description="For a finished export: a signed link to the file, valid for an hour "
        "(null otherwise, or when this server serves no blobs)."
    )
    def download(self, info: strawberry.Info) -> str | None:
        result: dict[str, Any] = self.result if isinstance(self.result, dict) else {}
        sha = result.get("sha256") if self.kind is JobKind.EXPORT else None
        links = info.context.links
        if sha is None or links is None:
            return None
        url: str = links.url(sha)
        return url

    @classmethod
    def from_row(cls, row: Any, dataset: str) -> BatchJob:
        return cls(
            id=strawberry.ID(str(row.id)),
            dataset=dataset,
            kind=JobKind(row.kind),
            status=JobStatus(row.status),
            attempts=row.attempts,
            total=row.total,
            done=row.done,
            failed=row.failed,
            errors=[
                JobError(record=str(e.get("record", "")), message=e["message"]) for e in row.errors
            ],
            result=row.result,
            message=row.message,
            params=row.params,
            created_by=row.created_by,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )


def _visible(access: DatasetAccess, gate: Gate) -> Any:
    """Jobs a principal sees in a dataset it reads: all of them for its admins, else its own
    team's (a job's parameters name refs the caller may not read)."""
    if access.dataset_role() is Role.ADMIN:
        return JOBS.c.dataset_id == access.dataset.id
    return (JOBS.c.dataset_id == access.dataset.id) & (
        JOBS.c.principal["team_id"].as_integer() == gate.principal.team_id
    )


def get_job(conn: Connection, gate: Gate, job_id: str) -> BatchJob:
    """The job `job_id` if the principal may see it; NOT_FOUND otherwise."""
    pk = row_id(job_id)
    if pk is None:
        raise InvalidInputError(f"job.id: {job_id!r} is not a job id")
    missing = NotFoundError(f"job {job_id} does not exist")
    found = conn.execute(select(JOBS.c.dataset_id).where(JOBS.c.id == pk)).scalar()
    if found is None:
        raise missing
    try:
        access = gate.dataset_by_id(conn, found)
    except NotFoundError:
        raise missing from None
    row = conn.execute(
        select(JOBS).where(JOBS.c.id == int(job_id), _visible(access, gate))
    ).one_or_none()
    if row is None:
        raise missing
    return BatchJob.from_row(row, access.dataset.name)


def jobs_by_ids(conn: Connection, gate: Gate, ids: Collection[int]) -> dict[int, BatchJob]:
    """The jobs among `ids` the principal may see (as `get_job` decides), by id: two statements
    and the gate's cached reads of each dataset's access."""
    homes = set(conn.execute(select(JOBS.c.dataset_id).where(JOBS.c.id.in_(list(ids)))).scalars())
    readable: list[DatasetAccess] = []
    for dataset_id in homes:
        with contextlib.suppress(NotFoundError):  # a dataset it may not read: none of its jobs
            readable.append(gate.dataset_by_id(conn, dataset_id))
    if not readable:
        return {}
    names = {access.dataset.id: access.dataset.name for access in readable}
    rows = conn.execute(
        select(JOBS).where(JOBS.c.id.in_(list(ids)), or_(*(_visible(a, gate) for a in readable)))
    )
    return {row.id: BatchJob.from_row(row, names[row.dataset_id]) for row in rows}


def dataset_jobs(
    conn: Connection,
    gate: Gate,
    access: DatasetAccess,
    status: list[JobStatus] | None,
    first: int,
) -> list[BatchJob]:
    """The dataset's jobs the principal may see, newest first, optionally of some statuses."""
    if not 1 <= first <= MAX_JOBS:
        raise InvalidInputError(f"jobs.first: between 1 and {MAX_JOBS}, not {first}")
    statement = (
        select(JOBS)
        .where(_visible(access, gate))
        .order_by(JOBS.c.created_at.desc(), JOBS.c.id.desc())
        .limit(first)
    )
    if status:
        statement = statement.where(JOBS.c.status.in_([s.value for s in status]))
    return [BatchJob.from_row(job, access.dataset.name) for job in conn.execute(statement)]


EXPORT_FORMATS = ("coco", "yolo", "jsonl", "parquet")


def submit_export(
    conn: Connection,
    gate: Gate,
    access: DatasetAccess,
    version: str | None,
    query: str | None,
    fmt: str,
    who: str,
) -> BatchJob:
    """A queued export job of a version the principal reads (checked: the version resolves, the
    query parses); the worker checks the submitter's rights again when it runs it."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInputError(f"format: {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
    ref = gate.version(conn, access.dataset.id, version or access.dataset.default_branch).ref
    if query:
        parse_query(query, INSTANCES)
    job = submit(
        conn,
        access.dataset.id,
        JobKind.EXPORT,
        {"version": ref, "format": fmt, "query": query},
        created_by=who,
        principal=principal_json(gate.principal),
    )
    return get_job(conn, gate, str(job.id))
