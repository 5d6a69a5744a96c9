"""Signed, expiring links to blob bytes: `<base>/blobs/<sha256>?expires=<unix>&signature=<hex>`.

The signature is HMAC-SHA256 of `<sha256>:<expires>` under the server's secret key. The server
route (`server/blob_route.py`) checks it and serves the bytes, from the folder or by redirecting
to the object store's own presigned URL, so a browser fetches media without the GraphQL API.

Pages are shaped in PostgreSQL, so the same HMAC is also computed there (`sql_url`), from the
key's inner and outer pads (RFC 2104) bound as parameters and PostgreSQL's built-in sha256():
the secret itself never reaches SQL, and no extension is needed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, Text, cast, func, literal

from .json_text import Json, concat, text_literal

BLOCK = 64  # SHA-256's block size, in bytes


def _pads(secret: bytes) -> tuple[bytes, bytes]:
    key = hashlib.sha256(secret).digest() if len(secret) > BLOCK else secret
    key = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


@dataclass(frozen=True)
class BlobLinks:
    """Signs links valid for `ttl` seconds from `now`, under `base_url` ('' for relative)."""

    secret: bytes
    base_url: str = ""
    ttl: int = 3600
    now: float = field(default_factory=time.time)

    @property
    def expires(self) -> int:
        return int(self.now) + self.ttl

    def signature(self, sha256: str, expires: int) -> str:
        return hmac.new(self.secret, f"{sha256}:{expires}".encode(), hashlib.sha256).hexdigest()

    def url(self, sha256: str) -> str:
        """The link to `sha256`, valid until `expires`."""
        expires = self.expires
        signature = self.signature(sha256, expires)
        return f"{self.base_url}/blobs/{sha256}?expires={expires}&signature={signature}"

    def verify(self, sha256: str, expires: int, signature: str, now: float) -> str | None:
        """Why a link is refused (None: it is good): forged, or expired at `now`."""
        if not hmac.compare_digest(self.signature(sha256, expires), signature):
            return "the link's signature does not match"
        if expires < now:
            return "the link has expired"
        return None

    def sql_url(self, sha256: ColumnElement[Any]) -> Json:
        """JSON text of `url(sha256)` computed by PostgreSQL (a JSON string, or null)."""
        inner, outer = _pads(self.secret)
        expires = str(self.expires)
        message = func.convert_to(
            concat(cast(sha256, Text), text_literal(f":{expires}")), text_literal("UTF8")
        )
        digest = func.sha256(
            literal(outer, LargeBinary).op("||")(
                func.sha256(literal(inner, LargeBinary).op("||")(message))
            )
        )
        link = concat(
            text_literal(f'"{self.base_url}/blobs/'),
            cast(sha256, Text),
            text_literal(f"?expires={expires}&signature="),
            func.encode(digest, text_literal("hex"), type_=Text),
            text_literal('"'),
        )
        return func.coalesce(link, text_literal("null"), type_=Text)
