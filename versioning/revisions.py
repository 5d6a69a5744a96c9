"""Turning "entity -> new content (or gone)" into revisions on a branch's working state.

`apply` is the one writer of versioned rows: writes, merges and reverts all end in it. It follows
row rule 3 of `models/entities.py` with set-based statements (one per kind of change, whatever
the number of entities).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update

from .models import Kill
from .refs import BranchRow
from .sql import among, copy_rows
from .tables import Kind
from .versions import Version
from .visibility import visible

Content = dict[str, Any]
_KILL: Table = Kill.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Current:
    """The revision of an entity visible at a branch's working state."""

    row_id: int
    branch_id: int
    seq_from: int
    content: Content


def current_rows(
    conn: Connection, kind: Kind, version: Version, entity_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Current]:
    """The visible revision of each of `entity_ids` that has one; one statement."""
    if not entity_ids:
        return {}
    table = kind.table
    rows = conn.execute(
        select(
            table.c.entity_id,
            table.c.row_id,
            table.c.branch_id,
            table.c.seq_from,
            *(table.c[f] for f in kind.content),
        ).where(visible(table, version), among(table.c.entity_id, entity_ids))
    ).mappings()
    return {
        row["entity_id"]: Current(
            row["row_id"], row["branch_id"], row["seq_from"], kind.content_of(row)
        )
        for row in rows
    }


def apply(
    conn: Connection,
    kind: Kind,
    branch: BranchRow,
    changes: Mapping[uuid.UUID, Content | None],
    current: Mapping[uuid.UUID, Current],
) -> int:
    """Write `changes` on the locked `branch`'s working state; the number of entities changed.

    `current` holds the visible revision of every changed entity that has one. Content equal to
    the current one is skipped.
    """
    table = kind.table
    working = branch.head_seq + 1
    inserts: list[dict[str, Any]] = []
    ended: list[int] = []
    removed: list[int] = []
    killed: list[int] = []
    changed = 0
    for entity_id, content in changes.items():
        cur = current.get(entity_id)
        if content == (cur.content if cur is not None else None):
            continue
        changed += 1
        if cur is not None:
            own = cur.branch_id == branch.id
            if own and cur.seq_from == working:
                # Not committed yet: only committed states are kept, so the row is replaced
                # outright. Nothing refers to an uncommitted row (branches fork from commits,
                # kills name committed rows), so delete + insert is a change in place — and,
                # unlike row-by-row UPDATEs, never passes through a duplicate name when two
                # entities swap names.
                removed.append(cur.row_id)
            else:
                (ended if own else killed).append(cur.row_id)
        if content is not None:
            inserts.append(
                {
                    "dataset_id": branch.dataset_id,
                    "entity_id": entity_id,
                    "branch_id": branch.id,
                    "seq_from": working,
                    **content,
                }
            )
    scope = table.c.dataset_id == branch.dataset_id
    # End and hide old revisions before inserting new ones: at most one alive row per entity.
    if removed:
        conn.execute(delete(table).where(scope, among(table.c.row_id, removed)))
    if ended:
        conn.execute(
            update(table).where(scope, among(table.c.row_id, ended)).values(seq_to=working)
        )
    if killed:
        copy_rows(
            conn,
            _KILL,
            [
                {
                    "dataset_id": branch.dataset_id,
                    "branch_id": branch.id,
                    "row_id": row_id,
                    "seq": working,
                    "entity_type": kind.type.value,
                }
                for row_id in killed
            ],
        )
    if inserts:
        copy_rows(conn, table, inserts)
    return changed
