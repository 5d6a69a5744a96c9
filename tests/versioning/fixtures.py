"""A small dataset to exercise the engine: two labels, two image files, their blobs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert

from trainingdb import versioning as v
from trainingdb.versioning.models import Blob

SHAS = ("a" * 64, "b" * 64, "c" * 64)


@dataclass
class World:
    conn: Connection
    dataset: int
    car: uuid.UUID
    person: uuid.UUID
    img1: uuid.UUID
    img2: uuid.UUID

    def box(
        self, label: uuid.UUID | None = None, file: uuid.UUID | None = None, **extra: Any
    ) -> dict[str, Any]:
        return {
            "file_entity_id": file or self.img1,
            "label_entity_id": label or self.car,
            "kind": "box",
            "x": 1.0,
            "y": 2.0,
            "w": 3.0,
            "h": 4.0,
            **extra,
        }

    def instances(self, ref: str) -> dict[uuid.UUID, dict[str, Any]]:
        return v.read(self.conn, self.dataset, ref, "instance")


def make_world(conn: Connection, name: str = "ds") -> World:
    dataset = v.create_dataset(conn, name).id
    conn.execute(
        insert(Blob),
        [
            {
                "dataset_id": dataset,
                "sha256": sha,
                "size": 1,
                "mime": "image/png",
                "storage_key": sha,
            }
            for sha in SHAS
        ],
    )
    car, person = v.create(conn, dataset, "main", "label", [{"name": "car"}, {"name": "person"}])
    img1, img2 = v.create(
        conn,
        dataset,
        "main",
        "file",
        [
            {
                "name": "1.png",
                "blob_sha256": SHAS[0],
                "media_type": "image",
                "width": 10,
                "height": 10,
            },
            {
                "name": "2.png",
                "blob_sha256": SHAS[1],
                "media_type": "image",
                "width": 10,
                "height": 10,
            },
        ],
    )
    return World(conn, dataset, car, person, img1, img2)
