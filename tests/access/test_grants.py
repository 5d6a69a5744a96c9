"""Grants: a team's role on a dataset, per refs pattern; datasets named by name or id."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from trainingdb import versioning as v
from trainingdb.versioning.access import grants, identities
from trainingdb.versioning.errors import InvalidInputError, NotFoundError
from trainingdb.versioning.models import Role


@pytest.fixture
def world(conn: Connection) -> int:
    identities.create_team(conn, "vision")
    identities.create_team(conn, "audio")
    v.create_dataset(conn, "cars")
    return v.create_dataset(conn, "birds").id


def test_set_list_replace_and_revoke(conn: Connection, world: int) -> None:
    grants.set_grant(conn, "vision", "cars", "viewer")
    grants.set_grant(conn, "vision", "cars", "editor", "vision/*")
    grants.set_grant(conn, "audio", str(world), "annotator")  # by id
    listed = [(g.dataset, g.team, g.role, g.refs) for g in grants.list_grants(conn)]
    assert listed == [
        ("birds", "audio", Role.ANNOTATOR, "*"),
        ("cars", "vision", Role.VIEWER, "*"),
        ("cars", "vision", Role.EDITOR, "vision/*"),
    ]
    replaced = grants.set_grant(conn, "vision", "cars", "admin")
    assert replaced.role is Role.ADMIN
    assert len(grants.list_grants(conn, team="vision")) == 2
    assert [g.team for g in grants.list_grants(conn, dataset="birds")] == ["audio"]
    grants.revoke_grant(conn, "vision", "cars", "vision/*")
    assert [g.refs for g in grants.list_grants(conn, team="vision")] == ["*"]


def test_bad_grants_say_what_is_wrong(conn: Connection, world: int) -> None:
    for args, error, message in [
        (("vision", "cars", "owner"), InvalidInputError, "role 'owner' is not one of viewer"),
        (("vision", "cars", "viewer", "main; drop"), InvalidInputError, "refs pattern"),
        (("nobody", "cars", "viewer"), NotFoundError, "team 'nobody' does not exist"),
        (("vision", "planes", "viewer"), NotFoundError, "dataset 'planes' does not exist"),
        (("vision", "999999", "viewer"), NotFoundError, "dataset 999999 does not exist"),
    ]:
        with pytest.raises(error, match=message):
            grants.set_grant(conn, *args)
    with pytest.raises(NotFoundError, match="has no grant on dataset 'cars' for refs"):
        grants.revoke_grant(conn, "vision", "cars")
    assert grants.list_grants(conn) == []
