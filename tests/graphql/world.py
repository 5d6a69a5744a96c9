"""A small versioned dataset with varied content for the GraphQL-layer tests.

Files with and without metadata, instances with missing fields, three labels, two commits on
main and a branch `exp` with its own uncommitted edits (kills and new rows): every filter and page
has something to tell apart, at main's head, at `main@1` and on `exp`.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from sqlalchemy import Connection, insert

from trainingdb import versioning as v
from trainingdb.versioning.models import Blob

from .reference import State

REFS = ("main", "main@1", "exp")
LABELS = ("car", "person", "traffic light")
SENSORS = ("a", "b", "c")
WORDS = ("a", "ab", "b", "img", "vid", "x1", "")


def instance(rng: random.Random, files: list[uuid.UUID], labels: list[uuid.UUID]) -> dict[str, Any]:
    spatial = rng.random() < 0.85
    row: dict[str, Any] = {
        "file_entity_id": rng.choice(files),
        "label_entity_id": rng.choice(labels),
        "kind": rng.choice(("box", "polygon", "point")) if spatial else "classification",
        "score": rng.choice((None, round(rng.random(), 2), 0.5, 1.0)),
        "source": rng.choice(("human", "model")),
        "frame_number": rng.choice((None, rng.randrange(20))),
        "track_id": rng.choice((None, "t1", "t2")),
        "author": rng.choice(WORDS),
        "attributes": rng.choice(
            (
                {},
                {"occluded": rng.random() < 0.5},
                {"conf": rng.choice((1, 2.5, "high")), "tags": ["x", "y"][: rng.randrange(3)]},
                {"size": {"px": rng.randrange(100)}},
            )
        ),
    }
    if spatial:
        row |= {
            "x": float(rng.randrange(0, 80)),
            "y": float(rng.randrange(0, 80)),
            "w": float(rng.randrange(0, 40)),
            "h": float(rng.randrange(0, 40)),
        }
    if row["source"] == "model":
        row["model_run"] = rng.choice(("r1", "r2"))
    return row


def build(conn: Connection) -> int:
    rng = random.Random(11)
    dataset = v.create_dataset(conn, "filters").id
    conn.execute(
        insert(Blob),
        [
            {
                "dataset_id": dataset,
                "sha256": c * 64,
                "size": 1,
                "mime": "image/png",
                "storage_key": c,
            }
            for c in "abc"
        ],
    )
    labels = v.create(conn, dataset, "main", "label", [{"name": n} for n in LABELS])
    files = v.create(
        conn,
        dataset,
        "main",
        "file",
        [
            {
                "name": f"{rng.choice(('img', 'vid'))}/{i}{rng.choice(WORDS)}",
                "blob_sha256": rng.choice("abc") * 64,
                "media_type": "image",
                "width": rng.choice((None, 640, 1280)),
                "height": 480,
                "author": rng.choice(WORDS),
                "metadata": rng.choice(
                    (
                        {},
                        {"sensor": rng.choice(SENSORS)},
                        {
                            "sensor": rng.choice(SENSORS),
                            "night": rng.random() < 0.5,
                            "exposure": rng.choice((1, 2.5, 10)),
                        },
                        {"camera": {"id": rng.choice(SENSORS)}, "tags": ["x"]},
                    )
                ),
            }
            for i in range(8)
        ],
    )
    ids = v.create(
        conn, dataset, "main", "instance", [instance(rng, files, labels) for _ in range(70)]
    )
    v.commit(conn, dataset, "main", "load", "test")
    # Commit 2 on main: scores move, some instances go, some arrive, a file's metadata changes.
    v.update(
        conn, dataset, "main", "instance", {i: {"score": round(rng.random(), 2)} for i in ids[:15]}
    )
    v.delete(conn, dataset, "main", "instance", ids[15:25])
    v.create(conn, dataset, "main", "instance", [instance(rng, files, labels) for _ in range(10)])
    v.update(
        conn, dataset, "main", "file", {files[0]: {"metadata": {"sensor": "c", "night": True}}}
    )
    v.commit(conn, dataset, "main", "edits", "test")
    # Branch exp: its own edits on inherited rows (kills) and new rows.
    v.create_branch(conn, dataset, "exp", "main")
    v.update(
        conn, dataset, "exp", "instance", {i: {"label_entity_id": labels[2]} for i in ids[30:40]}
    )
    v.delete(conn, dataset, "exp", "instance", ids[40:45])
    v.delete(conn, dataset, "exp", "instance", ids[:3])
    v.create(conn, dataset, "exp", "instance", [instance(rng, files, labels) for _ in range(8)])
    v.update(conn, dataset, "exp", "file", {files[1]: {"name": "renamed", "width": 10}})
    return dataset


def state(conn: Connection, dataset: int, ref: str) -> State:
    def rows(kind: str) -> list[dict[str, Any]]:
        return [
            {"entity_id": eid, **content}
            for eid, content in v.read(conn, dataset, ref, kind).items()
        ]

    instances = rows("instance")
    for row in instances:
        row["area"] = None if row["w"] is None or row["h"] is None else row["w"] * row["h"]
    return State({"instances": instances, "files": rows("file"), "labels": rows("label")})
