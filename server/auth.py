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
from sqlalchemy.exc import DBAPIError

from trainingdb.versioning.access.policy import Gate, key_gate
from trainingdb.versioning.access.principal import LOCAL_ADMIN
from trainingdb.versioning.errors import UnauthenticatedError

from .database import create_db_engine
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
    # Where keys are looked up: an autocommit engine without pre-ping (`lookup_engine`) saves
    # half the lookup's cost on every request; default: `engine`.
    lookups: Engine | None = None

    def gate(self, headers: Mapping[str, str], peer: str | None) -> Gate:
        """gate: the policy of whom the request acts as; for a key, one statement reads the key
        and its team's grants (blocking: run it in a thread)."""
        credential = credential_of(headers)
        if credential is None:
            if self.local_admin and is_loopback(peer):
                return Gate(LOCAL_ADMIN)
            raise UnauthenticatedError(NO_CREDENTIALS)
        if credential.startswith(KEY_PREFIX):
            try:
                return self._key_gate(credential)
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                # A pooled connection had died (a database restart): once more, on a new one.
                return self._key_gate(credential)
        if self.oidc is None:
            raise UnauthenticatedError("the API key is not valid")
        with self.engine.begin() as conn:  # a first login provisions the member
            return Gate(self.oidc.principal(conn, credential))

    def _key_gate(self, credential: str) -> Gate:
        with (self.lookups or self.engine).connect() as conn:
            return key_gate(conn, credential)


def lookup_engine(engine: Engine) -> Engine:
    """lookup_engine: a small autocommit pool without pre-ping on `engine`'s database, for the
    key lookup every request makes (Authenticator.lookups); the caller disposes of it."""
    return create_db_engine(engine.url, pool_size=2, pre_ping=False, autocommit=True)
