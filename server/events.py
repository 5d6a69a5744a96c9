"""The event hub: one PostgreSQL LISTEN connection per server process, fanned out to the
subscriptions of its clients (versioning/events.py says what is sent and when).

A worker on another machine commits a job's progress with a NOTIFY; PostgreSQL delivers it to
every listening server; each server hands it to the subscribers of its topic. The listening
connection is opened on the first subscription (a server nobody subscribes to holds none) and
reopened after a failure; events committed while it was down are lost (versioning/events.py
rule 4), so subscribers are told to read the current state again (`Stream.resync`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from sqlalchemy import Engine

from trainingdb.versioning.errors import UnavailableError
from trainingdb.versioning.events import CHANNEL, Event, Topic, parse, topic_of

log = logging.getLogger("trainingdb.events")

APPLICATION_NAME = "trainingdb events"  # how the listening connection shows in pg_stat_activity
BACKLOG = 10_000  # events a subscriber may fall behind by before it is ended
CONNECT_SECONDS = 10.0  # how long a new subscription waits for the listening connection


class Stream:
    """The events of one topic for one subscriber, in the order they were committed."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(BACKLOG)
        self.overflowed = False

    def put(self, event: Event | None) -> None:
        """Queue `event` (None: events may have been lost; read the state again)."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    async def next(self) -> Event | None:
        """The next event, or None when events may have been lost since the last one."""
        if self.overflowed:
            # Ended rather than silently skipping events.
            raise UnavailableError(
                f"this subscription fell {BACKLOG} events behind; subscribe again"
            )
        return await self._queue.get()


class EventHub:
    """Subscriptions by topic over one LISTEN connection (opened on first use)."""

    def __init__(self, connect_kwargs: dict[str, Any], retry_seconds: float = 1.0) -> None:
        self._connect_kwargs = connect_kwargs
        self._retry_seconds = retry_seconds
        self._streams: dict[Topic, set[Stream]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    @classmethod
    def for_engine(cls, engine: Engine, retry_seconds: float = 1.0) -> EventHub:
        """A hub listening on the database `engine` connects to (same host, user, options)."""
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        if args:
            kwargs = {"conninfo": args[0], **kwargs}
        return cls({**kwargs, "application_name": APPLICATION_NAME}, retry_seconds)

    @contextlib.asynccontextmanager
    async def listen(self, topic: Topic) -> AsyncIterator[Stream]:
        """listen: the events of `topic` from the moment this returns (the LISTEN is in place),
        until the block ends."""
        stream = Stream()
        self._streams[topic].add(stream)
        try:
            if self._task is None or self._task.done():
                self._listening.clear()
                self._task = asyncio.create_task(self._run(), name="trainingdb-events")
            try:
                await asyncio.wait_for(self._listening.wait(), CONNECT_SECONDS)
            except TimeoutError:
                raise UnavailableError(
                    "the server cannot listen for events now (its database connection fails); "
                    "try again later"
                ) from None
            yield stream
        finally:
            subscribers = self._streams.get(topic)
            if subscribers is not None:
                subscribers.discard(stream)
                if not subscribers:
                    del self._streams[topic]

    async def close(self) -> None:
        """Stop listening (server shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        first = True
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    **self._connect_kwargs, autocommit=True
                )
            except psycopg.Error as exc:
                log.warning("events: cannot connect to listen (%s); retrying", exc)
                await asyncio.sleep(self._retry_seconds)
                continue
            try:
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    if not first:
                        self._everyone(None)  # what was sent while we were away is lost
                    first = False
                    self._listening.set()
                    async for notify in conn.notifies():
                        event = parse(notify.payload)
                        if event is not None:
                            for stream in tuple(self._streams.get(topic_of(event), ())):
                                stream.put(event)
            except psycopg.Error as exc:
                log.warning("events: listening connection lost (%s); reconnecting", exc)
                await asyncio.sleep(self._retry_seconds)

    def _everyone(self, event: Event | None) -> None:
        for streams in tuple(self._streams.values()):
            for stream in tuple(streams):
                stream.put(event)
