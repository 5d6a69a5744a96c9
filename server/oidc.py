"""OIDC bearer tokens: the second way in, beside API keys (`versioning/access/keys.py`).

An identity provider signs a JWT; the server checks it against the provider's published keys
(the JWKS at `TRAININGDB_OIDC_JWKS_URL`) and its `iss`, `aud`, `exp` and `sub` claims, then reads
two claims (names set in `server/settings.py`) naming the team and the member.

Choices:
- Only asymmetric algorithms (RSA, RSA-PSS, ECDSA, EdDSA) are accepted, never `none` or HS*: a
  shared-secret algorithm would let anyone holding the public keys mint tokens (algorithm
  confusion). The key from the JWKS is passed as a `PyJWK`, which binds its own algorithm too.
- A token's header is checked (allowed `alg`, a `kid`) before the JWKS is consulted, so garbage
  costs no request to the provider.
- The key set is cached for `JWKS_LIFESPAN` and refetched when it expires, or (PyJWT's rule,
  rate-limited) when a token names a `kid` the cached set lacks, which is how key rotation is
  followed. Single keys are not cached apart from the set (`cache_keys=False`): PyJWT's per-key
  cache never expires, so a key the provider withdrew would be trusted until a restart.
- A fetch waits at most `JWKS_TIMEOUT`; a provider that cannot be reached gives UNAUTHENTICATED
  saying so, not a stack trace, and a verifier keeps using a set fetched before until it expires.
- `exp` allows `LEEWAY` of clock skew between the provider and this server.
- Messages say only "the token is not valid" (bad signature, unknown key, wrong issuer or
  audience, missing claim, unknown team alike), except "the token has expired", which is checked
  after the signature and tells a genuine holder to log in again.
- The first login provisions the member: a verified token naming an existing team and a member
  it lacks adds that member (with the token's `email`, when it has one), so the provider stays
  the one place people are managed. Teams are never created from a token: a team is a unit of
  access that an operator creates and grants datasets to, and a token naming an unknown team is
  UNAUTHENTICATED.
- Principals from tokens are never admins: administration needs an admin API key or the CLI.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import Connection

from trainingdb.versioning.access.identities import (
    NAME_LIMIT,
    MemberRow,
    TeamRow,
    add_member,
    get_member,
    get_team,
)
from trainingdb.versioning.access.principal import Principal
from trainingdb.versioning.errors import ConflictError, NotFoundError, UnauthenticatedError

from .settings import OidcSettings

ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
LEEWAY = timedelta(seconds=30)
JWKS_LIFESPAN = 300.0  # seconds
JWKS_TIMEOUT = 5.0  # seconds
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]
EMAIL_LIMIT = 320

_INVALID = "the token is not valid"
_UNREACHABLE = "the identity provider's signing keys could not be fetched; try again later"


class OidcVerifier:
    """Checks bearer tokens from one identity provider; one per server, safe across threads."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._keys = jwt.PyJWKClient(
            settings.jwks_url,
            cache_keys=False,
            cache_jwk_set=True,
            lifespan=JWKS_LIFESPAN,
            timeout=JWKS_TIMEOUT,
        )

    def claims(self, token: str) -> dict[str, Any]:
        """claims: the verified claims of `token`, or UNAUTHENTICATED; no network while the
        provider's key set is cached."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise UnauthenticatedError(_INVALID) from None
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS or not isinstance(kid, str) or not kid:
            raise UnauthenticatedError(_INVALID)
        key = self._signing_key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=LEEWAY,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthenticatedError("the token has expired") from None
        except jwt.PyJWTError:
            raise UnauthenticatedError(_INVALID) from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise UnauthenticatedError(_INVALID)
        return claims

    def principal(self, conn: Connection, token: str) -> Principal:
        """principal: the team member `token` names (added to its team on first login), or
        UNAUTHENTICATED; two or three index probes once the key set is cached."""
        claims = self.claims(token)
        team_name = _name_claim(claims, self.settings.team_claim)
        member_name = _name_claim(claims, self.settings.member_claim)
        try:
            team = get_team(conn, team_name)
        except NotFoundError:
            raise UnauthenticatedError(_INVALID) from None
        member = _member(conn, team, member_name, claims.get("email"))
        return Principal(team.id, team.name, member.id, member.name, False, f"oidc:{claims['sub']}")

    def _signing_key(self, kid: str) -> jwt.PyJWK:
        try:
            self._keys.get_jwk_set()  # from the cache, else fetched: a failure here is the IdP's
        except (jwt.PyJWTError, ValueError):  # ValueError: a body that is not JSON
            raise UnauthenticatedError(_UNREACHABLE) from None
        try:
            return self._keys.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError:  # refetching for an unknown kid failed
            raise UnauthenticatedError(_UNREACHABLE) from None
        except (jwt.PyJWTError, ValueError):  # no key has that kid, even after a refetch
            raise UnauthenticatedError(_INVALID) from None


def _name_claim(claims: dict[str, Any], claim: str) -> str:
    value = claims.get(claim)
    name = value.strip() if isinstance(value, str) else ""
    if not name or len(name) > NAME_LIMIT:
        raise UnauthenticatedError(_INVALID)
    return name


def _member(conn: Connection, team: TeamRow, name: str, email: object) -> MemberRow:
    try:
        return get_member(conn, team.id, name)
    except NotFoundError:
        pass
    kept = email.strip() if isinstance(email, str) else ""
    try:
        return add_member(conn, team.name, name, kept if 0 < len(kept) <= EMAIL_LIMIT else None)
    except ConflictError:  # a concurrent first login of the same member added it first
        return get_member(conn, team.id, name)
