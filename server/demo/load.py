"""Loads the demo dataset `street-scenes` into the database and the blob store.

What it makes: labels car / person / traffic_light; four images with boxes and a polygon, some
human-made and some model predictions; one short video with frame-level instances along two
tracks and keyframe rows; branch `main` with two commits, tag `v1` on the first, and branch
`team-a` forked from `v1` with model predictions and one corrected box.

Everything goes through the versioning engine, as a user's writes would. Loading is idempotent:
a database that already has the dataset is left as it is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from trainingdb import versioning as v
from trainingdb.server.blobs import BlobStore
from trainingdb.versioning.models import (
    Blob,
    Branch,
    Dataset,
    InstanceKind,
    MediaType,
    Source,
    Team,
)

from .media import DemoImage, make_images
from .video import DemoVideo, make_video

DEMO_DATASET = "street-scenes"
DEMO_TEAM = "demo"
# Fixed ids make the demo's entities the same in every install, so docs can name them.
_NAMESPACE = uuid.UUID("5b1d3f52-6a53-4d0b-9a43-7f0e4a3c2d10")
# Serialises two demo loads racing on one database.
_LOAD_LOCK_KEY = 0x7472_6465  # "trde"

LABELS: dict[str, tuple[str, dict[str, Any]]] = {
    "car": ("#e6194b", {"color": {"type": "string"}, "occluded": {"type": "boolean"}}),
    "person": ("#3cb44b", {"occluded": {"type": "boolean"}}),
    "traffic_light": ("#ffe119", {"state": {"type": "string", "enum": ["red", "amber", "green"]}}),
}


def entity_id(kind: str, name: str) -> uuid.UUID:
    """The demo's stable entity id for `kind`/`name`."""
    return uuid.uuid5(_NAMESPACE, f"{DEMO_DATASET}/{kind}/{name}")


@dataclass(frozen=True, slots=True)
class DemoSummary:
    dataset: str
    created: bool
    files: int
    instances: int
    branches: tuple[str, ...]
    tags: tuple[str, ...]


def _store_blob(conn: Connection, dataset_id: int, blobs: BlobStore, data: bytes, mime: str) -> str:
    """Put bytes in the blob store and record that the dataset references them."""
    stored = blobs.put_bytes(data)
    conn.execute(
        pg_insert(Blob)
        .values(
            dataset_id=dataset_id,
            sha256=stored.sha256,
            size=stored.size,
            mime=mime,
            storage_key=stored.storage_key,
        )
        .on_conflict_do_nothing()
    )
    return stored.sha256


def _image_instances(
    image: DemoImage, file: uuid.UUID, labels: dict[str, uuid.UUID]
) -> list[dict[str, Any]]:
    rows = []
    for i, obj in enumerate(image.objects):
        rows.append(
            {
                "entity_id": entity_id("instance", f"{image.name}/{i}"),
                "file_entity_id": file,
                "label_entity_id": labels[obj.label],
                "kind": obj.kind,
                "x": obj.x,
                "y": obj.y,
                "w": obj.w,
                "h": obj.h,
                "points": [list(p) for p in obj.points] if obj.points else None,
                "attributes": dict(obj.attributes),
                "score": obj.score,
                "source": obj.source,
                "model_run": "detector-v1" if obj.source == Source.MODEL else None,
                "author": DEMO_TEAM,
            }
        )
    return rows


def _video_instances(
    video: DemoVideo, file: uuid.UUID, labels: dict[str, uuid.UUID]
) -> list[dict[str, Any]]:
    return [
        {
            "entity_id": entity_id("instance", f"{video.name}/{t.track_id}/{t.frame_number}"),
            "file_entity_id": file,
            "frame_number": t.frame_number,
            "label_entity_id": labels[t.label],
            "kind": InstanceKind.BOX.value,
            "x": t.x,
            "y": t.y,
            "w": t.w,
            "h": t.h,
            "track_id": t.track_id,
            "source": Source.HUMAN.value,
            "author": DEMO_TEAM,
        }
        for t in video.tracks
    ]


def _load(conn: Connection, blobs: BlobStore) -> None:
    team_id = conn.scalar(select(Team.id).where(Team.name == DEMO_TEAM)) or conn.scalar(
        insert(Team).values(name=DEMO_TEAM).returning(Team.id)
    )
    ds = v.create_dataset(
        conn,
        DEMO_DATASET,
        description="Generated street scenes and a short drive video, for trying trainingdb.",
        owner_team_id=team_id,
    ).id
    v.create(
        conn,
        ds,
        "main",
        "label",
        [
            {
                "entity_id": entity_id("label", name),
                "name": name,
                "color": color,
                "attribute_schema": schema,
            }
            for name, (color, schema) in LABELS.items()
        ],
    )
    labels = {name: entity_id("label", name) for name in LABELS}
    images = make_images()
    v.create(
        conn,
        ds,
        "main",
        "file",
        [
            {
                "entity_id": entity_id("file", image.name),
                "name": image.name,
                "blob_sha256": _store_blob(conn, ds, blobs, image.data, image.mime),
                "media_type": MediaType.IMAGE.value,
                "width": image.width,
                "height": image.height,
                "author": DEMO_TEAM,
            }
            for image in images
        ],
    )
    for image in images:
        v.create(
            conn,
            ds,
            "main",
            "instance",
            _image_instances(image, entity_id("file", image.name), labels),
        )
    video = make_video()
    video_file = entity_id("file", video.name)
    v.create(
        conn,
        ds,
        "main",
        "file",
        [
            {
                "entity_id": video_file,
                "name": video.name,
                "blob_sha256": _store_blob(conn, ds, blobs, video.data, video.mime),
                "media_type": MediaType.VIDEO.value,
                "width": video.width,
                "height": video.height,
                "fps": video.fps,
                "frame_count": video.frame_count,
                "duration": video.duration,
                "metadata": {"camera": "front", "city": "demo"},
                "author": DEMO_TEAM,
            }
        ],
    )
    v.create(conn, ds, "main", "instance", _video_instances(video, video_file, labels))
    v.create(
        conn,
        ds,
        "main",
        "frame",
        [
            {
                "entity_id": entity_id("frame", f"{video.name}/{n}"),
                "file_entity_id": video_file,
                "frame_number": n,
                "timestamp": n / video.fps,
                "metadata": {"keyframe": True},
            }
            for n in range(0, video.frame_count, int(video.fps))
        ],
    )
    v.commit(conn, ds, "main", "Import street scenes", DEMO_TEAM)
    v.create_tag(conn, ds, "v1", "main", created_by=DEMO_TEAM)

    # team-a forks from v1, corrects one inherited car box and adds a newer model's predictions.
    v.create_branch(conn, ds, "team-a", "v1", owner_team_id=team_id, created_by=DEMO_TEAM)
    first = images[0]
    car = next(i for i, obj in enumerate(first.objects) if obj.label == "car")
    fixed = first.objects[car]
    v.update(
        conn,
        ds,
        "team-a",
        "instance",
        {
            entity_id("instance", f"{first.name}/{car}"): {
                "x": max(0.0, fixed.x - 2),
                "attributes": {**fixed.attributes, "reviewed": True},
            }
        },
    )
    predictions = []
    for image in images:
        cars = [
            (i, obj)
            for i, obj in enumerate(image.objects)
            if obj.label == "car" and obj.kind == InstanceKind.BOX and obj.source == Source.HUMAN
        ]
        for rank, (i, obj) in enumerate(cars):
            predictions.append(
                {
                    "entity_id": entity_id("instance", f"{image.name}/detector-v2/{i}"),
                    "file_entity_id": entity_id("file", image.name),
                    "label_entity_id": labels["car"],
                    "kind": InstanceKind.BOX.value,
                    "x": obj.x + 1,
                    "y": obj.y + 1,
                    "w": obj.w,
                    "h": obj.h,
                    "score": round(0.95 - 0.1 * rank, 2),
                    "source": Source.MODEL.value,
                    "model_run": "detector-v2",
                    "author": DEMO_TEAM,
                }
            )
    v.create(conn, ds, "team-a", "instance", predictions)
    v.commit(conn, ds, "team-a", "detector-v2 predictions; one car box corrected", DEMO_TEAM)

    # main moves on: recolour a label.
    v.update(conn, ds, "main", "label", {labels["traffic_light"]: {"color": "#ff8c00"}})
    v.commit(conn, ds, "main", "Recolour traffic_light", DEMO_TEAM)


def _summary(conn: Connection, dataset_id: int, created: bool) -> DemoSummary:
    branches = conn.scalars(
        select(Branch.name)
        .where(Branch.dataset_id == dataset_id, Branch.deleted_at.is_(None))
        .order_by(Branch.name)
    )
    return DemoSummary(
        dataset=DEMO_DATASET,
        created=created,
        files=len(v.read(conn, dataset_id, "main", "file")),
        instances=len(v.read(conn, dataset_id, "main", "instance")),
        branches=tuple(branches),
        tags=tuple(tag.name for tag in v.list_tags(conn, dataset_id)),
    )


def load_demo(engine: Engine, blobs: BlobStore) -> DemoSummary:
    """Load `street-scenes` unless present; what the dataset holds on main, either way."""
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOAD_LOCK_KEY})
        existing = conn.scalar(select(Dataset.id).where(Dataset.name == DEMO_DATASET))
        if existing is not None:
            return _summary(conn, existing, created=False)
        _load(conn, blobs)
        dataset_id = conn.scalar(select(Dataset.id).where(Dataset.name == DEMO_DATASET))
        assert dataset_id is not None
        return _summary(conn, dataset_id, created=True)
