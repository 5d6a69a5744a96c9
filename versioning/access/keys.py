"""API keys: made once, stored as a hash, found by a visible prefix, checked on every request.

A key reads `tdb_<prefix>_<secret>`: the prefix (12 hex digits) is stored in clear so that
`keys list` and `keys revoke PREFIX` can name a key and a request finds its row in one index
probe; the secret is 32 random bytes. Only SHA-256 of the whole key is kept. A slow password hash
(argon2, scrypt) protects low-entropy secrets against guessing; a 256-bit random secret cannot
be guessed, so a fast hash is as safe here and costs microseconds on each request instead of
tens of milliseconds. The comparison is constant-time.

`authenticate` reads the key's row on every call: a revoked or expired key stops working on the
next request, on every server, with nothing cached to invalidate.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, insert, select, update

from trainingdb.versioning.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    UnauthenticatedError,
)
from trainingdb.versioning.models import ApiKey, Member, Team

from .identities import get_member, get_team
from .principal import Principal

MAX_LIFETIME = timedelta(days=100 * 365)

_FORMAT = re.compile(r"tdb_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True)
class KeyRow:
    prefix: str
    team: str | None
    member: str | None
    admin: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: `key` is the only time the secret is seen."""

    key: str
    row: KeyRow


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def create_key(
    conn: Connection,
    *,
    team: str | None = None,
    member: str | None = None,
    admin: bool = False,
    expires_in: timedelta | None = None,
) -> NewKey:
    """create_key: a key for `team` (and `member` of it), or an admin key; O(1)."""
    if team is None and not admin:
        raise InvalidInputError("a key belongs to a team (--team) unless it is an admin key")
    if member is not None and team is None:
        raise InvalidInputError("a member's key needs the member's team (--team)")
    if expires_in is not None and expires_in <= timedelta(0):
        raise InvalidInputError(f"a key's lifetime must be positive, not {expires_in}")
    if expires_in is not None and expires_in > MAX_LIFETIME:
        # Past this, `now() + lifetime` nears the end of PostgreSQL's timestamps; a key that
        # must never end is one with no lifetime.
        raise InvalidInputError(
            f"a key's lifetime must be at most {MAX_LIFETIME.days // 365} years "
            f"({MAX_LIFETIME // timedelta(hours=1):,} hours), not {expires_in}; "
            "omit it for a key with no end"
        )
    team_row = get_team(conn, team) if team is not None else None
    member_row = get_member(conn, team_row.id, member) if team_row and member else None
    prefix = secrets.token_hex(6)
    key = f"tdb_{prefix}_{secrets.token_urlsafe(32)}"
    expires_at = func.now() + expires_in if expires_in is not None else None
    row = conn.execute(
        insert(ApiKey)
        .values(
            prefix=prefix,
            key_hash=_digest(key),
            team_id=team_row.id if team_row else None,
            member_id=member_row.id if member_row else None,
            is_admin=admin,
            expires_at=expires_at,
        )
        .returning(ApiKey.created_at, ApiKey.expires_at)
    ).one()
    return NewKey(
        key,
        KeyRow(
            prefix,
            team_row.name if team_row else None,
            member_row.name if member_row else None,
            admin,
            row.created_at,
            row.expires_at,
            None,
        ),
    )


def _key_rows(conn: Connection, prefix: str | None) -> list[KeyRow]:
    statement = (
        select(
            ApiKey.prefix,
            Team.name,
            Member.name,
            ApiKey.is_admin,
            ApiKey.created_at,
            ApiKey.expires_at,
            ApiKey.revoked_at,
        )
        .outerjoin(Team, Team.id == ApiKey.team_id)
        .outerjoin(Member, Member.id == ApiKey.member_id)
        .order_by(ApiKey.created_at, ApiKey.id)
    )
    if prefix is not None:
        statement = statement.where(ApiKey.prefix == prefix)
    return [KeyRow(*row) for row in conn.execute(statement)]


def list_keys(conn: Connection) -> list[KeyRow]:
    """list_keys: every key (never its secret), oldest first; O(keys)."""
    return _key_rows(conn, None)


def revoke_key(conn: Connection, prefix: str) -> KeyRow:
    """revoke_key: the key with `prefix` stops working now (CONFLICT if it already had); O(1)."""
    prefix = prefix.removeprefix("tdb_").split("_")[0]
    found = _key_rows(conn, prefix)
    if not found:
        raise NotFoundError(f"no key has the prefix {prefix!r}")
    if found[0].revoked_at is not None:
        raise ConflictError(f"key {prefix} was revoked at {found[0].revoked_at:%Y-%m-%d %H:%M}")
    conn.execute(update(ApiKey).where(ApiKey.prefix == prefix).values(revoked_at=func.now()))
    return _key_rows(conn, prefix)[0]


def key_statement() -> Select[*tuple[Any, ...]]:
    """The key row `authenticate` reads, by the bound parameter `prefix`."""
    return (
        select(
            ApiKey.key_hash,
            ApiKey.team_id,
            Team.name.label("team"),
            ApiKey.member_id,
            Member.name.label("member"),
            ApiKey.is_admin,
            (
                ApiKey.revoked_at.is_(None)
                & (ApiKey.expires_at.is_(None) | (ApiKey.expires_at > func.now()))
            ).label("live"),
        )
        .outerjoin(Team, Team.id == ApiKey.team_id)
        .outerjoin(Member, Member.id == ApiKey.member_id)
        .where(ApiKey.prefix == bindparam("prefix"))
    )


_KEY = key_statement()


def key_prefix(presented: str) -> str:
    """key_prefix: the lookup prefix of a well-formed key; UNAUTHENTICATED otherwise."""
    match = _FORMAT.fullmatch(presented.strip())
    if match is None:
        raise UnauthenticatedError("the API key is not valid")
    return match.group(1)


def principal_of(row: Any, presented: str) -> Principal:
    """principal_of: the principal of key row `row` (from `key_statement`) if `presented` is
    its key and it is live; UNAUTHENTICATED otherwise. The comparison is constant-time."""
    if row is None or not hmac.compare_digest(row.key_hash, _digest(presented.strip())):
        raise UnauthenticatedError("the API key is not valid")
    if not row.live:
        raise UnauthenticatedError("the API key is not valid")
    credential = f"key:{key_prefix(presented)}"
    return Principal(row.team_id, row.team, row.member_id, row.member, row.is_admin, credential)


def authenticate(conn: Connection, presented: str) -> Principal:
    """authenticate: the principal `presented` (a whole key) acts as, or UNAUTHENTICATED when it
    is malformed, unknown, revoked or expired; one index probe."""
    row = conn.execute(_KEY, {"prefix": key_prefix(presented)}).one_or_none()
    return principal_of(row, presented)


def live_key(conn: Connection, prefix: str) -> None:
    """live_key: UNAUTHENTICATED unless the key with `prefix` exists and is neither revoked nor
    expired (a job queued with a key is checked again when it runs); one index probe."""
    live = conn.scalar(
        select(
            ApiKey.revoked_at.is_(None)
            & (ApiKey.expires_at.is_(None) | (ApiKey.expires_at > func.now()))
        ).where(ApiKey.prefix == prefix)
    )
    if not live:
        raise UnauthenticatedError(
            f"the API key {prefix} that submitted this was revoked or expired"
        )
