"""Tags: a name for one committed state; O(1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from .atomic import atomic
from .errors import NotFoundError
from .events import RefChange, RefEvent, ref_changed
from .models import Tag
from .naming import check_name
from .refs import check_ref_name_free
from .versions import committed


@dataclass(frozen=True, slots=True)
class TagRow:
    dataset_id: int
    id: int
    name: str
    branch_id: int
    seq: int
    message: str
    created_by: str
    created_at: datetime


_COLUMNS = (
    Tag.dataset_id,
    Tag.id,
    Tag.name,
    Tag.branch_id,
    Tag.seq,
    Tag.message,
    Tag.created_by,
    Tag.created_at,
)


@atomic
def create_tag(
    conn: Connection,
    dataset_id: int,
    name: str,
    ref: str,
    *,
    message: str = "",
    created_by: str = "",
) -> TagRow:
    """create_tag: `name` for the commit `ref` names (a branch: its current commit, its own last
    or the one it was made from); O(1)."""
    check_name(name, "tag name")
    version = committed(conn, dataset_id, ref)
    check_ref_name_free(conn, dataset_id, name)
    row = conn.execute(
        insert(Tag)
        .values(
            dataset_id=dataset_id,
            name=name,
            branch_id=version.branch_id,
            seq=version.seq,
            message=message,
            created_by=created_by,
        )
        .returning(*_COLUMNS)
    ).one()
    made = TagRow(**row._asdict())
    ref_changed(conn, RefEvent(dataset_id, RefChange.TAG_CREATED, name, made.branch_id, made.seq))
    return made


@atomic
def delete_tag(conn: Connection, dataset_id: int, name: str) -> None:
    """delete_tag: the name is free again; NOT_FOUND if there is no such tag."""
    gone = conn.execute(
        delete(Tag)
        .where(Tag.dataset_id == dataset_id, Tag.name == name)
        .returning(Tag.branch_id, Tag.seq)
    ).one_or_none()
    if gone is None:
        raise NotFoundError(f"tag {name!r} does not exist")
    ref_changed(conn, RefEvent(dataset_id, RefChange.TAG_DELETED, name, gone.branch_id, gone.seq))


def list_tags(conn: Connection, dataset_id: int) -> list[TagRow]:
    """The dataset's tags, by name."""
    rows = conn.execute(select(*_COLUMNS).where(Tag.dataset_id == dataset_id).order_by(Tag.name))
    return [TagRow(*row) for row in rows]


def by_ids(conn: Connection, ids: Sequence[int]) -> list[TagRow]:
    """by_ids: the tags with these ids, in any dataset; one statement (tags are few)."""
    rows = conn.execute(select(*_COLUMNS).where(Tag.id.in_(list(ids))))
    return [TagRow(*row) for row in rows]
