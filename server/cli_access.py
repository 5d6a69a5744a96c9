"""`trainingdb teams|members|keys|grants|audit ...`: who may use trainingdb, on which datasets,
and who changed what. Every change made here is in the audit trail, by the operator (`cli`).

They work beside a running server: with the embedded PostgreSQL a second process attaches to
the server already running on the data directory (server/embedded.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated

import orjson
import typer
from sqlalchemy import Connection

from trainingdb.versioning.access import audit, grants, identities, keys
from trainingdb.versioning.access.principal import OPERATOR
from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.inputs import INT64_MAX

from .cli_common import DatabaseUrl, DataDir, app, settings_of, user_errors
from .runtime import Runtime

teams = typer.Typer(help="Teams: who grants are given to.", no_args_is_help=True)
members = typer.Typer(help="Members of a team.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: shown once, stored hashed.", no_args_is_help=True)
app.add_typer(teams, name="teams")
app.add_typer(members, name="members")
app.add_typer(keys_app, name="keys")
grants_app = typer.Typer(help="Grants: a team's role on a dataset's refs.", no_args_is_help=True)
app.add_typer(grants_app, name="grants")

TeamOption = Annotated[str, typer.Option("--team", help="The team's name.")]
DatasetOption = Annotated[str, typer.Option("--dataset", help="The dataset's name or id.")]
RefsOption = Annotated[
    str, typer.Option("--refs", help="Branches and tags it covers, as a pattern ('team-a/*').")
]
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_LIFETIME = re.compile(r"(\d+)([dhm])")


@contextmanager
def _transaction(data_dir: DataDir, database_url: DatabaseUrl) -> Iterator[Connection]:
    """One transaction on the configured database, migrated first when it is the embedded one."""
    with user_errors(), Runtime.open(settings_of(data_dir, database_url, None)) as runtime:
        runtime.prepare_schema()
        with runtime.engine.begin() as conn:
            yield conn


def _audit(
    conn: Connection,
    action: str,
    dataset: str | None = None,
    refs: str | None = None,
    **detail: object,
) -> None:
    """The audit event of an access change made from the command line (by the operator)."""
    found = None if dataset is None else grants.find_dataset(conn, dataset)
    audit.record(
        conn,
        OPERATOR,
        action,
        dataset_id=None if found is None else found.id,
        dataset=dataset,
        ref=refs,
        detail=detail,
    )


def parse_lifetime(text: str) -> timedelta:
    """`30d`, `12h` or `90m` as a timedelta; BAD_USER_INPUT naming the option otherwise."""
    match = _LIFETIME.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise InvalidInputError(
            f"--expires takes a positive number of days, hours or minutes (30d, 12h, 90m), "
            f"not {text!r}"
        )
    try:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        raise InvalidInputError(f"--expires {text!r} is longer than any key can live") from None


def _when(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


@teams.command("create")
def teams_create(name: str, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Create team NAME."""
    with _transaction(data_dir, database_url) as conn:
        team = identities.create_team(conn, name)
        _audit(conn, "create a team", team=team.name)
    typer.echo(f"trainingdb: team {team.name!r} created")


@teams.command("list")
def teams_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List teams with their member counts."""
    with _transaction(data_dir, database_url) as conn:
        rows = identities.list_teams(conn)
    for team in rows:
        typer.echo(f"{team.name}\t{team.members} member(s)\tcreated {_when(team.created_at)}")


@members.command("add")
def members_add(
    name: str,
    team: TeamOption,
    email: Annotated[str | None, typer.Option(help="Contact address.")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add member NAME to a team."""
    with _transaction(data_dir, database_url) as conn:
        member = identities.add_member(conn, team, name, email)
        _audit(conn, "add a member", team=team, member=member.name)
    typer.echo(f"trainingdb: member {member.name!r} added to team {member.team!r}")


@keys_app.command("create")
def keys_create(
    team: Annotated[str | None, typer.Option("--team", help="The team the key acts for.")] = None,
    member: Annotated[str | None, typer.Option(help="The member (of --team) it names.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="A key for administrators.")] = False,
    expires: Annotated[
        str | None, typer.Option(help="Lifetime: 30d, 12h or 90m [default: never].")
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    with user_errors():
        lifetime = parse_lifetime(expires) if expires is not None else None
    with _transaction(data_dir, database_url) as conn:
        made = keys.create_key(conn, team=team, member=member, admin=admin, expires_in=lifetime)
        _audit(conn, "create a key", key=made.row.prefix, team=team, member=member, admin=admin)
    who = "admin" if admin and team is None else f"team {team!r}"
    if member:
        who += f", member {member!r}"
    typer.echo(
        f"trainingdb: key {made.row.prefix} created for {who}, expires "
        f"{_when(made.row.expires_at) if made.row.expires_at else 'never'}; "
        "it is shown only now:",
        err=True,
    )
    typer.echo(made.key)


@keys_app.command("list")
def keys_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List keys (prefix, owner, dates); never their secrets."""
    with _transaction(data_dir, database_url) as conn:
        rows = keys.list_keys(conn)
    for key in rows:
        owner = key.team or "-"
        if key.member:
            owner += f"/{key.member}"
        state = "revoked" if key.revoked_at else "active"
        typer.echo(
            f"{key.prefix}\t{owner}\t{'admin' if key.admin else 'key'}\t{state}\t"
            f"created {_when(key.created_at)}\texpires {_when(key.expires_at)}"
        )


@keys_app.command("revoke")
def keys_revoke(prefix: str, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Revoke the key with PREFIX (as `keys list` shows it); it stops working at once."""
    with _transaction(data_dir, database_url) as conn:
        key = keys.revoke_key(conn, prefix)
        _audit(conn, "revoke a key", key=key.prefix)
    typer.echo(f"trainingdb: key {key.prefix} revoked")


@grants_app.command("set")
def grants_set(
    team: TeamOption,
    dataset: DatasetOption,
    role: Annotated[str, typer.Option(help="viewer, annotator, editor or admin.")],
    refs: RefsOption = grants.ALL_REFS,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Give a team a role on a dataset (replacing its role for the same --refs)."""
    with _transaction(data_dir, database_url) as conn:
        grant = grants.set_grant(conn, team, dataset, role, refs)
        _audit(conn, "set a grant", grant.dataset, grant.refs, team=team, role=grant.role.value)
    typer.echo(
        f"trainingdb: team {grant.team!r} is {grant.role.value} on dataset {grant.dataset!r} "
        f"refs {grant.refs!r}"
    )


@grants_app.command("list")
def grants_list(
    team: Annotated[str | None, typer.Option("--team", help="Only this team's.")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Only this dataset's.")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List grants: dataset, team, role, refs pattern."""
    with _transaction(data_dir, database_url) as conn:
        rows = grants.list_grants(conn, team=team, dataset=dataset)
    for grant in rows:
        typer.echo(f"{grant.dataset}\t{grant.team}\t{grant.role.value}\t{grant.refs}")


@grants_app.command("revoke")
def grants_revoke(
    team: TeamOption,
    dataset: DatasetOption,
    refs: RefsOption = grants.ALL_REFS,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Remove a team's grant on a dataset for exactly --refs."""
    with _transaction(data_dir, database_url) as conn:
        grant = grants.revoke_grant(conn, team, dataset, refs)
        _audit(conn, "revoke a grant", grant.dataset, grant.refs, team=team)
    typer.echo(
        f"trainingdb: team {grant.team!r} no longer has {grant.role.value} on dataset "
        f"{grant.dataset!r} refs {grant.refs!r}"
    )


@app.command("audit")
def audit_log(
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Only this dataset's (name or id).")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many events, newest first.")] = 50,
    before: Annotated[
        int | None,
        typer.Option(min=1, max=INT64_MAX, help="Only events older than this event id (paging)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Show the audit trail: who changed what, when, where (newest first)."""
    with _transaction(data_dir, database_url) as conn:
        found = None if dataset is None else grants.find_dataset(conn, dataset).id
        rows = audit.events(conn, dataset_id=found, before=before, limit=limit)
    for event in rows:
        if as_json:
            typer.echo(orjson.dumps({**asdict(event), "at": event.at.isoformat()}).decode())
            continue
        where = event.dataset or "-"
        if event.ref:
            where += f"@{event.ref}" if event.dataset else event.ref
        detail = orjson.dumps(event.detail).decode() if event.detail else ""
        typer.echo(
            f"{event.id}\t{event.at:%Y-%m-%d %H:%M:%S}\t{event.actor} ({event.credential})\t"
            f"{event.action}\t{where}\t{detail}"
        )
