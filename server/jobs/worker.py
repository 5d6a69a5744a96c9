"""The batch worker: claims jobs from the queue and runs them, one at a time, until stopped.

Run as its own process (`trainingdb worker`, as many as wanted, on any machines that reach the
database and the blob store), or as a thread beside the server (`serve --with-worker`, `demo`).
While a job runs, a heartbeat thread renews its lease; a handler reports progress through its
`JobContext` and applies its data with `ctx.apply`, which marks the job succeeded in the same
transaction. A handler that finds the input invalid raises `JobFailed` (nothing is written); any
other exception fails the job with an internal error, logged with its traceback.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from trainingdb.server.blobs import BlobStore
from trainingdb.versioning import jobs as queue
from trainingdb.versioning.access import audit
from trainingdb.versioning.access.policy import authorize_job, principal_from_json
from trainingdb.versioning.datasets import get_dataset_by_id
from trainingdb.versioning.errors import TrainingdbError
from trainingdb.versioning.jobs import JobRow, LeaseLost
from trainingdb.versioning.models import JobKind

log = logging.getLogger("trainingdb.worker")


class JobFailed(Exception):
    """The job's input is invalid; nothing was applied. `errors` names the bad records."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


@dataclass
class JobContext:
    """What a handler gets: the job, the database, the blob store, and its reporting hooks."""

    engine: Engine
    blobs: BlobStore
    job: JobRow
    worker: str
    # Progress is written at most this often (and at the end); clients poll it.
    every: float = 0.5
    _last: float = field(default=0.0)
    # The latest counts reported, written with the job's end even if not yet flushed.
    counts: dict[str, Any] = field(default_factory=dict)

    def progress(
        self,
        *,
        total: int | None = None,
        done: int | None = None,
        failed: int | None = None,
        errors: list[dict[str, Any]] | None = None,
        force: bool = False,
    ) -> None:
        given = {"total": total, "done": done, "failed": failed, "errors": errors}
        self.counts.update({k: value for k, value in given.items() if value is not None})
        now = time.monotonic()
        if not force and now - self._last < self.every:
            return
        self._last = now
        queue.progress(self.engine, self.job, self.worker, **self.counts)

    def apply(self, write: Callable[[Connection], dict[str, Any]]) -> dict[str, Any]:
        """Run `write` and mark the job succeeded with its result (and the latest counts), in
        one transaction, with its audit event (who the job acted for)."""
        with self.engine.begin() as conn:
            result = write(conn)
            queue.finish(conn, self.job, self.worker, result, **self.counts)
            params = self.job.params
            audit.record(
                conn,
                principal_from_json(self.job.principal),
                f"{self.job.kind} job",
                dataset_id=self.job.dataset_id,
                dataset=get_dataset_by_id(conn, self.job.dataset_id).name,
                ref=str(params.get("branch") or params.get("version") or "") or None,
                detail={"job": self.job.id, "done": self.counts.get("done")},
            )
        return result


Handler = Callable[[JobContext], dict[str, Any]]


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass
class Worker:
    engine: Engine
    blobs: BlobStore
    handlers: Mapping[JobKind, Handler]
    name: str = field(default_factory=default_name)
    lease_seconds: float = 60.0
    poll_seconds: float = 1.0

    def run_once(self) -> JobRow | None:
        """Claim and run one job; the job as claimed, or None when the queue is empty."""
        job = queue.claim(self.engine, self.name, self.lease_seconds)
        if job is None:
            return None
        log.info("job %s (%s) claimed by %s, attempt %s", job.id, job.kind, self.name, job.attempts)
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job, stop), daemon=True)
        beat.start()
        try:
            self._run(job)
        finally:
            stop.set()
            beat.join()
        return job

    def run(self, stop: threading.Event) -> None:
        """Run jobs until `stop` is set, polling the queue when it is empty."""
        while not stop.is_set():
            try:
                if self.run_once() is None:
                    stop.wait(self.poll_seconds)
            except Exception:
                # The database went away, say: keep the worker alive and try again later.
                log.exception("worker %s: claiming a job failed", self.name)
                stop.wait(self.poll_seconds * 5)

    def _run(self, job: JobRow) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            queue.fail(self.engine, job, self.name, f"this worker cannot run {job.kind} jobs")
            return
        context = JobContext(self.engine, self.blobs, job, self.name)
        try:
            with self.engine.connect() as conn:  # the submitter's rights, as they are now
                authorize_job(conn, job.dataset_id, job.kind, job.params, job.principal)
            handler(context)
        except JobFailed as failed:
            counts = {k: context.counts[k] for k in ("total", "done") if k in context.counts}
            queue.fail(self.engine, job, self.name, failed.message, failed.errors, **counts)
            log.info("job %s failed: %s", job.id, failed.message)
        except TrainingdbError as refused:
            # The engine refused the write (a protected branch, a reference gone): the input is
            # fine, the target is not. Nothing was applied.
            queue.fail(self.engine, job, self.name, f"{refused.code}: {refused.message}")
            log.info("job %s refused: %s", job.id, refused.message)
        except LeaseLost:
            log.warning("job %s: lease lost; another worker has it", job.id)
        except Exception as error:
            log.exception("job %s: internal error", job.id)
            queue.fail(self.engine, job, self.name, f"internal error: {type(error).__name__}")
        else:
            log.info("job %s succeeded", job.id)

    def _heartbeat(self, job: JobRow, stop: threading.Event) -> None:
        while not stop.wait(self.lease_seconds / 3):
            try:
                if not queue.renew(self.engine, job, self.name, self.lease_seconds):
                    return
            except Exception:
                log.exception("job %s: renewing the lease failed", job.id)


def start_in_thread(worker: Worker) -> Callable[[], None]:
    """Run `worker` in a daemon thread; the function that stops it and waits."""
    stop = threading.Event()
    thread = threading.Thread(
        target=worker.run, args=(stop,), name="trainingdb-worker", daemon=True
    )
    thread.start()

    def stopper() -> None:
        stop.set()
        thread.join()

    return stopper
