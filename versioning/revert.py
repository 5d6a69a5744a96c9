"""revert: make a branch's working state the content of another version, as one commit."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import Connection

from .atomic import atomic
from .commits import CommitRow, current_commit, record_commit
from .diff import diff_versions
from .events import RefChange
from .models import EntityType
from .refs import load_branches, lock_for_write
from .revisions import Content, apply, current_rows
from .tables import KINDS
from .versions import committed, working_version


@atomic
def revert(
    conn: Connection, dataset_id: int, branch: str, to: str, *, author: str = ""
) -> CommitRow:
    """revert: branch content := content of commit `to` (a branch: its current commit),
    committed with one parent; O(changes between them)."""
    locked = lock_for_write(conn, dataset_id, branch)
    branches = load_branches(conn, dataset_id)
    target = committed(conn, dataset_id, to, branches)
    head = working_version(branches, locked)
    wanted: dict[EntityType, dict[uuid.UUID, Content | None]] = defaultdict(dict)
    for change in diff_versions(conn, head, target):
        wanted[change.kind][change.entity_id] = change.after
    for kind, kind_changes in wanted.items():
        current = current_rows(conn, KINDS[kind], head, kind_changes.keys())
        apply(conn, KINDS[kind], locked, kind_changes, current)
    parent = current_commit(conn, locked, branches)
    return record_commit(conn, locked, f"Revert to {to}", author, parent, change=RefChange.REVERT)
