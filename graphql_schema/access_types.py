"""GraphQL types of access management: teams, their members, API keys (never their secrets or
hashes, save the one time a key is made), grants, and audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from trainingdb.versioning.access.audit import EventRow
from trainingdb.versioning.access.grants import GrantRow
from trainingdb.versioning.access.identities import MemberRow, TeamRow
from trainingdb.versioning.access.keys import KeyRow, NewKey


@strawberry.federation.type(
    inaccessible=True, description="A team: who grants are given to and API keys act for."
)
class Team:
    name: str
    members: int = strawberry.field(description="How many members it has.")
    created_at: datetime

    @classmethod
    def from_row(cls, row: TeamRow) -> Team:
        return cls(name=row.name, members=row.members, created_at=row.created_at)


@strawberry.federation.type(
    inaccessible=True, description="A member of a team (API keys may name one, for the audit log)."
)
class Member:
    team: str
    name: str
    email: str | None

    @classmethod
    def from_row(cls, row: MemberRow) -> Member:
        return cls(team=row.team, name=row.name, email=row.email)


@strawberry.federation.type(
    inaccessible=True, description="An API key, without its secret (only its visible prefix)."
)
class ApiKey:
    prefix: str = strawberry.field(description="Names the key (`tdb_<prefix>_...`).")
    team: str | None = strawberry.field(description="The team it acts for (none: admin key).")
    member: str | None = strawberry.field(description="The member of the team it names.")
    admin: bool = strawberry.field(description="Whether it may do everything.")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: KeyRow) -> ApiKey:
        return cls(
            prefix=row.prefix,
            team=row.team,
            member=row.member,
            admin=row.admin,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )


@strawberry.federation.type(inaccessible=True, description="A key just made.")
class NewApiKey:
    key: str = strawberry.field(
        description="The whole key, to send as `Authorization: Bearer`: shown only now, stored "
        "only as a hash."
    )
    api_key: ApiKey

    @classmethod
    def from_new(cls, made: NewKey) -> NewApiKey:
        return cls(key=made.key, api_key=ApiKey.from_row(made.row))


@strawberry.federation.type(
    inaccessible=True, description="A team's role on the refs of a dataset that `refs` matches."
)
class Grant:
    dataset: str
    team: str
    role: str = strawberry.field(description="viewer, annotator, editor or admin.")
    refs: str = strawberry.field(description="A pattern over branch and tag names ('*': all).")
    created_at: datetime

    @classmethod
    def from_row(cls, row: GrantRow) -> Grant:
        return cls(
            dataset=row.dataset,
            team=row.team,
            role=row.role.value,
            refs=row.refs,
            created_at=row.created_at,
        )


@strawberry.federation.type(
    inaccessible=True, description="One change in the audit trail: who changed what, when, where."
)
class AuditEvent:
    id: strawberry.ID = strawberry.field(description="Pass as `before` for older events.")
    at: datetime
    actor: str = strawberry.field(description="`team/member`, `team` or `admin`.")
    credential: str = strawberry.field(
        description="How the actor proved it: `key:<prefix>`, `oidc:<subject>`, `local`, `cli`."
    )
    action: str
    dataset: str | None
    ref: str | None = strawberry.field(description="The ref, or the refs pattern of a grant.")
    detail: JSON
    request_id: str | None

    @classmethod
    def from_row(cls, row: EventRow) -> AuditEvent:
        detail: Any = row.detail
        return cls(
            id=strawberry.ID(str(row.id)),
            at=row.at,
            actor=row.actor,
            credential=row.credential,
            action=row.action,
            dataset=row.dataset,
            ref=row.ref,
            detail=detail,
            request_id=row.request_id,
        )
