"""Invariants of every visible state, checked against the state a set of changes would produce.

- label names are unique, and file names are unique;
- an instance's label and file, and a frame's file, are visible entities;
- so no entity may be deleted while a visible one still refers to it;
- a file's blob, and a frame's image, are blobs of the dataset (blobs are not versioned).

Checked before anything is written, for writes and merges alike; each check is one statement
over the changed entities and what they name, never a scan of the version.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select

from .models import Blob, EntityType
from .sql import among
from .tables import KINDS
from .versions import Version
from .visibility import visible

Changes = Mapping[EntityType, Mapping[uuid.UUID, dict[str, Any] | None]]


class Rule(StrEnum):
    NAME_TAKEN = "name_taken"
    MISSING_REFERENCE = "missing_reference"
    IN_USE = "in_use"


@dataclass(frozen=True, slots=True)
class Violation:
    rule: Rule
    kind: EntityType
    entity_id: uuid.UUID
    message: str


def _names(
    conn: Connection, version: Version, kind: EntityType, changes: Changes
) -> list[Violation]:
    spec = KINDS[kind]
    if not spec.unique_name:
        return []
    mine = changes.get(kind, {})
    claimed = {eid: c["name"] for eid, c in mine.items() if c is not None}
    if not claimed:
        return []
    table = spec.table
    owners: dict[str, set[uuid.UUID]] = defaultdict(set)
    for eid, name in conn.execute(
        select(table.c.entity_id, table.c.name).where(
            visible(table, version), among(table.c.name, set(claimed.values()))
        )
    ):
        if eid not in mine:
            owners[name].add(eid)
    for eid, name in claimed.items():
        owners[name].add(eid)
    return [
        Violation(Rule.NAME_TAKEN, kind, eid, f"{kind} name {name!r} is already taken")
        for eid, name in claimed.items()
        if len(owners[name]) > 1
    ]


def _exists(
    conn: Connection, version: Version, target: EntityType, ids: set[uuid.UUID], changes: Changes
) -> set[uuid.UUID]:
    """Which of `ids` are visible entities of `target` once `changes` apply."""
    changed = changes.get(target, {})
    found = {eid for eid in ids if eid in changed and changed[eid] is not None}
    unknown = {eid for eid in ids if eid not in changed}
    if unknown:
        table = KINDS[target].table
        found |= set(
            conn.scalars(
                select(table.c.entity_id).where(
                    visible(table, version), among(table.c.entity_id, unknown)
                )
            )
        )
    return found


def _references(conn: Connection, version: Version, changes: Changes) -> list[Violation]:
    found: list[Violation] = []
    for kind, spec in KINDS.items():
        for ref in spec.references:
            wanted = {
                eid: c[ref.field]
                for eid, c in changes.get(kind, {}).items()
                if c is not None and c[ref.field] is not None
            }
            present = _exists(conn, version, ref.target, set(wanted.values()), changes)
            found += [
                Violation(
                    Rule.MISSING_REFERENCE,
                    kind,
                    eid,
                    f"{kind} {eid} refers to {ref.target} {target}, which does not exist here",
                )
                for eid, target in wanted.items()
                if target not in present
            ]
    return found


_BLOB_FIELDS = {EntityType.FILE: "blob_sha256", EntityType.FRAME: "image_sha256"}


def _blobs(conn: Connection, version: Version, changes: Changes) -> list[Violation]:
    wanted = {
        (kind, eid): content[field]
        for kind, field in _BLOB_FIELDS.items()
        for eid, content in changes.get(kind, {}).items()
        if content is not None and content[field] is not None
    }
    if not wanted:
        return []
    present = set(
        conn.scalars(
            select(Blob.sha256).where(
                Blob.dataset_id == version.dataset_id,
                among(Blob.__table__.c.sha256, set(wanted.values())),
            )
        )
    )
    return [
        Violation(
            Rule.MISSING_REFERENCE,
            kind,
            eid,
            f"{kind} {eid} refers to blob {sha}, which is not in the dataset's blob store",
        )
        for (kind, eid), sha in wanted.items()
        if sha not in present
    ]


def _in_use(conn: Connection, version: Version, changes: Changes) -> list[Violation]:
    found: list[Violation] = []
    for kind, spec in KINDS.items():
        for ref in spec.references:
            deleted = {eid for eid, c in changes.get(ref.target, {}).items() if c is None}
            if not deleted:
                continue
            table, mine = spec.table, changes.get(kind, {})
            users = conn.execute(
                select(table.c.entity_id, table.c[ref.field]).where(
                    visible(table, version), among(table.c[ref.field], deleted)
                )
            )
            found += [
                Violation(
                    Rule.IN_USE,
                    ref.target,
                    target,
                    f"{ref.target} {target} is still used by {kind} {user}",
                )
                for user, target in users
                if user not in mine
            ]
    return found


def violations(conn: Connection, version: Version, changes: Changes) -> list[Violation]:
    """What `changes` on top of the working state `version` would break; empty if nothing."""
    result = [v for kind in EntityType for v in _names(conn, version, kind, changes)]
    result += _references(conn, version, changes) + _blobs(conn, version, changes)
    return result + _in_use(conn, version, changes)
