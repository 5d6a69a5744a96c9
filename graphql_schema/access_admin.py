"""Access management over GraphQL: teams, members, API keys, grants, and the audit log.

Rules (access.policy decides; this module only asks it):

- Teams, members and keys are an admin's business: anyone else gets FORBIDDEN.
- Grants on a dataset may also be set, revoked and listed by a team holding the admin role on
  all of that dataset's refs ('*'); a dataset it cannot read is NOT_FOUND, one where it holds
  less is FORBIDDEN. Listing every grant, across datasets, is for admins.
- The audit log: an admin reads all of it; a team reads the events of a dataset on which it
  holds the admin role on '*', and must name that dataset.

Each change is one transaction with its audit event; a key's secret is never in the event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, TypeVar

import strawberry
from sqlalchemy import Connection

from trainingdb.versioning.access import audit, grants, identities, keys
from trainingdb.versioning.access.policy import Action, DatasetAccess, Gate
from trainingdb.versioning.errors import InvalidInputError, NotFoundError
from trainingdb.versioning.inputs import row_id

from .access_types import ApiKey, AuditEvent, Grant, Member, NewApiKey, Team
from .context import Context, run_read, run_write

Info = strawberry.Info[Context, None]
T = TypeVar("T")
Detail = dict[str, object]

DATASET = "The dataset's name, or its id."
REFS = "Branches and tags it covers, as a pattern ('*': all of them; 'team-a/*')."


def _dataset(conn: Connection, gate: Gate, text: str) -> DatasetAccess:
    """The dataset `text` names as `grants.find_dataset` reads it (a name, else an id), if the
    principal may read it; NOT_FOUND with one message whether it is missing or unreadable."""
    try:
        row = grants.find_dataset(conn, text)
    except NotFoundError:
        pk = row_id(text)
        if pk is None:
            raise
        return gate.dataset_by_id(conn, pk)
    if row.name == text:
        return gate.dataset(conn, text)
    return gate.dataset_by_id(conn, row.id)


def _managed(conn: Connection, gate: Gate, text: str, action: Action) -> DatasetAccess:
    """The dataset `text` names, if the principal may do `action` (dataset-wide) on it."""
    return gate.require(conn, _dataset(conn, gate, text).dataset.id, action)


async def _as_admin(info: Info, action: str, work: Callable[[Connection], tuple[T, Detail]]) -> T:
    """`work(conn)` (its result and its audit detail) in one transaction, for admins only."""
    context = info.context

    def call(conn: Connection) -> T:
        context.gate.require_admin(action)
        result, detail = work(conn)
        context.audit(conn, action, None, None, None, detail)
        return result

    return await run_write(context.engine, call)


async def _on_grants(
    info: Info,
    action: str,
    dataset: str,
    refs: str,
    work: Callable[[Connection, str], tuple[T, Detail]],
) -> T:
    """`work(conn, dataset name)` in one transaction, if the principal may manage access to
    `dataset`, with its audit event on that dataset."""
    context = info.context
    gate = context.gate

    def call(conn: Connection) -> T:
        access = _managed(conn, gate, dataset, Action.MANAGE_ACCESS)
        found = access.dataset
        result, detail = work(conn, found.name)
        context.audit(conn, action, found.id, found.name, refs, detail)
        gate.forget(found.id)  # the principal's own grants may have changed
        return result

    return await run_write(context.engine, call)


@strawberry.type
class AccessMutations:
    @strawberry.federation.mutation(
        inaccessible=True, description="A new team (admins); CONFLICT if the name is taken."
    )
    async def create_team(self, info: Info, name: str) -> Team:
        def work(conn: Connection) -> tuple[Team, Detail]:
            row = identities.create_team(conn, name)
            return Team.from_row(row), {"team": row.name}

        return await _as_admin(info, "create a team", work)

    @strawberry.federation.mutation(
        inaccessible=True, description="A new member of a team (admins)."
    )
    async def add_member(
        self, info: Info, team: str, name: str, email: str | None = None
    ) -> Member:
        def work(conn: Connection) -> tuple[Member, Detail]:
            row = identities.add_member(conn, team, name, email)
            return Member.from_row(row), {"team": row.team, "member": row.name}

        return await _as_admin(info, "add a member", work)

    @strawberry.federation.mutation(
        inaccessible=True,
        description="A new API key (admins): for a team (and one of its members), or an admin "
        "key. Its secret is in the answer only.",
    )
    async def create_api_key(
        self,
        info: Info,
        team: Annotated[
            str | None, strawberry.argument(description="The team it acts for.")
        ] = None,
        member: Annotated[
            str | None, strawberry.argument(description="The member of `team` it names.")
        ] = None,
        admin: Annotated[bool, strawberry.argument(description="A key for admins.")] = False,
        expires_in_hours: Annotated[
            int | None, strawberry.argument(description="Its lifetime (default: no end).")
        ] = None,
    ) -> NewApiKey:
        lifetime = None if expires_in_hours is None else timedelta(hours=expires_in_hours)

        def work(conn: Connection) -> tuple[NewApiKey, Detail]:
            made = keys.create_key(conn, team=team, member=member, admin=admin, expires_in=lifetime)
            row = made.row
            detail: Detail = {"key": row.prefix, "team": row.team, "member": row.member}
            detail |= {"admin": admin, "expires_in_hours": expires_in_hours}
            return NewApiKey.from_new(made), detail

        return await _as_admin(info, "create a key", work)

    @strawberry.federation.mutation(
        inaccessible=True, description="Revoke the key with `prefix` (admins): it stops at once."
    )
    async def revoke_api_key(self, info: Info, prefix: str) -> ApiKey:
        def work(conn: Connection) -> tuple[ApiKey, Detail]:
            row = keys.revoke_key(conn, prefix)
            return ApiKey.from_row(row), {"key": row.prefix}

        return await _as_admin(info, "revoke a key", work)

    @strawberry.federation.mutation(
        inaccessible=True,
        description="Give a team a role on a dataset's refs, replacing its role for the same "
        "pattern (admins, and teams that are admin on all of the dataset).",
    )
    async def set_grant(
        self,
        info: Info,
        team: str,
        dataset: Annotated[str, strawberry.argument(description=DATASET)],
        role: Annotated[str, strawberry.argument(description="viewer, annotator, editor, admin.")],
        refs: Annotated[str, strawberry.argument(description=REFS)] = grants.ALL_REFS,
    ) -> Grant:
        def work(conn: Connection, name: str) -> tuple[Grant, Detail]:
            row = grants.set_grant(conn, team, name, role, refs)
            return Grant.from_row(row), {"team": row.team, "role": row.role.value}

        return await _on_grants(info, "set a grant", dataset, refs, work)

    @strawberry.federation.mutation(
        inaccessible=True,
        description="Remove a team's grant on a dataset for exactly the pattern `refs`; the "
        "grant removed (admins, and teams that are admin on all of the dataset).",
    )
    async def revoke_grant(
        self,
        info: Info,
        team: str,
        dataset: Annotated[str, strawberry.argument(description=DATASET)],
        refs: Annotated[str, strawberry.argument(description=REFS)] = grants.ALL_REFS,
    ) -> Grant:
        def work(conn: Connection, name: str) -> tuple[Grant, Detail]:
            row = grants.revoke_grant(conn, team, name, refs)
            return Grant.from_row(row), {"team": row.team, "role": row.role.value}

        return await _on_grants(info, "revoke a grant", dataset, refs, work)


@strawberry.type
class AccessQueries:
    @strawberry.federation.field(inaccessible=True, description="Every team by name (admins).")
    async def teams(self, info: Info) -> list[Team]:
        info.context.gate.require_admin("list teams")
        rows = await run_read(info.context.engine, identities.list_teams)
        return [Team.from_row(row) for row in rows]

    @strawberry.federation.field(
        inaccessible=True, description="Every API key, oldest first, without secrets (admins)."
    )
    async def api_keys(self, info: Info) -> list[ApiKey]:
        info.context.gate.require_admin("list API keys")
        rows = await run_read(info.context.engine, keys.list_keys)
        return [ApiKey.from_row(row) for row in rows]

    @strawberry.federation.field(
        inaccessible=True,
        description="Grants by dataset, team and pattern. Admins see all of them; a team that "
        "is admin on all of a dataset sees that dataset's, and must name it.",
    )
    async def grants(
        self,
        info: Info,
        dataset: Annotated[str | None, strawberry.argument(description=DATASET)] = None,
        team: Annotated[str | None, strawberry.argument(description="Only this team's.")] = None,
    ) -> list[Grant]:
        gate = info.context.gate

        def read(conn: Connection) -> list[grants.GrantRow]:
            if dataset is None:
                gate.require_admin("list the grants of every dataset")
                return grants.list_grants(conn, team=team)
            found = _managed(conn, gate, dataset, Action.MANAGE_ACCESS).dataset
            return grants.list_grants(conn, team=team, dataset=found.name)

        return [Grant.from_row(row) for row in await run_read(info.context.engine, read)]

    @strawberry.federation.field(
        inaccessible=True,
        description="The audit trail, newest first. Admins read all of it; a team that is "
        "admin on all of a dataset reads that dataset's events, and must name it.",
    )
    async def audit_log(
        self,
        info: Info,
        dataset: Annotated[str | None, strawberry.argument(description=DATASET)] = None,
        first: Annotated[int, strawberry.argument(description="How many events.")] = 100,
        before: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only events older than this one (the last `id`)."),
        ] = None,
    ) -> list[AuditEvent]:
        gate = info.context.gate
        if dataset is None:
            gate.require_admin("reading the whole audit log (name a dataset)")
        older = None if before is None else row_id(before)
        if before is not None and older is None:
            raise InvalidInputError(f"auditLog.before: {before!r} is not an event id")

        def read(conn: Connection) -> list[audit.EventRow]:
            found = None
            if dataset is not None:
                found = _managed(conn, gate, dataset, Action.READ_AUDIT).dataset.id
            return audit.events(conn, dataset_id=found, before=older, limit=first)

        return [AuditEvent.from_row(row) for row in await run_read(info.context.engine, read)]
