"""The audit trail: who changed what, when, where. Appended in the change's own transaction (a
rolled-back change leaves no event, a committed one always has one); the table refuses updates
and deletes (migration 0007)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.models import AuditEvent

from .principal import Principal

MAX_EVENTS = 10_000


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    at: datetime
    actor: str
    credential: str
    action: str
    dataset: str | None
    ref: str | None
    detail: dict[str, Any]
    request_id: str | None


def record(
    conn: Connection,
    principal: Principal,
    action: str,
    *,
    dataset_id: int | None = None,
    dataset: str | None = None,
    ref: str | None = None,
    detail: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> None:
    """record: append one event in the caller's transaction; O(1)."""
    conn.execute(
        insert(AuditEvent).values(
            actor=principal.name,
            credential=principal.credential,
            team_id=principal.team_id,
            action=action,
            dataset_id=dataset_id,
            dataset=dataset,
            ref=ref,
            detail=detail or {},
            request_id=request_id,
        )
    )


def events(
    conn: Connection,
    *,
    dataset_id: int | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[EventRow]:
    """events: the newest `limit` events (of one dataset), older than event id `before`, newest
    first; O(limit) by the (dataset_id, id) index or the primary key."""
    if not 1 <= limit <= MAX_EVENTS:
        raise InvalidInputError(f"limit must be between 1 and {MAX_EVENTS}, not {limit}")
    statement = select(
        AuditEvent.id,
        AuditEvent.at,
        AuditEvent.actor,
        AuditEvent.credential,
        AuditEvent.action,
        AuditEvent.dataset,
        AuditEvent.ref,
        AuditEvent.detail,
        AuditEvent.request_id,
    )
    if dataset_id is not None:
        statement = statement.where(AuditEvent.dataset_id == dataset_id)
    if before is not None:
        statement = statement.where(AuditEvent.id < before)
    rows = conn.execute(statement.order_by(AuditEvent.id.desc()).limit(limit))
    return [EventRow(*row) for row in rows]
