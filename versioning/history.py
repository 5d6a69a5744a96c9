"""history: every stored revision of one entity, on every branch, and the kills that hid one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from .models import Branch, EntityType, Kill
from .revisions import Content
from .tables import KINDS


@dataclass(frozen=True, slots=True)
class KilledBy:
    """A branch that hid a revision from its own view (and its descendants'), from `seq` on."""

    branch_id: int
    branch: str
    seq: int


@dataclass(frozen=True, slots=True)
class Revision:
    kind: EntityType
    branch_id: int
    branch: str
    row_id: int
    seq_from: int
    seq_to: int | None
    content: Content
    created_at: datetime
    killed_by: tuple[KilledBy, ...]


def history(conn: Connection, dataset_id: int, entity_id: uuid.UUID) -> list[Revision]:
    """history: revisions of `entity_id` across branches, oldest first; index-served."""
    revisions: list[Revision] = []
    for kind, spec in KINDS.items():
        table = spec.table
        rows = (
            conn.execute(
                select(table, Branch.name.label("_branch"))
                .join(
                    Branch,
                    (Branch.dataset_id == table.c.dataset_id) & (Branch.id == table.c.branch_id),
                )
                .where(table.c.dataset_id == dataset_id, table.c.entity_id == entity_id)
                .order_by(table.c.created_at, table.c.row_id)
            )
            .mappings()
            .all()
        )
        if not rows:
            continue
        kills: dict[int, list[KilledBy]] = {}
        for row_id, branch_id, name, seq in conn.execute(
            select(Kill.row_id, Kill.branch_id, Branch.name, Kill.seq)
            .join(Branch, (Branch.dataset_id == Kill.dataset_id) & (Branch.id == Kill.branch_id))
            .where(Kill.dataset_id == dataset_id, Kill.row_id.in_([r["row_id"] for r in rows]))
        ):
            kills.setdefault(row_id, []).append(KilledBy(branch_id, name, seq))
        revisions += [
            Revision(
                kind,
                row["branch_id"],
                row["_branch"],
                row["row_id"],
                row["seq_from"],
                row["seq_to"],
                spec.content_of(row),
                row["created_at"],
                tuple(kills.get(row["row_id"], ())),
            )
            for row in rows
        ]
    return revisions
