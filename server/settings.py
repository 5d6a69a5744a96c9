"""Settings from the environment, overridden by command-line flags.

| setting                  | default                      | meaning                               |
| TRAININGDB_DATA_DIR      | ./.trainingdb                | embedded PostgreSQL data, local blobs |
| TRAININGDB_DATABASE_URL  | (unset: embedded PostgreSQL) | an external PostgreSQL to use instead |
| TRAININGDB_BLOB_URL      | file://<data dir>/blobs      | where media bytes are stored          |
| TRAININGDB_SECRET_KEY    | <data dir>/secret.key        | signs blob links (share it: servers)  |
| TRAININGDB_CORS_ORIGINS  | (unset: no browser origin)   | origins whose pages may call the API  |

TRAININGDB_CORS_ORIGINS is a comma-separated list of origins (`https://labels.example.com`,
`http://localhost:5173`), or `*` for any; each is a scheme and a host, with a port if needed.

| request setting              | default         | meaning                                     |
| TRAININGDB_MAX_REQUEST_BYTES | 8388608 (8 MiB) | the largest /graphql request body, in bytes |

A larger body answers 413 before it is read (by its Content-Length), or as soon as it passes the
limit (a chunked one): one request cannot make the server hold more. WebSocket messages
(subscriptions) are not counted; no endpoint receives media bytes.

| OIDC setting                 | default            | meaning                                   |
| TRAININGDB_OIDC_ISSUER       | (unset: no OIDC)   | the `iss` that bearer tokens must carry   |
| TRAININGDB_OIDC_AUDIENCE     | (unset: no OIDC)   | the `aud` that bearer tokens must carry   |
| TRAININGDB_OIDC_JWKS_URL     | (unset: no OIDC)   | where the issuer publishes its keys       |
| TRAININGDB_OIDC_TEAM_CLAIM   | trainingdb_team    | the claim naming the token holder's team  |
| TRAININGDB_OIDC_MEMBER_CLAIM | preferred_username | the claim naming the member of that team  |

OIDC bearer tokens are accepted when the issuer, audience and JWKS URL are all set; setting only
some of them is an error. The JWKS URL must be https, or http on a loopback host (a test or a
sidecar): keys fetched over plain http from elsewhere could be swapped on the way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DATA_DIR = "TRAININGDB_DATA_DIR"
DATABASE_URL = "TRAININGDB_DATABASE_URL"
BLOB_URL = "TRAININGDB_BLOB_URL"
# Set by `serve --local-admin` for its worker processes; not a user setting.
LOCAL_ADMIN = "TRAININGDB_LOCAL_ADMIN"
SECRET_KEY = "TRAININGDB_SECRET_KEY"  # noqa: S105 (the variable's name)
CORS_ORIGINS = "TRAININGDB_CORS_ORIGINS"
MAX_REQUEST_BYTES = "TRAININGDB_MAX_REQUEST_BYTES"
OIDC_ISSUER = "TRAININGDB_OIDC_ISSUER"
OIDC_AUDIENCE = "TRAININGDB_OIDC_AUDIENCE"
OIDC_JWKS_URL = "TRAININGDB_OIDC_JWKS_URL"
OIDC_TEAM_CLAIM = "TRAININGDB_OIDC_TEAM_CLAIM"
OIDC_MEMBER_CLAIM = "TRAININGDB_OIDC_MEMBER_CLAIM"

DEFAULT_DATA_DIR = Path(".trainingdb")
DEFAULT_TEAM_CLAIM = "trainingdb_team"
DEFAULT_MEMBER_CLAIM = "preferred_username"
# Room for the client's default batch (5,000 instances, about 1 MiB of JSON) several times over;
# parsed, a body takes several times its size in memory.
DEFAULT_MAX_REQUEST_BYTES = 8 << 20
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class SettingsError(Exception):
    """A setting is wrong or names something unreachable; the message is one line for a user."""


@dataclass(frozen=True, slots=True)
class OidcSettings:
    """Where OIDC bearer tokens come from and which claims name the team and the member."""

    issuer: str
    audience: str
    jwks_url: str
    team_claim: str = DEFAULT_TEAM_CLAIM
    member_claim: str = DEFAULT_MEMBER_CLAIM


def parse_origins(text: str) -> tuple[str, ...]:
    """The origins of TRAININGDB_CORS_ORIGINS; SettingsError naming one that is not an origin."""
    origins = tuple(part.strip().rstrip("/") for part in text.split(",") if part.strip())
    for origin in origins:
        if origin == "*":
            continue
        parts = urlsplit(origin)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path:
            raise SettingsError(
                f"{CORS_ORIGINS}: {origin!r} is not an origin: give a scheme and a host, "
                "and a port if needed (https://labels.example.com), or *"
            )
    return origins


def parse_byte_count(text: str) -> int:
    """The byte count of TRAININGDB_MAX_REQUEST_BYTES (unset or empty: the default);
    SettingsError unless it is a positive integer."""
    given = text.strip()
    if not given:
        return DEFAULT_MAX_REQUEST_BYTES
    # Not int() alone: it takes "+5", "1_000" and non-ASCII digits, which a typo may well be.
    if not given.isascii() or not given.isdigit() or int(given) < 1:
        raise SettingsError(
            f"{MAX_REQUEST_BYTES}: {text!r} is not a number of bytes: give a positive integer "
            f"(the default is {DEFAULT_MAX_REQUEST_BYTES}, 8 MiB)"
        )
    return int(given)


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str | None
    blob_url: str
    secret_key: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_team_claim: str = DEFAULT_TEAM_CLAIM
    oidc_member_claim: str = DEFAULT_MEMBER_CLAIM
    cors_origins: tuple[str, ...] = ()
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES

    @classmethod
    def resolve(
        cls,
        *,
        data_dir: Path | None = None,
        database_url: str | None = None,
        blob_url: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Settings from explicit values, else `environ` (default os.environ), else defaults."""
        env = os.environ if environ is None else environ
        resolved_dir = (data_dir or Path(env.get(DATA_DIR) or DEFAULT_DATA_DIR)).expanduser()
        resolved_dir = resolved_dir.absolute()
        if resolved_dir.exists() and not resolved_dir.is_dir():
            raise SettingsError(f"{DATA_DIR}: {resolved_dir} exists and is not a directory")
        url = database_url or env.get(DATABASE_URL) or None
        blobs = blob_url or env.get(BLOB_URL) or (resolved_dir / "blobs").as_uri()
        secret = env.get(SECRET_KEY) or None
        return cls(
            data_dir=resolved_dir,
            database_url=url,
            blob_url=blobs,
            secret_key=secret,
            oidc_issuer=env.get(OIDC_ISSUER) or None,
            oidc_audience=env.get(OIDC_AUDIENCE) or None,
            oidc_jwks_url=env.get(OIDC_JWKS_URL) or None,
            oidc_team_claim=env.get(OIDC_TEAM_CLAIM) or DEFAULT_TEAM_CLAIM,
            oidc_member_claim=env.get(OIDC_MEMBER_CLAIM) or DEFAULT_MEMBER_CLAIM,
            cors_origins=parse_origins(env.get(CORS_ORIGINS) or ""),
            max_request_bytes=parse_byte_count(env.get(MAX_REQUEST_BYTES) or ""),
        )

    @property
    def embedded(self) -> bool:
        """True when no external database is configured and an embedded one must run."""
        return self.database_url is None

    @property
    def oidc(self) -> OidcSettings | None:
        """The OIDC settings, None when none are set; SettingsError when only some are."""
        given = {
            OIDC_ISSUER: self.oidc_issuer,
            OIDC_AUDIENCE: self.oidc_audience,
            OIDC_JWKS_URL: self.oidc_jwks_url,
        }
        missing = [name for name, value in given.items() if value is None]
        if len(missing) == len(given):
            return None
        if missing:
            raise SettingsError(f"OIDC needs {', '.join(missing)} as well (or none of the three)")
        assert self.oidc_issuer is not None
        assert self.oidc_audience is not None
        assert self.oidc_jwks_url is not None
        _check_jwks_url(self.oidc_jwks_url)
        return OidcSettings(
            self.oidc_issuer,
            self.oidc_audience,
            self.oidc_jwks_url,
            self.oidc_team_claim,
            self.oidc_member_claim,
        )


def _check_jwks_url(url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed [IPv6] host
        parts = None
    if parts is None or not parts.hostname or parts.scheme not in ("http", "https"):
        raise SettingsError(f"{OIDC_JWKS_URL}: {url!r} is not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise SettingsError(f"{OIDC_JWKS_URL}: use https (plain http only on a loopback host)")
