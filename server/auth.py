"""Who an HTTP request acts as: an API key, an OIDC bearer token, or (with `--local-admin`) an
unauthenticated request from this machine.

Credentials travel as `Authorization: Bearer <credential>` (or `X-API-Key: <key>`). A value that
reads `tdb_...` is an API key (versioning.access.keys); any other bearer value is an OIDC token,
verified when the server is configured for OIDC (server/oidc.py). Every request is checked
against the database, so a revoked key stops working on the next request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine

from trainingdb.versioning.access import keys
from trainingdb.versioning.access.principal import LOCAL_ADMIN, Principal
from trainingdb.versioning.errors import UnauthenticatedError

from .oidc import OidcVerifier

KEY_PREFIX = "tdb_"
NO_CREDENTIALS = (
    "this server needs credentials: send 'Authorization: Bearer <API key or token>' "
    "(make a key with `trainingdb keys create`)"
)


def is_loopback(host: str | None) -> bool:
    """is_loopback: whether `host` (an address or `localhost`) is this machine only."""
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def credential_of(headers: Mapping[str, str]) -> str | None:
    """credential_of: the credential a request presents, if any (UNAUTHENTICATED when the
    Authorization header is not a bearer credential)."""
    api_key = headers.get("x-api-key")
    if api_key:
        return api_key.strip()
    authorization = headers.get("authorization")
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise UnauthenticatedError("the Authorization header must read 'Bearer <credential>'")
    return value.strip()


@dataclass(frozen=True)
class Authenticator:
    """Turns a request's headers and peer address into a principal, or UNAUTHENTICATED."""

    engine: Engine
    oidc: OidcVerifier | None = None
    # `serve --local-admin`: requests without credentials from a loopback peer act as admin.
    local_admin: bool = False

    def principal(self, headers: Mapping[str, str], peer: str | None) -> Principal:
        """principal: whom the request acts as; one index probe for a key (blocking: run it in
        a thread)."""
        credential = credential_of(headers)
        if credential is None:
            if self.local_admin and is_loopback(peer):
                return LOCAL_ADMIN
            raise UnauthenticatedError(NO_CREDENTIALS)
        with self.engine.connect() as conn:
            if credential.startswith(KEY_PREFIX):
                return keys.authenticate(conn, credential)
            if self.oidc is None:
                raise UnauthenticatedError("the API key is not valid")
            principal = self.oidc.principal(conn, credential)
            conn.commit()  # a first login provisions the member
            return principal
