"""A dataset of N instances with a branch history, for the versioning benchmarks.

Shape: 20 labels; 70% of the instances on images (20 per image), 30% frame-level on videos
(300 frames, 2 tracked objects a frame); then a history on `main` of `commits` commits, each
updating, deleting and creating instances spread over the whole dataset, a tag every 10
commits, and a chain of branches `a` -> `b` -> `c` (3 deep under main) with commits of their own.

Everything goes through the engine's API (bulk writes become one COPY per batch), so the
benchmark measures the rows the engine itself writes. Entity ids are derived from counters, so
memory stays flat in N: nothing holds the list of instances.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, insert

from trainingdb import versioning as v
from trainingdb.versioning.models import Blob
from trainingdb.versioning.revisions import current_rows
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import resolve

BATCH = 50_000
PER_IMAGE = 20
FRAMES, PER_FRAME = 300, 2
SHA = "f" * 64


def instance_id(i: int) -> uuid.UUID:
    return uuid.UUID(int=(3 << 64) + i)


def label_id(i: int) -> uuid.UUID:
    return uuid.UUID(int=(1 << 64) + i)


def file_id(i: int) -> uuid.UUID:
    return uuid.UUID(int=(2 << 64) + i)


@dataclass
class GeneratedDataset:
    dataset_id: int
    instances: int
    files: int
    labels: list[uuid.UUID]
    next_instance: int
    tags: list[str] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)

    def random_instance(self, rng: random.Random) -> uuid.UUID:
        """An instance id of the base load (possibly deleted since: callers tolerate that)."""
        return instance_id(rng.randrange(self.instances))


def _instances(
    n_images: int, n_videos: int, total: int, rng: random.Random
) -> Iterator[dict[str, Any]]:
    made = 0
    for image in range(n_images):
        for _ in range(PER_IMAGE):
            if made == total:
                return
            yield {
                "entity_id": instance_id(made),
                "file_entity_id": file_id(image),
                "label_entity_id": label_id(made % 20),
                "kind": "box",
                "x": float(rng.randrange(600)),
                "y": float(rng.randrange(400)),
                "w": float(rng.randrange(1, 200)),
                "h": float(rng.randrange(1, 200)),
                "score": round(rng.random(), 3),
            }
            made += 1
    for video in range(n_videos):
        for frame in range(FRAMES):
            for track in range(PER_FRAME):
                if made == total:
                    return
                yield {
                    "entity_id": instance_id(made),
                    "file_entity_id": file_id(n_images + video),
                    "frame_number": frame,
                    "label_entity_id": label_id(track),
                    "kind": "box",
                    "x": float(frame % 300),
                    "y": 100.0 + track * 50,
                    "w": 40.0,
                    "h": 30.0,
                    "score": round(rng.random(), 3),
                    "track_id": f"t{video}-{track}",
                }
                made += 1


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def edit(engine: Engine, ds: GeneratedDataset, branch: str, rng: random.Random, size: int) -> None:
    """One commit's worth of edits on `branch`: updates, deletes and creates spread over N."""
    with engine.begin() as conn:
        targets = {ds.random_instance(rng) for _ in range(size)}
        present_ids = set(present(conn, ds, branch, targets))
        updates = sorted(present_ids)[: size * 8 // 10]
        deletes = sorted(present_ids)[size * 8 // 10 : size * 9 // 10]
        if updates:
            v.update(
                conn,
                ds.dataset_id,
                branch,
                "instance",
                {eid: {"score": round(rng.random(), 3)} for eid in updates},
            )
        if deletes:
            v.delete(conn, ds.dataset_id, branch, "instance", deletes)
        new = []
        for _ in range(size // 10):
            new.append(
                {
                    "entity_id": instance_id(ds.next_instance),
                    "file_entity_id": file_id(rng.randrange(ds.files)),
                    "label_entity_id": ds.labels[rng.randrange(20)],
                    "kind": "box",
                    "x": 1.0,
                    "y": 1.0,
                    "w": 5.0,
                    "h": 5.0,
                    "score": round(rng.random(), 3),
                }
            )
            ds.next_instance += 1
        v.create(conn, ds.dataset_id, branch, "instance", new)
        v.commit(conn, ds.dataset_id, branch, f"edit {size}", "bench")


def present(
    conn: Connection, ds: GeneratedDataset, branch: str, ids: set[uuid.UUID]
) -> list[uuid.UUID]:
    """Which of `ids` are visible on `branch` (the edits touch only those)."""
    version = resolve(conn, ds.dataset_id, branch)
    return list(current_rows(conn, KINDS[v.EntityType.INSTANCE], version, ids))


def generate(
    engine: Engine, instances: int, *, seed: int = 7, commits: int = 30, edits: int = 1000
) -> GeneratedDataset:
    """Make the dataset (module docstring) and return where everything is."""
    rng = random.Random(seed)
    on_images = instances * 7 // 10
    n_images = -(-on_images // PER_IMAGE)
    n_videos = -(-(instances - on_images) // (FRAMES * PER_FRAME))
    with engine.begin() as conn:
        dataset_id = v.create_dataset(conn, f"bench-{instances}-{seed}").id
        conn.execute(
            insert(Blob).values(
                dataset_id=dataset_id, sha256=SHA, size=1, mime="image/png", storage_key="k"
            )
        )
        labels = v.create(
            conn,
            dataset_id,
            "main",
            "label",
            [{"entity_id": label_id(i), "name": f"label-{i}"} for i in range(20)],
        )
        files: list[dict[str, Any]] = [
            {
                "entity_id": file_id(i),
                "name": f"img/{i:08d}.jpg",
                "blob_sha256": SHA,
                "media_type": "image",
                "width": 640,
                "height": 480,
            }
            for i in range(n_images)
        ]
        files += [
            {
                "entity_id": file_id(n_images + i),
                "name": f"video/{i:06d}.mp4",
                "blob_sha256": SHA,
                "media_type": "video",
                "width": 640,
                "height": 480,
                "fps": 30.0,
                "frame_count": FRAMES,
                "duration": FRAMES / 30,
            }
            for i in range(n_videos)
        ]
        for start in range(0, len(files), BATCH):
            v.create(conn, dataset_id, "main", "file", files[start : start + BATCH])
    for batch in _batches(_instances(n_images, n_videos, instances, rng)):
        with engine.begin() as conn:
            v.create(conn, dataset_id, "main", "instance", batch)
    with engine.begin() as conn:
        v.commit(conn, dataset_id, "main", "base load", "bench")
    ds = GeneratedDataset(dataset_id, instances, n_images + n_videos, labels, instances)
    for n in range(1, commits + 1):
        edit(engine, ds, "main", rng, edits)
        if n % 10 == 0:
            with engine.begin() as conn:
                v.create_tag(conn, dataset_id, f"release-{n // 10}", "main")
            ds.tags.append(f"release-{n // 10}")
        if n == commits // 3:
            _fork(engine, ds, "a", "main")
    for child, parent in (("a", None), ("b", "a"), ("c", "b")):
        if parent is not None:
            _fork(engine, ds, child, parent)
        for _ in range(3):
            edit(engine, ds, child, rng, edits)
    return ds


def _fork(engine: Engine, ds: GeneratedDataset, name: str, parent: str) -> None:
    with engine.begin() as conn:
        v.create_branch(conn, ds.dataset_id, name, parent)
    ds.branches.append(name)
