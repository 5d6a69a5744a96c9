"""A graphql-transport-ws client over a real WebSocket (the `websockets` package), as a browser's
GraphQL client speaks it: connection_init (with credentials), subscribe, next..., complete."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

PROTOCOL = "graphql-transport-ws"


class Socket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    async def receive(self, timeout: float = 30) -> dict[str, Any]:
        message: dict[str, Any] = orjson.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return message

    async def subscribe(self, query: str, **variables: Any) -> str:
        """Start a subscription; its id."""
        sid = str(next(self.ids))
        payload = {"query": query, "variables": variables}
        await self.send({"id": sid, "type": "subscribe", "payload": payload})
        return sid

    async def messages(self, sid: str, timeout: float = 30) -> AsyncIterator[dict[str, Any]]:
        """The subscription's messages (next, error, complete), skipping pings; ends after
        complete or error."""
        while True:
            message = await self.receive(timeout)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            assert message.get("id") == sid, message
            yield message
            if message["type"] in ("complete", "error"):
                return

    async def next_data(self, sid: str, timeout: float = 30) -> dict[str, Any]:
        """The next `next` message's data (AssertionError on anything else)."""
        async for message in self.messages(sid, timeout):
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            data: dict[str, Any] = message["payload"]["data"]
            return data
        raise AssertionError("the subscription ended")


@asynccontextmanager
async def socket(
    url: str, init: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[Socket]:
    """A WebSocket to `url` that has sent connection_init (payload `init`) and been acked."""
    async with connect(
        url, subprotocols=[Subprotocol(PROTOCOL)], additional_headers=headers, proxy=None
    ) as ws:
        client = Socket(ws)
        await client.send({"type": "connection_init", "payload": init or {}})
        ack = await client.receive()
        assert ack["type"] == "connection_ack", ack
        yield client
