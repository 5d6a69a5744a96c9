"""events: changes told to whoever listens, through PostgreSQL NOTIFY on one channel.

Rules for every event:
1. It is sent inside the transaction of the change it reports: listeners hear of a change only
   once it is committed, never of one rolled back, and in commit order.
2. Its payload names what changed (ids, names, a sequence number), never its data: a listener
   re-reads what its subscriber may see through the access policy, so an event cannot leak.
3. Events of one transaction reach a listener in the order they were sent; PostgreSQL folds two
   identical payloads of one transaction into one, which is harmless under rule 2.
4. Delivery is best effort: a listener that is not connected when the change commits does not
   hear of it. Subscribers read the current state when they start, then follow events.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import Connection, func, select

CHANNEL = "trainingdb_events"


class RefChange(StrEnum):
    """What happened to a ref."""

    COMMIT = "COMMIT"
    MERGE = "MERGE"
    REVERT = "REVERT"
    BRANCH_CREATED = "BRANCH_CREATED"
    BRANCH_DELETED = "BRANCH_DELETED"
    TAG_CREATED = "TAG_CREATED"
    TAG_DELETED = "TAG_DELETED"


@dataclass(frozen=True, slots=True)
class RefEvent:
    """A ref of dataset `dataset_id` changed: `ref` now names (branch_id, seq); `commit_id`
    is the new commit's (hex) for COMMIT, MERGE and REVERT."""

    dataset_id: int
    change: RefChange
    ref: str
    branch_id: int
    seq: int
    commit_id: str | None = None


@dataclass(frozen=True, slots=True)
class JobEvent:
    """Job `job_id` of dataset `dataset_id` changed: its status or its progress."""

    dataset_id: int
    job_id: int


Event = RefEvent | JobEvent
Topic = tuple[str, int]  # ("job", job id) or ("ref", dataset id): what one subscription follows


def job_topic(job_id: int) -> Topic:
    return ("job", job_id)


def ref_topic(dataset_id: int) -> Topic:
    return ("ref", dataset_id)


def topic_of(event: Event) -> Topic:
    """topic_of: the subscriptions `event` concerns."""
    if isinstance(event, JobEvent):
        return job_topic(event.job_id)
    return ref_topic(event.dataset_id)


def _send(conn: Connection, payload: dict[str, Any]) -> None:
    conn.execute(select(func.pg_notify(CHANNEL, orjson.dumps(payload).decode())))


def ref_changed(conn: Connection, event: RefEvent) -> None:
    """ref_changed: tell listeners, when `conn`'s transaction commits, that a ref moved; O(1)."""
    payload: dict[str, Any] = {
        "t": "ref",
        "ds": event.dataset_id,
        "change": event.change.value,
        "ref": event.ref,
        "branch": event.branch_id,
        "seq": event.seq,
    }
    if event.commit_id is not None:
        payload["commit"] = event.commit_id
    _send(conn, payload)


def job_changed(conn: Connection, dataset_id: int, job_id: int) -> None:
    """job_changed: tell listeners, when `conn`'s transaction commits, that a job changed; O(1)."""
    _send(conn, {"t": "job", "ds": dataset_id, "job": job_id})


def parse(payload: str) -> Event | None:
    """parse: the event a notification's payload carries; None for one this version does not
    know (a newer server sharing the database), which listeners skip."""
    try:
        data = orjson.loads(payload)
        if data["t"] == "job":
            return JobEvent(int(data["ds"]), int(data["job"]))
        if data["t"] == "ref":
            return RefEvent(
                int(data["ds"]),
                RefChange(data["change"]),
                str(data["ref"]),
                int(data["branch"]),
                int(data["seq"]),
                data.get("commit"),
            )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return None
