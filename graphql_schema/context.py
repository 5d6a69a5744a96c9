"""Per-request context: the database engine, the request's principal and its gate (access
policy), and the request's batch loaders.

The core (`versioning`) is synchronous SQLAlchemy; resolvers are async so the server's event loop
keeps answering while a statement runs in a worker thread. Every mutation goes through
`guarded_write`: the policy check, the change and its audit event in one transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine
from strawberry.dataloader import DataLoader

from trainingdb.versioning.access import audit
from trainingdb.versioning.access.policy import Action, DatasetAccess, Gate, Grant, grants_of
from trainingdb.versioning.access.principal import Principal
from trainingdb.versioning.events import Event, Topic
from trainingdb.versioning.refs import BranchRow, branches_of

from .links import BlobLinks

T = TypeVar("T")


async def run_read(engine: Engine, read: Callable[[Connection], T]) -> T:
    """Run `read` on a pooled connection in a worker thread; rolls back (reads only)."""

    def call() -> T:
        with engine.connect() as conn:
            return read(conn)

    return await asyncio.to_thread(call)


class EventStream(Protocol):
    async def next(self) -> Event | None:
        """The next event of the topic; None when some may have been lost (read the state
        again); UNAVAILABLE when the subscriber fell too far behind."""


class EventSource(Protocol):
    """Where subscriptions hear of committed changes (the server's event hub)."""

    def listen(self, topic: Topic) -> AbstractAsyncContextManager[EventStream]:
        """The events of `topic` from the moment the block is entered."""


@dataclass
class Loaders:
    """Batch loaders, new per request so no result outlives the request that read it."""

    engine: Engine
    gate: Gate
    branches: DataLoader[int, list[BranchRow]] = field(init=False)
    grants: DataLoader[int, tuple[Grant, ...]] = field(init=False)

    def __post_init__(self) -> None:
        async def load_branches(ids: Sequence[int]) -> list[list[BranchRow]]:
            found = await run_read(self.engine, lambda conn: branches_of(conn, ids))
            return [found[i] for i in ids]

        async def load_grants(ids: Sequence[int]) -> list[tuple[Grant, ...]]:
            known, principal = self.gate.grants, self.gate.principal
            if principal.admin:
                return [() for _ in ids]
            if known is not None:
                return [known.get(i, ()) for i in ids]
            found = await run_read(self.engine, lambda c: grants_of(c, principal, ids))
            return [found[i] for i in ids]

        self.branches = DataLoader(load_fn=load_branches)
        self.grants = DataLoader(load_fn=load_grants)


@dataclass
class Context:
    engine: Engine
    loaders: Loaders
    gate: Gate
    # Signs File.url links; None when the server serves no blobs (File.url is then null).
    links: BlobLinks | None = None
    request_id: str | None = None
    # Subscriptions follow changes through this; None where nothing streams (tests, scripts).
    events: EventSource | None = None
    # A WebSocket's `connection_init` payload (Strawberry sets it), which may carry credentials.
    connection_params: dict[str, Any] | None = None

    @classmethod
    def for_request(
        cls,
        engine: Engine,
        principal: Principal | Gate,
        links: BlobLinks | None = None,
        request_id: str | None = None,
        events: EventSource | None = None,
    ) -> Context:
        """A fresh context for one GraphQL request acting as `principal` (or through a gate
        already made for it, with its grants read)."""
        gate = principal if isinstance(principal, Gate) else Gate(principal)
        return cls(engine, Loaders(engine, gate), gate, links, request_id, events)

    def act_as(self, gate: Gate) -> None:
        """Act through `gate` from now on: a WebSocket authenticated by its `connection_init`."""
        self.gate = gate
        self.loaders = Loaders(self.engine, gate)

    async def read_in(self, dataset_id: int, read: Callable[[Connection, DatasetAccess], T]) -> T:
        """`read(conn, access)` on a dataset the principal may read (else NOT_FOUND)."""
        return await run_read(
            self.engine, lambda conn: read(conn, self.gate.dataset_by_id(conn, dataset_id))
        )

    async def guarded_write(
        self,
        dataset: str,
        action: Action,
        ref: str | None,
        write: Callable[[Connection, DatasetAccess], T],
        detail: dict[str, object] | None = None,
    ) -> T:
        """`write(conn, access)` in one transaction, if the principal may do `action` on `ref`
        of `dataset` (NOT_FOUND / FORBIDDEN otherwise), with its audit event."""

        def work(conn: Connection) -> T:
            access = self.gate.dataset(conn, dataset)
            self.gate.require(conn, access.dataset.id, action, ref)
            # The write may change the refs: what it reads of them must be read inside it.
            self.gate.forget(access.dataset.id)
            result = write(conn, access)
            self.audit(conn, action, access.dataset.id, access.dataset.name, ref, detail)
            self.gate.forget(access.dataset.id)
            return result

        return await run_write(self.engine, work)

    def audit(
        self,
        conn: Connection,
        action: Action | str,
        dataset_id: int | None,
        dataset: str | None,
        ref: str | None,
        detail: dict[str, object] | None = None,
    ) -> None:
        """Append the audit event of a change made in `conn`'s transaction."""
        audit.record(
            conn,
            self.gate.principal,
            str(action),
            dataset_id=dataset_id,
            dataset=dataset,
            ref=ref,
            detail=dict(detail or {}),
            request_id=self.request_id,
        )


async def run_write(engine: Engine, write: Callable[[Connection], T]) -> T:
    """Run `write` in one transaction in a worker thread: committed if it returns, rolled back
    (nothing written) if it raises."""

    def call() -> T:
        with engine.begin() as conn:
            return write(conn)

    return await asyncio.to_thread(call)
