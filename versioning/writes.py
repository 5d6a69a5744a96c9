"""Writes on a branch's working state: create, update and delete entities, in bulk.

Each call locks the branch, checks everything against the state it would produce, and then
writes with a handful of set-based statements (`revisions.apply`), whatever the batch size.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select

from .atomic import atomic
from .errors import ConflictError, InvalidInputError, NotFoundError
from .invariants import Changes, Rule, violations
from .models import EntityType
from .refs import BranchRow, load_branches, lock_for_write
from .revisions import Content, Current, apply, current_rows
from .sql import among
from .tables import KINDS, Kind, as_uuid, kind_of
from .versions import Version, working_version
from .visibility import visible


def _raise_violations(
    conn: Connection, version: Version, changes: Changes, positions: Mapping[uuid.UUID, str]
) -> None:
    """The first violation as a domain error, prefixed by its row's place in the batch."""
    found = violations(conn, version, changes)
    if not found:
        return
    first = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    place = positions.get(first.entity_id)
    message = (f"{place}: " if place else "") + first.message + more
    if first.rule is Rule.MISSING_REFERENCE:
        raise InvalidInputError(message)
    raise ConflictError(message)


def _open(conn: Connection, dataset_id: int, branch: str) -> tuple[BranchRow, Version]:
    locked = lock_for_write(conn, dataset_id, branch)
    return locked, working_version(load_branches(conn, dataset_id), locked)


def _write(
    conn: Connection,
    branch: BranchRow,
    version: Version,
    changes: dict[EntityType, dict[uuid.UUID, Content | None]],
    current: dict[EntityType, dict[uuid.UUID, Current]],
    positions: Mapping[uuid.UUID, str] | None = None,
) -> None:
    _raise_violations(conn, version, changes, positions or {})
    for kind, kind_changes in changes.items():
        apply(conn, KINDS[kind], branch, kind_changes, current[kind])


@atomic
def create(
    conn: Connection,
    dataset_id: int,
    branch: str,
    kind: EntityType | str,
    rows: Sequence[Mapping[str, Any]],
) -> list[uuid.UUID]:
    """create: new entities on the branch's working state; their ids, in the order given."""
    spec = kind_of(kind)
    locked, version = _open(conn, dataset_id, branch)
    new: dict[uuid.UUID, Content | None] = {}
    positions: dict[uuid.UUID, str] = {}
    for i, row in enumerate(rows):
        where = f"{spec.type} #{i}"
        given = row.get("entity_id")
        entity_id = uuid.uuid4() if given is None else as_uuid(given, f"{where}: entity_id")
        if entity_id in new:
            raise InvalidInputError(f"{where}: entity_id {entity_id} appears twice in the batch")
        new[entity_id] = spec.complete(row, where)
        positions[entity_id] = where
    existing = current_rows(conn, spec, version, new.keys())
    if existing:
        taken = next(iter(existing))
        raise ConflictError(f"{spec.type} {taken} already exists on branch {branch!r}")
    _write(conn, locked, version, {spec.type: new}, {spec.type: {}}, positions)
    return list(new)


def _require(
    conn: Connection, spec: Kind, version: Version, ids: Sequence[uuid.UUID], branch: str
) -> dict[uuid.UUID, Current]:
    current = current_rows(conn, spec, version, ids)
    missing = [eid for eid in ids if eid not in current]
    if missing:
        raise NotFoundError(f"{spec.type} {missing[0]} does not exist on branch {branch!r}")
    return current


@atomic
def update(
    conn: Connection,
    dataset_id: int,
    branch: str,
    kind: EntityType | str,
    changes: Mapping[uuid.UUID, Mapping[str, Any]],
) -> None:
    """update: replace the given fields of existing entities on the branch's working state."""
    spec = kind_of(kind)
    locked, version = _open(conn, dataset_id, branch)
    ids = [as_uuid(eid, f"{spec.type} update") for eid in changes]
    current = _require(conn, spec, version, ids, branch)
    new: dict[uuid.UUID, Content | None] = {}
    for eid, fields in zip(ids, changes.values(), strict=True):
        if "entity_id" in fields:
            raise InvalidInputError(f"{spec.type} {eid}: entity_id cannot change")
        new[eid] = spec.complete({**current[eid].content, **fields}, f"{spec.type} {eid}")
    _write(conn, locked, version, {spec.type: new}, {spec.type: current})


def _dependents(
    conn: Connection, version: Version, files: set[uuid.UUID]
) -> dict[EntityType, dict[uuid.UUID, Current]]:
    """The visible instances and frames of `files`, which go with them."""
    found: dict[EntityType, dict[uuid.UUID, Current]] = {}
    for kind in (EntityType.INSTANCE, EntityType.FRAME):
        table = KINDS[kind].table
        ids = conn.scalars(
            select(table.c.entity_id).where(
                visible(table, version), among(table.c.file_entity_id, files)
            )
        ).all()
        found[kind] = current_rows(conn, KINDS[kind], version, ids)
    return found


@atomic
def delete(
    conn: Connection,
    dataset_id: int,
    branch: str,
    kind: EntityType | str,
    entity_ids: Sequence[uuid.UUID],
) -> None:
    """delete: remove entities from the branch's working state (a file takes its annotations)."""
    spec = kind_of(kind)
    locked, version = _open(conn, dataset_id, branch)
    ids = [as_uuid(eid, f"{spec.type} delete") for eid in entity_ids]
    current = {spec.type: _require(conn, spec, version, ids, branch)}
    changes: dict[EntityType, dict[uuid.UUID, Content | None]] = {spec.type: dict.fromkeys(ids)}
    if spec.type is EntityType.FILE:
        for dep_kind, rows in _dependents(conn, version, set(ids)).items():
            current[dep_kind] = rows
            changes[dep_kind] = dict.fromkeys(rows)
    _write(conn, locked, version, changes, current)
