"""The ASGI application: GraphQL at /graphql (GraphiQL on GET), /healthz, /readyz, and signed
blob links at /blobs/<sha256>."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from trainingdb.graphql_schema import Context, schema
from trainingdb.graphql_schema.links import BlobLinks

from .blob_route import blob_endpoint
from .blobs import BlobStore, open_blob_store
from .database import create_db_engine, parse_database_url
from .secret import load_secret
from .settings import DATABASE_URL, Settings, SettingsError


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with a per-request context and orjson encoding."""

    def __init__(self, engine: Engine, secret: bytes | None = None) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.engine = engine
        self.secret = secret

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        links = None
        if self.secret is not None:
            links = BlobLinks(self.secret, base_url=str(request.base_url).rstrip("/"))
        return Context.for_request(self.engine, links)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def create_app(
    engine: Engine, blobs: BlobStore | None = None, secret: bytes | None = None
) -> Starlette:
    """The application over `engine`; the caller owns the engine's lifetime. With a blob store
    and a secret it serves signed blob links at /blobs/<sha256> (File.url); else File.url is
    null."""

    async def healthz(request: Request) -> Response:
        return ORJSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        def ping() -> None:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await asyncio.to_thread(ping)
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            return ORJSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
        return ORJSONResponse({"status": "ready"})

    serves_blobs = blobs is not None and secret is not None
    graphql = GraphQLApp(engine, secret if serves_blobs else None)
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
    ]
    if blobs is not None and secret is not None:
        routes.append(
            Route("/blobs/{sha256}", blob_endpoint(engine, blobs, secret), methods=["GET"])
        )
    return Starlette(routes=routes)


def app_from_env() -> Starlette:
    """Factory for uvicorn worker processes: the parent exports the database URL it resolved,
    the blob store URL and the data directory (where the secret key is, unless it is set)."""
    settings = Settings.resolve()
    if settings.database_url is None:
        raise SettingsError(f"{DATABASE_URL} must be set for worker processes")
    engine = create_db_engine(parse_database_url(settings.database_url))
    blobs = open_blob_store(settings.blob_url, settings.data_dir)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = create_app(engine, blobs, load_secret(settings))
    app.router.lifespan_context = lifespan
    return app
