"""What an import keeps beside its instances: source fields of labels, files and frames, and
the documents they came from, so that an export writes back what the input held.

Formats say what they keep (`coco_sources.py`; `yolo.py`: class order and empty frame label
files); `keep_sources` writes it in the import's transaction, after the instances, with one
update or create per kind. Each entry replaces its format's key in the entity's `metadata`
(`{"coco": ...}`, `{"yolo": ...}`) and leaves other keys alone; an entity whose metadata would
not change is not written, so running the same import again changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert

from trainingdb import versioning as v
from trainingdb.versioning.bulk import content_id
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.models.entities import SourceDocument
from trainingdb.versioning.sql import among
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.visibility import visible

from .coco_sources import coco_kept
from .kept import Kept, SizedFacts
from .yolo import yolo_kept

# Frame rows an import creates get ids from (dataset, file, frame): two branches that import
# the same frame make one entity, which merges field by field instead of colliding.
FRAMES = uuid.UUID("0d7c2a4e-52b1-4c52-8d0e-3f7a9e1b6c21")


def keep_sources(
    conn: Connection,
    dataset_id: int,
    branch: str,
    fmt: str,
    path: Path,
    files: Mapping[str, SizedFacts],
    labels: Mapping[str, uuid.UUID],
) -> list[dict[str, Any]]:
    """Write what the input at `path` holds beyond its instances; the records that name
    nothing on the branch, as errors."""
    kept: Kept
    if fmt == "coco":
        kept = coco_kept(path, files)
    elif fmt == "yolo":
        kept = yolo_kept(path, files)
    else:
        return []
    _documents(conn, dataset_id, kept.documents)
    _labels(conn, dataset_id, branch, kept.labels, labels)
    _files(conn, dataset_id, branch, kept.files, files)
    _frames(conn, dataset_id, branch, kept.frames, files)
    return kept.errors


def _documents(
    conn: Connection, dataset_id: int, documents: Mapping[str, tuple[str, dict[str, Any]]]
) -> None:
    if documents:
        rows = [
            {"dataset_id": dataset_id, "digest": d, "format": fmt, "content": content}
            for d, (fmt, content) in documents.items()
        ]
        conn.execute(insert(SourceDocument).values(rows).on_conflict_do_nothing())


def _merged(current: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """`current` metadata with `entry`'s keys replaced; None when that changes nothing."""
    merged = {**current, **entry}
    return None if merged == current else merged


def _labels(
    conn: Connection,
    dataset_id: int,
    branch: str,
    entries: Mapping[str, dict[str, Any]],
    labels: Mapping[str, uuid.UUID],
) -> None:
    wanted = {labels[name]: entry for name, entry in entries.items() if name in labels}
    if not wanted:
        return
    current = v.read(conn, dataset_id, branch, "label")
    changes = {
        eid: {"metadata": merged}
        for eid, entry in wanted.items()
        if eid in current and (merged := _merged(current[eid]["metadata"], entry)) is not None
    }
    if changes:
        v.update(conn, dataset_id, branch, "label", changes)


def _files(
    conn: Connection,
    dataset_id: int,
    branch: str,
    entries: Mapping[str, dict[str, Any]],
    files: Mapping[str, SizedFacts],
) -> None:
    if not entries:
        return
    ids = {uuid.UUID(files[name].id): entry for name, entry in entries.items()}
    table = KINDS[EntityType.FILE].table
    version = v.resolve(conn, dataset_id, branch)
    rows = conn.execute(
        select(table.c.entity_id, table.c["metadata"]).where(
            visible(table, version), among(table.c.entity_id, set(ids))
        )
    )
    changes = {
        eid: {"metadata": merged}
        for eid, metadata in rows
        if (merged := _merged(metadata, ids[eid])) is not None
    }
    if changes:
        v.update(conn, dataset_id, branch, "file", changes)


def _frames(
    conn: Connection,
    dataset_id: int,
    branch: str,
    entries: Mapping[tuple[str, int], dict[str, Any]],
    files: Mapping[str, SizedFacts],
) -> None:
    if not entries:
        return
    wanted = {(uuid.UUID(files[name].id), frame): e for (name, frame), e in entries.items()}
    table = KINDS[EntityType.FRAME].table
    version = v.resolve(conn, dataset_id, branch)
    rows = conn.execute(
        select(
            table.c.entity_id, table.c.file_entity_id, table.c.frame_number, table.c["metadata"]
        ).where(visible(table, version), among(table.c.file_entity_id, {f for f, _ in wanted}))
    )
    changes: dict[uuid.UUID, dict[str, Any]] = {}
    for eid, file_id, frame, metadata in rows:
        entry = wanted.pop((file_id, frame), None)
        if entry is not None and (merged := _merged(metadata, entry)) is not None:
            changes[eid] = {"metadata": merged}
    if changes:
        v.update(conn, dataset_id, branch, "frame", changes)
    if wanted:
        v.create(
            conn,
            dataset_id,
            branch,
            "frame",
            [
                {
                    "entity_id": content_id(FRAMES, dataset_id, str(file_id), frame),
                    "file_entity_id": file_id,
                    "frame_number": frame,
                    "metadata": entry,
                }
                for (file_id, frame), entry in sorted(wanted.items())
            ],
        )
