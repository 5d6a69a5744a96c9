"""Read at a version: the visibility predicate of row rule 5 as a composable SQL construct.

`visible(table, version)` is a WHERE clause over one versioned table. The query layer composes it
with any filter; it never scans more than the lineage needs:
- the working state of a root branch is `branch_id = b AND seq_to IS NULL` (partial indexes);
- every other lineage entry adds one range term; rows inherited from an ancestor (any entry but
  the first) are tested against the kills of the entries before the root, one key probe per row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Select,
    Table,
    and_,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from .models import Kill
from .versions import LineageEntry, Version

_KILL: Table = Kill.__table__  # type: ignore[assignment]


def _alive_at(table: FromClause, entry: LineageEntry) -> ColumnElement[bool]:
    if entry.head:
        return and_(table.c.branch_id == entry.branch_id, table.c.seq_to.is_(None))
    return and_(
        table.c.branch_id == entry.branch_id,
        table.c.seq_from <= entry.seq,
        or_(table.c.seq_to.is_(None), table.c.seq_to > entry.seq),
    )


def _not_killed(table: FromClause, killers: tuple[LineageEntry, ...]) -> ColumnElement[bool]:
    # One test serves every lineage entry: a kill names a row of a strict ancestor of the killing
    # branch (rule 3), so a kill by entry j can only hit rows of entries after j — the per-entry
    # "comes before" condition of rule 5 holds by construction. The test is the SQL function of
    # migration 0004 (why a function, and not a subquery: its docstring).
    branches = literal([e.branch_id for e in killers], ARRAY(BigInteger))
    seqs = literal([e.seq for e in killers], ARRAY(BigInteger))
    return not_(func.trainingdb_killed(table.c.dataset_id, table.c.row_id, branches, seqs))


def visible(table: FromClause, version: Version) -> ColumnElement[bool]:
    """Rows of `table` (a versioned table or an alias of one) visible at `version` (row rule 5)."""
    lineage = version.lineage
    terms = [_alive_at(table, entry) for entry in lineage]
    if len(terms) == 1:
        return and_(table.c.dataset_id == version.dataset_id, terms[0])
    # Rows of the version's own branch are never killed; inherited ones are tested. The root
    # entry never kills: it has no ancestor to inherit from.
    inherited = or_(*terms[1:]) if len(terms) > 2 else terms[1]
    return and_(
        table.c.dataset_id == version.dataset_id,
        or_(terms[0], and_(inherited, _not_killed(table, lineage[:-1]))),
    )


def visible_rows(table: FromClause, version: Version, *columns: Any) -> Select[Any]:
    """SELECT `columns` (default: all) of the rows of `table` visible at `version`."""
    return select(*(columns or (table,))).where(visible(table, version))
