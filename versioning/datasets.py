"""Datasets: the catalog every other read starts from; create, read, update, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, insert, select
from sqlalchemy import delete as sa_delete
from sqlalchemy import update as sa_update

from .atomic import atomic
from .commits import record_root
from .errors import ConflictError, NotFoundError
from .models import Branch, Dataset
from .naming import check_name


@dataclass(frozen=True, slots=True)
class DatasetRow:
    id: int
    name: str
    description: str
    default_branch: str
    created_at: datetime


_COLUMNS = (
    Dataset.id,
    Dataset.name,
    Dataset.description,
    Dataset.default_branch,
    Dataset.created_at,
)


def list_datasets(conn: Connection, where: ColumnElement[bool] | None = None) -> list[DatasetRow]:
    """Every dataset (matching `where`: access.policy.readable_datasets), by name; one
    statement."""
    statement = select(*_COLUMNS).order_by(Dataset.name)
    if where is not None:
        statement = statement.where(where)
    rows = conn.execute(statement)
    return [DatasetRow(*row) for row in rows]


def get_dataset(conn: Connection, name: str) -> DatasetRow:
    """The dataset called `name`; NotFoundError names it when there is none."""
    row = conn.execute(select(*_COLUMNS).where(Dataset.name == name)).one_or_none()
    if row is None:
        raise NotFoundError(f"dataset {name!r} does not exist")
    return DatasetRow(*row)


@atomic
def create_dataset(
    conn: Connection,
    name: str,
    *,
    description: str = "",
    owner_team_id: int | None = None,
    default_branch: str = "main",
) -> DatasetRow:
    """A new dataset with an empty default branch; CONFLICT if the name is taken."""
    check_name(name, "dataset name", allow_slash=False)
    check_name(default_branch, "default branch name")
    if conn.scalar(select(Dataset.id).where(Dataset.name == name)) is not None:
        raise ConflictError(f"dataset {name!r} already exists")
    row = conn.execute(
        insert(Dataset)
        .values(
            name=name,
            description=description,
            owner_team_id=owner_team_id,
            default_branch=default_branch,
        )
        .returning(*_COLUMNS)
    ).one()
    root = conn.execute(
        insert(Branch)
        .values(dataset_id=row.id, name=default_branch, owner_team_id=owner_team_id)
        .returning(Branch.id)
    ).scalar_one()
    record_root(conn, row.id, root)
    return DatasetRow(*row)


def get_dataset_by_id(conn: Connection, dataset_id: int) -> DatasetRow:
    """The dataset with id `dataset_id`; NOT_FOUND when there is none."""
    row = conn.execute(select(*_COLUMNS).where(Dataset.id == dataset_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"dataset {dataset_id} does not exist")
    return DatasetRow(*row)


@atomic
def update_dataset(
    conn: Connection,
    name: str,
    *,
    new_name: str | None = None,
    description: str | None = None,
    default_branch: str | None = None,
) -> DatasetRow:
    """Rename, describe, or point a dataset at another live default branch; None keeps a field."""
    current = get_dataset(conn, name)
    values: dict[str, str] = {}
    if new_name is not None and new_name != name:
        check_name(new_name, "dataset name", allow_slash=False)
        if conn.scalar(select(Dataset.id).where(Dataset.name == new_name)) is not None:
            raise ConflictError(f"dataset {new_name!r} already exists")
        values["name"] = new_name
    if description is not None:
        values["description"] = description
    if default_branch is not None:
        live = conn.scalar(
            select(Branch.id).where(
                Branch.dataset_id == current.id,
                Branch.name == default_branch,
                Branch.deleted_at.is_(None),
            )
        )
        if live is None:
            raise NotFoundError(f"branch {default_branch!r} does not exist in dataset {name!r}")
        values["default_branch"] = default_branch
    if not values:
        return current
    row = conn.execute(
        sa_update(Dataset).where(Dataset.id == current.id).values(**values).returning(*_COLUMNS)
    ).one()
    return DatasetRow(*row)


@atomic
def delete_dataset(conn: Connection, name: str) -> DatasetRow:
    """Delete a dataset with every branch, commit, tag, revision and blob record it holds.

    Blob bytes stay in the blob store: they are content-addressed and may be shared.
    """
    current = get_dataset(conn, name)
    # Taking every branch lock first waits for writers in flight instead of failing them midway.
    conn.execute(select(Branch.id).where(Branch.dataset_id == current.id).with_for_update())
    conn.execute(sa_delete(Dataset).where(Dataset.id == current.id))
    return current
