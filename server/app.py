"""The ASGI application: GraphQL at /graphql (GraphiQL on GET), /healthz, /readyz, and signed
blob links at /blobs/<sha256>.

Every GraphQL request is authenticated first (server/auth.py): without valid credentials it is
answered 401 with a GraphQL error whose `extensions.code` is UNAUTHENTICATED, before Strawberry
sees it. The GraphiQL page itself (a browser's GET for HTML) needs none: the queries it sends do.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from trainingdb.graphql_schema import Context, schema
from trainingdb.graphql_schema.links import BlobLinks
from trainingdb.versioning.access.policy import Gate
from trainingdb.versioning.access.principal import NOBODY
from trainingdb.versioning.errors import UnauthenticatedError

from .auth import Authenticator, lookup_engine
from .blob_route import blob_endpoint
from .blobs import BlobStore, open_blob_store
from .database import create_db_engine, parse_database_url
from .oidc import OidcVerifier
from .secret import load_secret
from .settings import DATABASE_URL, LOCAL_ADMIN, Settings, SettingsError


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
        gate: Gate = request.state.gate
        request_id: str = request.state.request_id
        return Context.for_request(self.engine, gate, links, request_id)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


class Authenticated:
    """ASGI wrapper: the request's gate (its principal's policy) into `scope["state"]`, or 401
    UNAUTHENTICATED."""

    def __init__(self, inner: GraphQLApp, auth: Authenticator) -> None:
        self.inner = inner
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = HTTPConnection(scope)  # an HTTP request or a WebSocket handshake
        state = scope.setdefault("state", {})
        state["request_id"] = request.headers.get("x-request-id") or uuid.uuid4().hex
        if scope["type"] == "http" and scope["method"] == "GET" and _wants_html(request):
            state["gate"] = Gate(NOBODY)  # the GraphiQL page only: no operation runs
            await self.inner(scope, receive, send)
            return
        peer = request.client.host if request.client else None
        try:
            gate = await asyncio.to_thread(self.auth.gate, request.headers, peer)
        except UnauthenticatedError as error:
            if scope["type"] == "websocket":
                await WebSocket(scope, receive, send).close(code=4401, reason=error.message)
                return
            body = {
                "data": None,
                "errors": [{"message": error.message, "extensions": {"code": error.code}}],
            }
            response = ORJSONResponse(
                body, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="trainingdb"'}
            )
            await response(scope, receive, send)
            return
        state["gate"] = gate
        await self.inner(scope, receive, send)


def _wants_html(request: HTTPConnection) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.query_params


def create_app(
    engine: Engine,
    blobs: BlobStore | None = None,
    secret: bytes | None = None,
    auth: Authenticator | None = None,
) -> Starlette:
    """The application over `engine`; the caller owns the engine's lifetime. With a blob store
    and a secret it serves signed blob links at /blobs/<sha256> (File.url); else File.url is
    null. `auth` says who may call (default: API keys only)."""

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
    graphql = Authenticated(
        GraphQLApp(engine, secret if serves_blobs else None), auth or Authenticator(engine)
    )
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


def authenticator(engine: Engine, settings: Settings, *, local_admin: bool) -> Authenticator:
    """The server's authenticator: API keys, OIDC tokens when configured, and the local admin.
    Its lookup engine lives as long as the process (dispose with `close_authenticator`)."""
    oidc = settings.oidc
    verifier = None if oidc is None else OidcVerifier(oidc)
    return Authenticator(engine, verifier, local_admin, lookup_engine(engine))


def close_authenticator(auth: Authenticator) -> None:
    if auth.lookups is not None:
        auth.lookups.dispose()


def app_from_env() -> Starlette:
    """Factory for uvicorn worker processes: the parent exports the database URL it resolved,
    the blob store URL and the data directory (where the secret key is, unless it is set)."""
    settings = Settings.resolve()
    if settings.database_url is None:
        raise SettingsError(f"{DATABASE_URL} must be set for worker processes")
    engine = create_db_engine(parse_database_url(settings.database_url))
    blobs = open_blob_store(settings.blob_url, settings.data_dir)

    auth = authenticator(engine, settings, local_admin=os.environ.get(LOCAL_ADMIN) == "1")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        close_authenticator(auth)
        engine.dispose()

    app = create_app(engine, blobs, load_secret(settings), auth)
    app.router.lifespan_context = lifespan
    return app
