"""Subscriptions (graphql-transport-ws at /graphql): a job's progress and a dataset's ref moves,
as they are committed by any process (versioning/events.py, through the server's event hub).

Each event is only a name (versioning/events.py rule 2): for every one, the subscriber's access
is checked afresh — its key still live, its grants read again — and what it may read is read
then. A subscriber who loses access gets NOT_FOUND and the stream ends; an event on a ref it may
not read is never sent.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from sqlalchemy import Connection

from trainingdb.versioning import commits
from trainingdb.versioning.access.policy import DatasetAccess, renewed_gate
from trainingdb.versioning.errors import InvalidInputError, UnavailableError
from trainingdb.versioning.events import RefChange, RefEvent, job_topic, ref_topic
from trainingdb.versioning.inputs import row_id
from trainingdb.versioning.models.vocabulary import JobStatus

from .context import Context, EventSource, run_read
from .jobs import BatchJob, get_job
from .versions import Commit

strawberry.enum(RefChange, description="What happened to a ref.")

ENDED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


@strawberry.type(
    description="A ref of a dataset moved: a commit, merge or revert on a branch, "
    "or a branch or tag made or deleted."
)
class RefUpdate:
    dataset: str = strawberry.field(description="The dataset's name.")
    change: RefChange
    ref: str = strawberry.field(description="The branch or tag.")
    version: str = strawberry.field(
        description="`branch@seq`: the committed state the ref names now (for a deleted ref, "
        "the one it named)."
    )
    commit: Commit | None = strawberry.field(
        description="The commit made, for COMMIT, MERGE and REVERT."
    )
    at: datetime | None = strawberry.field(description="When the commit was made.")


def _events(context: Context) -> EventSource:
    if context.events is None:
        raise UnavailableError("this server does not stream events")
    return context.events


def _job_id(id: strawberry.ID) -> int:
    pk = row_id(id)
    if pk is None:
        raise InvalidInputError(f"jobProgress.id: {id!r} is not a job id")
    return pk


def _ref_update(conn: Connection, access: DatasetAccess, event: RefEvent) -> RefUpdate | None:
    """The update `event` tells, if the principal may read the ref; else None."""
    branch = access.branches.get(event.branch_id)
    if branch is None:
        return None
    if event.change in (RefChange.TAG_CREATED, RefChange.TAG_DELETED):
        readable = access.tag_readable(conn, event.ref, event.branch_id, event.seq)
    else:
        readable = access.branch_readable(branch)
    if not readable:
        return None
    commit = None
    if event.commit_id is not None:
        found = commits.by_ids(conn, [uuid.UUID(event.commit_id)])
        commit = Commit.from_row(found[0], access.branches) if found else None
    return RefUpdate(
        dataset=access.dataset.name,
        change=event.change,
        ref=event.ref,
        version=f"{branch.name}@{event.seq}",
        commit=commit,
        at=commit.created_at if commit else None,
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A job as it runs: its state now, then again each time a worker reports "
        "progress or it changes status (at most twice a second), until it has ended."
    )
    async def job_progress(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> AsyncGenerator[BatchJob, None]:
        context, job_id = info.context, _job_id(id)
        principal = context.gate.principal

        def read(conn: Connection) -> BatchJob:
            return get_job(conn, renewed_gate(conn, principal), str(job_id))

        async with _events(context).listen(job_topic(job_id)) as stream:
            # Read after listening: a change between the two is seen twice, never missed.
            job = await run_read(context.engine, read)
            yield job
            while job.status not in ENDED:
                await stream.next()
                latest = await run_read(context.engine, read)
                if latest != job:
                    job = latest
                    yield job

    @strawberry.subscription(
        description="The dataset's ref moves, as they are committed: commits, merges and "
        "reverts on branches, branches and tags made or deleted — those on refs the caller may "
        "read."
    )
    async def ref_updated(
        self, info: strawberry.Info[Context, None], dataset: str
    ) -> AsyncGenerator[RefUpdate, None]:
        context = info.context
        principal = context.gate.principal
        found = await run_read(context.engine, lambda c: context.gate.dataset(c, dataset))
        dataset_id = found.dataset.id

        def update(conn: Connection, event: RefEvent) -> RefUpdate | None:
            access = renewed_gate(conn, principal).dataset_by_id(conn, dataset_id)
            return _ref_update(conn, access, event)

        async with _events(context).listen(ref_topic(dataset_id)) as stream:
            while True:
                event = await stream.next()
                if not isinstance(event, RefEvent):
                    # Events may have been lost: nothing to replay (refs have no history of
                    # moves), but access is checked again all the same.
                    await run_read(
                        context.engine,
                        lambda c: renewed_gate(c, principal).dataset_by_id(c, dataset_id),
                    )
                    continue
                told = await run_read(context.engine, functools.partial(update, event=event))
                if told is not None:
                    yield told
