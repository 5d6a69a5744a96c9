"""A dataset with something in it, for the access tests: one blob, one label, one image file
and one instance on it, committed on `main`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, insert

from trainingdb import versioning as v
from trainingdb.versioning.models import Blob


@dataclass(frozen=True)
class Seeded:
    dataset_id: int
    label: uuid.UUID
    file: uuid.UUID
    instance: uuid.UUID


def seeded_dataset(conn: Connection, name: str, sha256: str = "a" * 64) -> Seeded:
    """Dataset `name` with a label, a file over blob `sha256` and an instance, committed."""
    ds = v.create_dataset(conn, name).id
    conn.execute(
        insert(Blob).values(
            dataset_id=ds, sha256=sha256, size=1, mime="image/png", storage_key=sha256[:8]
        )
    )
    (label,) = v.create(conn, ds, "main", "label", [{"name": "car"}])
    (file,) = v.create(
        conn,
        ds,
        "main",
        "file",
        [{"name": "a.png", "blob_sha256": sha256, "media_type": "image"}],
    )
    (instance,) = v.create(
        conn,
        ds,
        "main",
        "instance",
        [{"file_entity_id": file, "label_entity_id": label, "kind": "classification"}],
    )
    v.commit(conn, ds, "main", "load", "test")
    return Seeded(ds, label, file, instance)
