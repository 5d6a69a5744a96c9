"""Grants: a team's role on a dataset, optionally only on the refs a pattern matches.

`refs` is an fnmatch pattern over branch and tag names ('*': all of them; 'team-a/*': the
branches under team-a/). A team may hold several grants on one dataset, one per pattern, so it
can read `main` as a viewer and write `team-a/*` as an editor. Each function runs in the caller's
transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert

from trainingdb.versioning.datasets import DatasetRow, get_dataset, get_dataset_by_id
from trainingdb.versioning.errors import InvalidInputError, NotFoundError
from trainingdb.versioning.inputs import row_id
from trainingdb.versioning.models import Dataset, DatasetGrant, Role, Team

from .identities import get_team

ALL_REFS = "*"
_PATTERN = re.compile(r"[A-Za-z0-9._/*?\[\]!-]{1,200}")


@dataclass(frozen=True, slots=True)
class GrantRow:
    dataset: str
    team: str
    role: Role
    refs: str
    created_at: datetime


def find_dataset(conn: Connection, name_or_id: str) -> DatasetRow:
    """find_dataset: the dataset named `name_or_id`, or with that id when it is all digits and
    no dataset has that name; NOT_FOUND otherwise; O(1)."""
    try:
        return get_dataset(conn, name_or_id)
    except NotFoundError:
        pk = row_id(name_or_id)
        if pk is None:
            raise
        return get_dataset_by_id(conn, pk)


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"role {value!r} is not one of {roles}") from None


def _refs(pattern: str) -> str:
    if not _PATTERN.fullmatch(pattern):
        raise InvalidInputError(
            f"refs pattern {pattern!r} is not valid: use ref-name characters and the wildcards "
            "* ? [...], at most 200 characters"
        )
    return pattern


def set_grant(
    conn: Connection, team: str, dataset: str, role: str, refs: str = ALL_REFS
) -> GrantRow:
    """set_grant: `team` holds `role` on the refs of `dataset` that `refs` matches, replacing
    the role of a grant with the same pattern; O(1)."""
    chosen, pattern = _role(role), _refs(refs)
    found_team, found_dataset = get_team(conn, team), find_dataset(conn, dataset)
    statement = insert(DatasetGrant).values(
        dataset_id=found_dataset.id, team_id=found_team.id, role=chosen.value, refs=pattern
    )
    created_at = conn.scalar(
        statement.on_conflict_do_update(
            index_elements=["dataset_id", "team_id", "refs"], set_={"role": chosen.value}
        ).returning(DatasetGrant.created_at)
    )
    assert created_at is not None
    return GrantRow(found_dataset.name, found_team.name, chosen, pattern, created_at)


def list_grants(
    conn: Connection, *, team: str | None = None, dataset: str | None = None
) -> list[GrantRow]:
    """list_grants: grants by dataset, team and pattern, optionally of one team or dataset;
    O(grants)."""
    statement = (
        select(
            Dataset.name, Team.name, DatasetGrant.role, DatasetGrant.refs, DatasetGrant.created_at
        )
        .join(Dataset, Dataset.id == DatasetGrant.dataset_id)
        .join(Team, Team.id == DatasetGrant.team_id)
        .order_by(Dataset.name, Team.name, DatasetGrant.refs)
    )
    if team is not None:
        statement = statement.where(DatasetGrant.team_id == get_team(conn, team).id)
    if dataset is not None:
        statement = statement.where(DatasetGrant.dataset_id == find_dataset(conn, dataset).id)
    return [GrantRow(d, t, Role(r), p, c) for d, t, r, p, c in conn.execute(statement)]


def revoke_grant(conn: Connection, team: str, dataset: str, refs: str = ALL_REFS) -> GrantRow:
    """revoke_grant: remove `team`'s grant on `dataset` for exactly the pattern `refs`
    (NOT_FOUND if there is none); O(1)."""
    found_team, found_dataset = get_team(conn, team), find_dataset(conn, dataset)
    row = conn.execute(
        delete(DatasetGrant)
        .where(
            DatasetGrant.dataset_id == found_dataset.id,
            DatasetGrant.team_id == found_team.id,
            DatasetGrant.refs == refs,
        )
        .returning(DatasetGrant.role, DatasetGrant.created_at)
    ).one_or_none()
    if row is None:
        raise NotFoundError(
            f"team {team!r} has no grant on dataset {found_dataset.name!r} for refs {refs!r}"
        )
    return GrantRow(found_dataset.name, found_team.name, Role(row.role), refs, row.created_at)
