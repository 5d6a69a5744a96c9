"""The event hub in-process: what a transaction sends is heard once it commits, never when it
rolls back; a listening connection that is lost is reopened, and subscribers are told that
events may have been missed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine, text

from trainingdb.server.events import APPLICATION_NAME, EventHub
from trainingdb.versioning.events import (
    JobEvent,
    RefChange,
    RefEvent,
    job_changed,
    job_topic,
    parse,
    ref_changed,
    ref_topic,
)

pytestmark = pytest.mark.anyio


async def test_committed_events_are_heard_rolled_back_ones_are_not(engine: Engine) -> None:
    hub = EventHub.for_engine(engine)
    try:
        async with hub.listen(job_topic(7)) as jobs, hub.listen(ref_topic(3)) as refs:
            with engine.connect() as conn:
                job_changed(conn, 1, 7)
                conn.rollback()
            with engine.begin() as conn:
                job_changed(conn, 1, 8)  # another job: not this subscription's
                ref_changed(conn, RefEvent(3, RefChange.COMMIT, "main", 1, 2, "ab" * 16))
                job_changed(conn, 1, 7)
            assert await asyncio.wait_for(jobs.next(), 10) == JobEvent(1, 7)
            assert await asyncio.wait_for(refs.next(), 10) == RefEvent(
                3, RefChange.COMMIT, "main", 1, 2, "ab" * 16
            )
            with pytest.raises(TimeoutError):  # the rolled-back one never comes
                await asyncio.wait_for(jobs.next(), 0.5)
    finally:
        await hub.close()


async def test_a_lost_listening_connection_is_reopened(engine: Engine) -> None:
    hub = EventHub.for_engine(engine, retry_seconds=0.1)
    try:
        async with hub.listen(job_topic(9)) as stream:
            with engine.connect() as conn:
                killed = conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name AND datname = current_database()"
                    ),
                    {"name": APPLICATION_NAME},
                ).scalars()
                assert list(killed) == [True]
            assert await asyncio.wait_for(stream.next(), 10) is None  # may have missed some
            with engine.begin() as conn:
                job_changed(conn, 1, 9)
            assert await asyncio.wait_for(stream.next(), 10) == JobEvent(1, 9)
    finally:
        await hub.close()


def test_payloads_this_version_does_not_know_are_skipped() -> None:
    assert parse('{"t": "model", "ds": 1}') is None
    assert parse("not json") is None
    assert (
        parse('{"t": "ref", "ds": 1, "change": "REBASE", "ref": "x", "branch": 1, "seq": 1}')
        is None
    )
    assert parse('{"t": "job", "ds": 2, "job": 5}') == JobEvent(2, 5)
