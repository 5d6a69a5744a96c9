"""Bulk creation from a stream: rows COPYed into a staging table, then one set-based apply.

For imports of hundreds of thousands of entities. Memory stays flat in the stream's length:
rows go to a temporary table as they come (one COPY), and everything after is SQL:

1. the branch is locked for writing (as every write is), once the rows are staged;
2. references are checked set-based: every row's file and label must be visible on the branch;
3. rows whose entity already exists on the branch are skipped (so a re-run whose ids derive
   from the input's content changes nothing), the others inserted as revisions of the working
   state (row rule 3 of models/entities.py: new entities, seq_from = head + 1). Whether an id
   exists is one probe of the entity index per staged row: O(rows · log n), whatever the
   branch already holds.

Ids derived from content repeat where the input repeats a record (two identical boxes on one
image); with `repeats` the second and later copies get ids of their own, derived from the
first's and their place among the copies, so a re-run gives them the same ids again.

The caller validates each row's content first (versioning/checks.py says what is valid); the
table's CHECK constraints still guard the insert.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from psycopg import sql as psql
from sqlalchemy import Connection, exists, func, literal, select, text
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table

from .atomic import atomic
from .errors import InvalidInputError
from .refs import check_writable, load_branches, lock_for_write
from .sql import copy_text, driver
from .tables import KINDS, Kind, kind_of
from .versions import Version, working_version
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
    with driver(conn).cursor() as cursor:
        cursor.execute(statement)


def _analyze(conn: Connection, name: str) -> None:
    with driver(conn).cursor() as cursor:
        cursor.execute(psql.SQL("ANALYZE {}").format(psql.Identifier(name)))


@atomic
def create_stream(
    conn: Connection,
    dataset_id: int,
    branch: str,
    kind: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    repeats: bool = False,
) -> BulkResult:
    """create_stream: new entities from `rows` (each with `entity_id` and every content field),
    skipping those that exist already; O(rows · log n) in SQL, flat memory in Python. A repeated
    id is an error, or with `repeats` a copy numbered by its place in `rows` (module docstring)."""
    spec = kind_of(kind)
    check_writable(conn, dataset_id, branch)
    table = spec.table
    # Unique per call: a temporary table lives until the transaction ends.
    stage = f"stage_{spec.type.value}_{uuid.uuid4().hex[:12]}"
    columns = ["entity_id", *spec.content]
    _stage(conn, stage, table.name, spec.content)
    staged = copy_text(conn, stage, columns, [table.c[c].type for c in columns], rows)
    # Autovacuum never sees temporary tables: without statistics the planner guesses the stage
    # is tiny and probes it row by row in the anti-joins below.
    _analyze(conn, stage)
    s = sql_table(stage, *(sql_column(c) for c in columns))
    if repeats:
        _number_repeats(conn, stage)
    # The branch is locked only now: staging (reading and checking the input, which is most of
    # an import's Python time) needs no lock, so imports into one branch overlap it and
    # serialize only on what follows.
    locked = lock_for_write(conn, dataset_id, branch)
    version = working_version(load_branches(conn, dataset_id), locked)

    # Tables just filled (this dataset's files, labels and instances) have no statistics yet;
    # the planner then thinks them one row long and joins the whole stage against them by
    # nested loop (16 s for 100k rows in a probe). Hash joins are right for every set-based
    # statement below, whatever the statistics say.
    previous = conn.scalar(text("SELECT current_setting('enable_nestloop')"))
    conn.execute(text("SELECT set_config('enable_nestloop', 'off', true)"))
    try:
        return _apply(conn, spec, locked.id, version, branch, s, staged)
    finally:
        conn.execute(text("SELECT set_config('enable_nestloop', :v, true)"), {"v": previous})


def _number_repeats(conn: Connection, stage: str) -> None:
    """Give the 2nd, 3rd, ... row of each repeated id the id md5(id || '#' || n). A temporary
    table just filled by one COPY holds its rows in the order they came (ctid order), so the
    numbering follows the input's order and a re-run numbers the copies alike."""
    statement = psql.SQL(
        "UPDATE {stage} s SET entity_id = md5(r.entity_id::text || '#' || r.n)::uuid "
        "FROM (SELECT ctid, entity_id, row_number() OVER (PARTITION BY entity_id ORDER BY ctid) n "
        "FROM {stage} WHERE entity_id IN "
        "(SELECT entity_id FROM {stage} GROUP BY entity_id HAVING count(*) > 1)) r "
        "WHERE s.ctid = r.ctid AND r.n > 1"
    ).format(stage=psql.Identifier(stage))
    with driver(conn).cursor() as cursor:
        cursor.execute(statement)


def _apply(
    conn: Connection,
    spec: Kind,
    branch_id: int,
    version: Version,
    branch: str,
    s: Any,
    staged: int,
) -> BulkResult:
    """The checks and the insert of `create_stream`, over the filled stage `s`."""
    table = spec.table
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
    # One probe of the entity index per staged row, whatever the statistics say. The probe
    # selects an entity's row versions by id alone, under OFFSET: PostgreSQL cannot flatten a
    # subquery that has one, so the EXISTS stays a subplan run once per staged row with its id
    # bound, and the only conditions its scan can be planned on are the dataset and the id, which
    # `ix_instance_entity` answers in a few pages. Visibility is tested on what it returns (the
    # versions of one entity: one per branch that changed it). As a join the check was a hash of
    # every row the branch holds (0.55 s at 800k, growing with the branch: ids derived from
    # content spread over the whole id space, so no range bounds that scan); with the branch
    # condition inside the probe, a branch just filled and not yet analyzed looked one row long,
    # and the planner scanned it by branch for every staged row (minutes for 200k onto 200k).
    versions = (
        select(*(table.c[c] for c in ("dataset_id", "row_id", "branch_id", "seq_from", "seq_to")))
        .where(table.c.dataset_id == version.dataset_id, table.c.entity_id == s.c.entity_id)
        .offset(0)
        .correlate(s)
        .subquery("present")
    )
    found = select(literal(1)).select_from(versions).where(visible(versions, version))
    inserting = (
        table.insert()
        .from_select(
            ["dataset_id", "entity_id", "branch_id", "seq_from", *spec.content],
            select(
                literal(version.dataset_id),
                s.c.entity_id,
                literal(branch_id),
                literal(version.seq),
                *(s.c[c] for c in spec.content),
            ).where(~found.exists()),
        )
        .returning(table.c.row_id)
        .cte("inserted")
    )
    inserted = conn.execute(select(func.count()).select_from(inserting)).scalar_one()
    return BulkResult(created=inserted, existing=staged - inserted)


def content_id(namespace: uuid.UUID, *parts: object) -> uuid.UUID:
    """A stable entity id for an imported record: the same input gives the same id."""
    return uuid.uuid5(namespace, orjson.dumps(parts, option=orjson.OPT_SORT_KEYS).decode())


def id_block(namespace: uuid.UUID, *parts: object) -> int:
    """The first of 2**64 consecutive entity ids (a record's id is the block plus 64 bits of its
    own): stable across runs like `content_id`, and apart from every other block's ids."""
    return content_id(namespace, *parts).int >> 64 << 64
