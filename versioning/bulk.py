"""Bulk creation from a stream: rows COPYed into a staging table, then one set-based apply.

For imports of hundreds of thousands of entities. Memory stays flat in the stream's length:
rows go to a temporary table as they come (one COPY), and everything after is SQL:

1. the branch is locked for writing (as every write is);
2. references are checked set-based: every row's file and label must be visible on the branch;
3. rows whose entity already exists on the branch are skipped (so a re-run whose ids derive
   from the input's content changes nothing), the others inserted as revisions of the working
   state (row rule 3 of models/entities.py: new entities, seq_from = head + 1).

The caller validates each row's content first (versioning/checks.py says what is valid); the
table's CHECK constraints still guard the insert.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
from psycopg import sql as psql
from sqlalchemy import Connection, exists, func, literal, select
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.dialects.postgresql import JSONB

from .atomic import atomic
from .errors import InvalidInputError
from .refs import load_branches, lock_for_write
from .tables import KINDS, kind_of
from .versions import working_version
from .visibility import visible


@dataclass(frozen=True, slots=True)
class BulkResult:
    created: int
    existing: int


def _stage(conn: Connection, name: str, source: str, columns: Sequence[str]) -> None:
    """An empty temporary table with `columns` typed as in `source`, dropped at commit."""
    statement = psql.SQL(
        "CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA"
    ).format(
        psql.Identifier(name),
        psql.SQL(", ").join(psql.Identifier(c) for c in ["entity_id", *columns]),
        psql.Identifier(source),
    )
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    with driver.cursor() as cursor:
        cursor.execute(statement)


def _copy(conn: Connection, name: str, columns: Sequence[str], json: set[str], rows: Any) -> int:
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    statement = psql.SQL("COPY {} ({}) FROM STDIN").format(
        psql.Identifier(name), psql.SQL(", ").join(psql.Identifier(c) for c in columns)
    )
    count = 0
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [
                    orjson.dumps(row[c]).decode() if c in json and row[c] is not None else row[c]
                    for c in columns
                ]
            )
            count += 1
    return count


@atomic
def create_stream(
    conn: Connection,
    dataset_id: int,
    branch: str,
    kind: str,
    rows: Iterable[Mapping[str, Any]],
) -> BulkResult:
    """create_stream: new entities from `rows` (each with `entity_id` and every content field),
    skipping those that exist already; O(rows) in SQL, flat memory in Python."""
    spec = kind_of(kind)
    locked = lock_for_write(conn, dataset_id, branch)
    version = working_version(load_branches(conn, dataset_id), locked)
    table = spec.table
    # Unique per call: a temporary table lives until the transaction ends.
    stage = f"stage_{spec.type.value}_{uuid.uuid4().hex[:12]}"
    columns = ["entity_id", *spec.content]
    json = {c for c in spec.content if isinstance(table.c[c].type, JSONB)}
    _stage(conn, stage, table.name, spec.content)
    staged = _copy(conn, stage, columns, json, rows)
    s = sql_table(stage, *(sql_column(c) for c in columns))

    duplicate = conn.execute(
        select(s.c.entity_id).group_by(s.c.entity_id).having(func.count() > 1).limit(1)
    ).scalar()
    if duplicate is not None:
        raise InvalidInputError(f"{spec.type} {duplicate} appears twice in the import")
    for ref in spec.references:
        target = KINDS[ref.target].table.alias("target")
        missing = conn.execute(
            select(s.c.entity_id, s.c[ref.field])
            .where(
                s.c[ref.field].is_not(None),
                ~exists().where(visible(target, version), target.c.entity_id == s.c[ref.field]),
            )
            .limit(1)
        ).first()
        if missing is not None:
            raise InvalidInputError(
                f"{spec.type} {missing[0]} refers to {ref.target} {missing[1]}, "
                f"which does not exist on {branch!r}"
            )
    present = table.alias("present")
    inserting = (
        table.insert()
        .from_select(
            ["dataset_id", "entity_id", "branch_id", "seq_from", *spec.content],
            select(
                literal(dataset_id),
                s.c.entity_id,
                literal(locked.id),
                literal(version.seq),
                *(s.c[c] for c in spec.content),
            ).where(
                ~exists().where(visible(present, version), present.c.entity_id == s.c.entity_id)
            ),
        )
        .returning(table.c.row_id)
        .cte("inserted")
    )
    inserted = conn.execute(select(func.count()).select_from(inserting)).scalar_one()
    return BulkResult(created=inserted, existing=staged - inserted)


def content_id(namespace: uuid.UUID, *parts: object) -> uuid.UUID:
    """A stable entity id for an imported record: the same input gives the same id."""
    return uuid.uuid5(namespace, orjson.dumps(parts, option=orjson.OPT_SORT_KEYS).decode())
