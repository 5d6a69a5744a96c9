"""Reading datasets: the catalog every other read starts from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from .errors import NotFoundError
from .models import Dataset


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


def list_datasets(conn: Connection) -> list[DatasetRow]:
    """Every dataset, by name; one statement."""
    rows = conn.execute(select(*_COLUMNS).order_by(Dataset.name))
    return [DatasetRow(*row) for row in rows]


def get_dataset(conn: Connection, name: str) -> DatasetRow:
    """The dataset called `name`; NotFoundError names it when there is none."""
    row = conn.execute(select(*_COLUMNS).where(Dataset.name == name)).one_or_none()
    if row is None:
        raise NotFoundError(f"dataset {name!r} does not exist")
    return DatasetRow(*row)
