"""Reading refs: the branches of datasets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from .models import Branch


@dataclass(frozen=True, slots=True)
class BranchRow:
    dataset_id: int
    id: int
    name: str
    parent_branch_id: int | None
    fork_seq: int | None
    head_seq: int
    protected: bool
    created_at: datetime


def branches_of(conn: Connection, dataset_ids: Sequence[int]) -> dict[int, list[BranchRow]]:
    """Live branches of each dataset in `dataset_ids`, by name; one statement for all of them."""
    rows = conn.execute(
        select(
            Branch.dataset_id,
            Branch.id,
            Branch.name,
            Branch.parent_branch_id,
            Branch.fork_seq,
            Branch.head_seq,
            Branch.protected,
            Branch.created_at,
        )
        .where(Branch.dataset_id.in_(dataset_ids), Branch.deleted_at.is_(None))
        .order_by(Branch.dataset_id, Branch.name)
    )
    result: dict[int, list[BranchRow]] = defaultdict(list)
    for row in rows:
        result[row.dataset_id].append(BranchRow(*row))
    return {dataset_id: result.get(dataset_id, []) for dataset_id in dataset_ids}
