"""Branch rows: loading a dataset's branches, listing them, and locking one for a write.

Every write, commit, merge and revert on a branch first takes `lock_branch`: a row lock on the
branch row (`SELECT ... FOR UPDATE`) held to the end of the transaction. Writers on one branch
run one after the other and a commit waits for a write in progress, so no change is lost and no
commit is half visible; readers never wait. A row lock rather than an advisory lock: it ends
with the transaction whatever happens, needs no session state (it works behind a
transaction-pooling proxy), and under Citus it lives with the dataset's rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from .errors import ConflictError, NotFoundError, ProtectedBranchError
from .models import Branch, Tag


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
    deleted_at: datetime | None
    owner_team_id: int | None = None  # the team that created it (access.policy rule 3)
    merge_role: str | None = None  # protected: the least role that may merge into it


BRANCH_COLUMNS = (
    Branch.dataset_id,
    Branch.id,
    Branch.name,
    Branch.parent_branch_id,
    Branch.fork_seq,
    Branch.head_seq,
    Branch.protected,
    Branch.created_at,
    Branch.deleted_at,
    Branch.owner_team_id,
    Branch.merge_role,
)


def load_branches(conn: Connection, dataset_id: int) -> dict[int, BranchRow]:
    """Every branch of the dataset, deleted ones included (lineages may pass through them)."""
    rows = conn.execute(select(*BRANCH_COLUMNS).where(Branch.dataset_id == dataset_id))
    return {row.id: BranchRow(*row) for row in rows}


def branches_of(conn: Connection, dataset_ids: Sequence[int]) -> dict[int, list[BranchRow]]:
    """Live branches of each dataset in `dataset_ids`, by name; one statement for all of them."""
    rows = conn.execute(
        select(*BRANCH_COLUMNS)
        .where(Branch.dataset_id.in_(dataset_ids), Branch.deleted_at.is_(None))
        .order_by(Branch.dataset_id, Branch.name)
    )
    result: dict[int, list[BranchRow]] = defaultdict(list)
    for row in rows:
        result[row.dataset_id].append(BranchRow(*row))
    return {dataset_id: result.get(dataset_id, []) for dataset_id in dataset_ids}


def live_branches_by_ids(conn: Connection, ids: Sequence[int]) -> list[BranchRow]:
    """live_branches_by_ids: the live branches with these ids, in any dataset; one statement
    (branches are few)."""
    rows = conn.execute(
        select(*BRANCH_COLUMNS).where(Branch.id.in_(list(ids)), Branch.deleted_at.is_(None))
    )
    return [BranchRow(*row) for row in rows]


def check_ref_name_free(conn: Connection, dataset_id: int, name: str) -> None:
    """CONFLICT if `name` is a live branch or a tag: the two share one namespace per dataset."""
    branch = select(Branch.id).where(
        Branch.dataset_id == dataset_id, Branch.name == name, Branch.deleted_at.is_(None)
    )
    if conn.scalar(branch) is not None:
        raise ConflictError(f"branch {name!r} already exists (branches and tags share names)")
    if conn.scalar(select(Tag.id).where(Tag.dataset_id == dataset_id, Tag.name == name)):
        raise ConflictError(f"tag {name!r} already exists (branches and tags share names)")


def _live_branch(conn: Connection, dataset_id: int, name: str, *, lock: bool) -> BranchRow:
    statement = select(*BRANCH_COLUMNS).where(
        Branch.dataset_id == dataset_id, Branch.name == name, Branch.deleted_at.is_(None)
    )
    row = conn.execute(statement.with_for_update() if lock else statement).one_or_none()
    if row is None:
        raise NotFoundError(f"branch {name!r} does not exist")
    return BranchRow(*row)


def _writable(branch: BranchRow, name: str) -> BranchRow:
    if branch.protected:
        raise ProtectedBranchError(
            f"branch {name!r} is protected: change it through a merge from another branch"
        )
    return branch


def lock_branch(conn: Connection, dataset_id: int, name: str) -> BranchRow:
    """The live branch `name`, row-locked until the transaction ends; NOT_FOUND if none."""
    return _live_branch(conn, dataset_id, name, lock=True)


def lock_for_write(conn: Connection, dataset_id: int, name: str) -> BranchRow:
    """`lock_branch`, refusing a protected branch (PROTECTED_BRANCH)."""
    return _writable(lock_branch(conn, dataset_id, name), name)


def check_writable(conn: Connection, dataset_id: int, name: str) -> None:
    """What `lock_for_write` would refuse, without the lock: to fail before long work that
    needs the lock only at its end."""
    _writable(_live_branch(conn, dataset_id, name, lock=False), name)
