"""Reading whole entity states at a version (the query layer composes `visible` itself)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection

from .models import EntityType
from .tables import kind_of
from .versions import resolve
from .visibility import visible_rows


def read(
    conn: Connection, dataset_id: int, ref: str, kind: EntityType | str
) -> dict[uuid.UUID, dict[str, Any]]:
    """read: the content of every `kind` entity visible at `ref`, by entity id."""
    spec = kind_of(kind)
    version = resolve(conn, dataset_id, ref)
    table = spec.table
    rows = conn.execute(
        visible_rows(table, version, table.c.entity_id, *(table.c[f] for f in spec.content))
    ).mappings()
    return {row["entity_id"]: spec.content_of(row) for row in rows}
