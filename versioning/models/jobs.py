"""Batch jobs (imports, exports): a queue in PostgreSQL that any number of workers share.

A job is `queued` until a worker claims it (`running`, with a lease the worker renews); it ends
`succeeded` or `failed`. A worker that dies stops renewing; once its lease has passed the job is
claimable again, up to `max_attempts` claims. Progress (`total`, `done`, `failed`) and record
errors are written as the job runs, in their own short transactions, so clients see them live;
the job's data is applied in one transaction that also marks it succeeded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .vocabulary import JobKind, JobStatus, sql_in

# Jobs queued before access control, and by the operator's command line, act as the operator.
OPERATOR_JSON = """'{"admin": true, "credential": "cli"}'::jsonb"""


class Job(Base):
    __tablename__ = "job"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    # Random (60 bits, from gen_random_uuid): a team's job id tells nothing of how many jobs
    # the install ran, and cannot be guessed (migration 0011). The key leads with the dataset,
    # as Citus needs.
    id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, server_default=text("trainingdb_random_id()")
    )
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'queued'"))
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    max_attempts: Mapped[int] = mapped_column(server_default=text("3"))
    worker: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    total: Mapped[int | None]
    done: Mapped[int] = mapped_column(server_default=text("0"))
    failed: Mapped[int] = mapped_column(server_default=text("0"))
    # Record errors, first ones only (the count is `failed`): [{"record": ..., "message": ...}].
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    message: Mapped[str] = mapped_column(server_default=text("''"))
    created_by: Mapped[str] = mapped_column(String(200), server_default=text("''"))
    # Whom the job acts for (access.principal), checked again when a worker runs it.
    principal: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text(OPERATOR_JSON))
    # The queue's order: the clock when queued, not the transaction's start, so jobs queued
    # in one transaction keep their order too.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(sql_in("kind", JobKind), name="kind"),
        CheckConstraint(sql_in("status", JobStatus), name="status"),
        CheckConstraint("jsonb_typeof(params) = 'object'", name="params_object"),
        CheckConstraint("jsonb_typeof(errors) = 'array'", name="errors_array"),
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts_non_negative"),
        # The claim query: the oldest claimable job, without scanning finished ones.
        Index(
            "ix_job_open",
            "created_at",
            "id",
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )
