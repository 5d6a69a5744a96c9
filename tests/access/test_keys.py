"""API keys: shown once, stored hashed, found by prefix; revoked or expired keys stop at once."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import Connection, select, text

from trainingdb.versioning.access import identities, keys
from trainingdb.versioning.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    UnauthenticatedError,
)
from trainingdb.versioning.models import ApiKey


@pytest.fixture
def team(conn: Connection) -> identities.TeamRow:
    made = identities.create_team(conn, "vision")
    identities.add_member(conn, "vision", "ada", "ada@example.com")
    return made


def test_a_key_authenticates_as_its_team_and_member(
    conn: Connection, team: identities.TeamRow
) -> None:
    made = keys.create_key(conn, team="vision", member="ada")
    principal = keys.authenticate(conn, made.key)
    assert (principal.team, principal.member, principal.admin) == ("vision", "ada", False)
    assert principal.team_id == team.id
    admin = keys.authenticate(conn, keys.create_key(conn, admin=True).key)
    assert (admin.team, admin.admin) == (None, True)


def test_only_the_hash_and_prefix_are_stored(conn: Connection, team: identities.TeamRow) -> None:
    made = keys.create_key(conn, team="vision")
    stored = conn.execute(select(ApiKey.prefix, ApiKey.key_hash)).one()
    assert made.key.startswith(f"tdb_{stored.prefix}_")
    assert stored.key_hash == hashlib.sha256(made.key.encode()).digest()
    dump = conn.execute(text("SELECT row_to_json(k)::text FROM api_key k")).scalar_one()
    assert made.key.split("_", 2)[2] not in dump  # the secret may itself hold "_"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),  # another secret, same prefix
        lambda k: "tdb_000000000000_" + k.split("_", 2)[2],  # unknown prefix
        lambda k: k[4:],  # not a key at all
        lambda k: "",
    ],
)
def test_wrong_keys_are_refused_alike(
    conn: Connection, team: identities.TeamRow, spoil: object
) -> None:
    made = keys.create_key(conn, team="vision")
    assert callable(spoil)
    with pytest.raises(UnauthenticatedError, match=r"^the API key is not valid$"):
        keys.authenticate(conn, spoil(made.key))


def test_revoked_and_expired_keys_stop_working(conn: Connection, team: identities.TeamRow) -> None:
    revoked = keys.create_key(conn, team="vision")
    keys.authenticate(conn, revoked.key)
    assert keys.revoke_key(conn, revoked.row.prefix).revoked_at is not None
    with pytest.raises(UnauthenticatedError):
        keys.authenticate(conn, revoked.key)
    with pytest.raises(ConflictError, match="was revoked"):
        keys.revoke_key(conn, revoked.key)  # the whole key names its prefix too
    expiring = keys.create_key(conn, team="vision", expires_in=timedelta(hours=1))
    keys.authenticate(conn, expiring.key)
    conn.execute(text("UPDATE api_key SET expires_at = now() - interval '1 second'"))
    with pytest.raises(UnauthenticatedError):
        keys.authenticate(conn, expiring.key)


def test_bad_requests_name_what_is_wrong(conn: Connection, team: identities.TeamRow) -> None:
    with pytest.raises(InvalidInputError, match="belongs to a team"):
        keys.create_key(conn)
    with pytest.raises(InvalidInputError, match="needs the member's team"):
        keys.create_key(conn, member="ada", admin=True)
    with pytest.raises(InvalidInputError, match="must be positive"):
        keys.create_key(conn, team="vision", expires_in=timedelta(0))
    with pytest.raises(NotFoundError, match="team 'audio' does not exist"):
        keys.create_key(conn, team="audio")
    with pytest.raises(NotFoundError, match="member 'bob' does not exist"):
        keys.create_key(conn, team="vision", member="bob")
    with pytest.raises(NotFoundError, match="no key has the prefix"):
        keys.revoke_key(conn, "abcdefabcdef")
    with pytest.raises(ConflictError, match="team 'vision' already exists"):
        identities.create_team(conn, "vision")
    with pytest.raises(ConflictError, match="already has a member 'ada'"):
        identities.add_member(conn, "vision", "ada")
    with pytest.raises(InvalidInputError, match="team name must be"):
        identities.create_team(conn, "  ")
    assert [t.members for t in identities.list_teams(conn)] == [1]
    assert conn.scalar(text("SELECT count(*) FROM api_key")) == 0
