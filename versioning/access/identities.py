"""Teams and their members: the principals grants name.

Each function runs in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from trainingdb.versioning.errors import ConflictError, InvalidInputError, NotFoundError
from trainingdb.versioning.models import Member, Team

NAME_LIMIT = 200
EMAIL_LIMIT = 320  # RFC 5321: 64 for the local part, 255 for the domain, and the @


@dataclass(frozen=True, slots=True)
class TeamRow:
    id: int
    name: str
    created_at: datetime
    members: int


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: int
    team: str
    name: str
    email: str | None


def _name(value: str, what: str) -> str:
    name = value.strip()
    if not name or len(name) > NAME_LIMIT:
        raise InvalidInputError(f"{what} name must be 1 to {NAME_LIMIT} characters, not {value!r}")
    return name


def create_team(conn: Connection, name: str) -> TeamRow:
    """create_team: a new team named `name` (CONFLICT if taken); O(1)."""
    name = _name(name, "team")
    savepoint = conn.begin_nested()
    try:
        row = conn.execute(insert(Team).values(name=name).returning(Team.id, Team.created_at)).one()
    except IntegrityError:
        savepoint.rollback()
        raise ConflictError(f"team {name!r} already exists") from None
    savepoint.commit()
    return TeamRow(row.id, name, row.created_at, 0)


def get_team(conn: Connection, name: str) -> TeamRow:
    """get_team: the team named `name`, or NOT_FOUND; O(1)."""
    for team in _teams(conn, name):
        return team
    raise NotFoundError(f"team {name!r} does not exist")


def list_teams(conn: Connection) -> list[TeamRow]:
    """list_teams: every team by name, with its member count; O(teams + members)."""
    return _teams(conn, None)


def _teams(conn: Connection, name: str | None) -> list[TeamRow]:
    members = (
        select(func.count()).where(Member.team_id == Team.id).scalar_subquery().label("members")
    )
    statement = select(Team.id, Team.name, Team.created_at, members).order_by(Team.name)
    if name is not None:
        statement = statement.where(Team.name == name)
    return [TeamRow(*row) for row in conn.execute(statement)]


def add_member(conn: Connection, team: str, name: str, email: str | None = None) -> MemberRow:
    """add_member: a new member `name` of `team` (CONFLICT if the team has one so named); O(1)."""
    found = get_team(conn, team)
    name = _name(name, "member")
    if email is not None and len(email) > EMAIL_LIMIT:
        raise InvalidInputError(
            f"member email is {len(email):,} characters long; at most {EMAIL_LIMIT} are allowed"
        )
    savepoint = conn.begin_nested()
    try:
        member_id = conn.scalar(
            insert(Member).values(team_id=found.id, name=name, email=email).returning(Member.id)
        )
    except IntegrityError:
        savepoint.rollback()
        raise ConflictError(f"team {team!r} already has a member {name!r}") from None
    savepoint.commit()
    assert member_id is not None
    return MemberRow(member_id, found.name, name, email)


def get_member(conn: Connection, team_id: int, name: str) -> MemberRow:
    """get_member: member `name` of the team `team_id`, or NOT_FOUND; O(1)."""
    row = conn.execute(
        select(Member.id, Team.name, Member.name, Member.email)
        .join(Team, Team.id == Member.team_id)
        .where(Member.team_id == team_id, Member.name == name)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"member {name!r} does not exist in that team")
    return MemberRow(*row)
