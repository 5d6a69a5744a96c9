"""GET /blobs/<sha256>?expires=<unix>&signature=<hex>: the bytes behind a signed link.

The link (made by `graphql_schema.links.BlobLinks`, in File.url) is checked first: a forged or
expired one is 403, a blob the store lacks is 404. A folder's bytes are streamed by the server
(with Range support); an object store's are a redirect to its own presigned URL, so the bytes
never pass through the server. Blobs are content-addressed, so a response never goes stale:
it may be cached for as long as the link lives.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import Engine, select
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from trainingdb.graphql_schema.links import BlobLinks
from trainingdb.versioning.models import Blob

from .blobs import BlobStore, LocalBlobStore, check_sha256


def _refuse(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status)


def blob_endpoint(
    engine: Engine, blobs: BlobStore, secret: bytes
) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint serving signed blob links from `blobs`."""

    async def serve(request: Request) -> Response:
        sha256 = request.path_params["sha256"]
        try:
            check_sha256(sha256)
            expires = int(request.query_params["expires"])
            signature = request.query_params["signature"]
        except (KeyError, ValueError):
            return _refuse(
                400, "a blob link is /blobs/<sha256>?expires=<unix time>&signature=<hex>"
            )
        now = time.time()
        refused = BlobLinks(secret).verify(sha256, expires, signature, now)
        if refused:
            return _refuse(403, refused)
        if not await asyncio.to_thread(blobs.exists, sha256):
            return _refuse(404, f"blob {sha256} is not in the store")
        remaining = max(1, expires - int(now))
        headers = {"Cache-Control": f"private, max-age={remaining}, immutable"}
        direct = blobs.direct_url(sha256, remaining)
        if direct is not None:
            return RedirectResponse(direct, status_code=307, headers=headers)
        assert isinstance(blobs, LocalBlobStore)
        return FileResponse(
            blobs.path(sha256),
            media_type=await asyncio.to_thread(_mime, engine, sha256),
            headers=headers,
        )

    return serve


def _mime(engine: Engine, sha256: str) -> str:
    """The media type the blob was stored with (the same bytes share one), else bytes."""
    with engine.connect() as conn:
        found = conn.scalar(select(Blob.mime).where(Blob.sha256 == sha256).limit(1))
    return found or "application/octet-stream"
