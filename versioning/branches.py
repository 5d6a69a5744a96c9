"""Creating, deleting and protecting branches: O(1), no row copied."""

from __future__ import annotations

from sqlalchemy import Connection, func, insert, update

from .atomic import atomic
from .datasets import get_dataset_by_id
from .errors import InvalidInputError, ProtectedBranchError
from .events import RefChange, RefEvent, ref_changed
from .models import Branch, Role
from .naming import check_name
from .refs import BRANCH_COLUMNS, BranchRow, check_ref_name_free, lock_branch
from .versions import committed


@atomic
def create_branch(
    conn: Connection,
    dataset_id: int,
    name: str,
    from_ref: str | None = None,
    *,
    owner_team_id: int | None = None,
    created_by: str = "",
) -> BranchRow:
    """create_branch: a new line starting at the commit `from_ref` names (a branch: its
    current commit); O(1)."""
    check_name(name, "branch name")
    source = (
        from_ref if from_ref is not None else get_dataset_by_id(conn, dataset_id).default_branch
    )
    start = committed(conn, dataset_id, source)
    check_ref_name_free(conn, dataset_id, name)
    row = conn.execute(
        insert(Branch)
        .values(
            dataset_id=dataset_id,
            name=name,
            parent_branch_id=start.branch_id,
            fork_seq=start.seq,
            owner_team_id=owner_team_id,
            created_by=created_by,
        )
        .returning(*BRANCH_COLUMNS)
    ).one()
    made = BranchRow(*row)
    change = RefEvent(dataset_id, RefChange.BRANCH_CREATED, name, made.id, made.head_seq)
    ref_changed(conn, change)
    return made


@atomic
def delete_branch(conn: Connection, dataset_id: int, name: str) -> None:
    """delete_branch: the name is free again; its rows stay until gc proves nothing sees them."""
    branch = lock_branch(conn, dataset_id, name)
    if name == get_dataset_by_id(conn, dataset_id).default_branch:
        raise InvalidInputError(f"branch {name!r} is the dataset's default branch")
    if branch.protected:
        raise ProtectedBranchError(f"branch {name!r} is protected: unprotect it first")
    conn.execute(
        update(Branch)
        .where(Branch.dataset_id == dataset_id, Branch.id == branch.id)
        .values(deleted_at=func.now())
    )
    change = RefEvent(dataset_id, RefChange.BRANCH_DELETED, name, branch.id, branch.head_seq)
    ref_changed(conn, change)


@atomic
def set_protected(
    conn: Connection,
    dataset_id: int,
    name: str,
    protected: bool,
    merge_role: str | None = None,
) -> None:
    """set_protected: a protected branch refuses direct writes and accepts merges, from
    `merge_role` up (None: editor; see access.policy); lifting protection clears the role."""
    if merge_role is not None and merge_role not in {r.value for r in Role}:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"mergeRole {merge_role!r} is not one of {roles}")
    branch = lock_branch(conn, dataset_id, name)
    conn.execute(
        update(Branch)
        .where(Branch.dataset_id == dataset_id, Branch.id == branch.id)
        .values(protected=protected, merge_role=merge_role if protected else None)
    )
