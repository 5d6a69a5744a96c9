"""The ASGI application: GraphQL at /graphql (GraphiQL on GET, subscriptions over WebSocket;
server/graphql_http.py), /healthz, /readyz, and signed blob links at /blobs/<sha256>; CORS for
the origins the settings allow (none by default)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from .auth import Authenticator, lookup_engine
from .blob_route import blob_endpoint
from .blobs import BlobStore, open_blob_store
from .database import create_db_engine, parse_database_url
from .events import EventHub
from .graphql_http import Authenticated, GraphQLApp, ORJSONResponse
from .oidc import OidcVerifier
from .secret import load_secret
from .settings import (
    DATABASE_URL,
    DEFAULT_MAX_REQUEST_BYTES,
    LOCAL_ADMIN,
    Settings,
    SettingsError,
)


def create_app(
    engine: Engine,
    blobs: BlobStore | None = None,
    secret: bytes | None = None,
    auth: Authenticator | None = None,
    cors_origins: Sequence[str] = (),
    on_shutdown: Callable[[], None] | None = None,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
) -> Starlette:
    """The application over `engine`; the caller owns the engine's lifetime. With a blob store
    and a secret it serves signed blob links at /blobs/<sha256> (File.url); else File.url is
    null. `auth` says who may call (default: API keys only); browsers on `cors_origins` may
    call it from their pages (credentials travel in headers, never cookies). Subscriptions
    listen on the engine's database; `on_shutdown` runs after the server stops listening.
    A /graphql body over `max_request_bytes` is refused with 413."""

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
    events = EventHub.for_engine(engine)
    graphql = Authenticated(
        GraphQLApp(engine, secret if serves_blobs else None, events, max_request_bytes),
        auth or Authenticator(engine),
    )
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        # Every method reaches the view, which answers the specification's 405 with `Allow`.
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
    ]
    if blobs is not None and secret is not None:
        routes.append(
            Route("/blobs/{sha256}", blob_endpoint(engine, blobs, secret), methods=["GET"])
        )
    middleware = []
    if cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-api-key", "x-request-id"],
                max_age=600,
            )
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await events.close()
        if on_shutdown is not None:
            on_shutdown()

    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


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

    def shutdown() -> None:
        close_authenticator(auth)
        engine.dispose()

    return create_app(
        engine,
        blobs,
        load_secret(settings),
        auth,
        settings.cors_origins,
        shutdown,
        settings.max_request_bytes,
    )
