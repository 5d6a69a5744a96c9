"""`Client`: the typed Python client of a trainingdb server's GraphQL API, over HTTP."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx

from .http import Session
from .jobs import Jobs
from .reads import Reads
from .writes import Writes


class Client(Reads, Writes, Jobs):
    """A connection to one trainingdb server as the holder of API key `key` (None: no
    credentials, for a `--local-admin` server on this machine). Use it in a `with` block, or
    `close()` it."""

    def __init__(
        self,
        url: str = "http://127.0.0.1:8000",
        key: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._session = Session(url, key, timeout=timeout, transport=transport)
        self._key = key

    @property
    def url(self) -> str:
        """url: the GraphQL endpoint requests go to (the server's base URL + `/graphql`)."""
        return self._session.endpoint

    @property
    def key(self) -> str | None:
        """key: the API key the client sends (None: none), to make another client like it."""
        return self._key

    def execute(self, document: str, /, **variables: Any) -> dict[str, Any]:
        """execute: the `data` of any GraphQL query or mutation run with `variables`; a typed
        TrainingdbError for any error in the answer (the first raised, all on `.errors`)."""
        return self._session.execute(document, variables)

    def close(self) -> None:
        """close: the client's connections; it sends nothing afterwards."""
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r})"
