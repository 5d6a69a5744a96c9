"""Per-request context: the database engine and the request's batch loaders.

The core (`versioning`) is synchronous SQLAlchemy; resolvers are async so the server's event loop
keeps answering while a statement runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Connection, Engine
from strawberry.dataloader import DataLoader

from trainingdb.versioning.refs import BranchRow, branches_of

from .links import BlobLinks

T = TypeVar("T")


async def run_read(engine: Engine, read: Callable[[Connection], T]) -> T:
    """Run `read` on a pooled connection in a worker thread; rolls back (reads only)."""

    def call() -> T:
        with engine.connect() as conn:
            return read(conn)

    return await asyncio.to_thread(call)


@dataclass
class Loaders:
    """Batch loaders, new per request so no result outlives the request that read it."""

    engine: Engine
    branches: DataLoader[int, list[BranchRow]] = field(init=False)

    def __post_init__(self) -> None:
        async def load_branches(ids: Sequence[int]) -> list[list[BranchRow]]:
            found = await run_read(self.engine, lambda conn: branches_of(conn, ids))
            return [found[i] for i in ids]

        self.branches = DataLoader(load_fn=load_branches)


@dataclass
class Context:
    engine: Engine
    loaders: Loaders
    # Signs File.url links; None when the server serves no blobs (File.url is then null).
    links: BlobLinks | None = None

    @classmethod
    def for_request(cls, engine: Engine, links: BlobLinks | None = None) -> Context:
        """A fresh context for one GraphQL request."""
        return cls(engine=engine, loaders=Loaders(engine), links=links)


async def run_write(engine: Engine, write: Callable[[Connection], T]) -> T:
    """Run `write` in one transaction in a worker thread: committed if it returns, rolled back
    (nothing written) if it raises."""

    def call() -> T:
        with engine.begin() as conn:
            return write(conn)

    return await asyncio.to_thread(call)
