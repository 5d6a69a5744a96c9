"""Loads the demo dataset `street-scenes` into the database and the blob store.

What it makes: labels car / person / traffic_light; four images with boxes and a polygon, some
human-made and some model predictions; one short video with frame-level instances along two
tracks and keyframe rows; branch `main` with two commits, tag `v1` on the first, and branch
`team-a` forked from `v1` with model predictions and one corrected box.

The rows follow the row rules of `versioning/models/entities.py` directly: replacing a row the
branch owns ends it (`seq_to`), replacing an inherited one records a kill. Loading is idempotent:
a database that already has the dataset is left as it is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text, update

from trainingdb.server.blobs import BlobStore
from trainingdb.versioning.models import (
    Blob,
    Branch,
    Commit,
    Dataset,
    EntityType,
    File,
    Frame,
    Instance,
    InstanceKind,
    Kill,
    Label,
    MediaType,
    Source,
    Tag,
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


_INSTANCE_DEFAULTS: dict[str, Any] = {
    "frame_number": None,
    "points": None,
    "attributes": {},
    "score": None,
    "source": Source.HUMAN.value,
    "model_run": None,
    "track_id": None,
    "author": DEMO_TEAM,
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


class _Writer:
    """Inserts revisions of one dataset at one (branch, seq)."""

    def __init__(self, conn: Connection, dataset_id: int, blobs: BlobStore) -> None:
        self.conn = conn
        self.dataset_id = dataset_id
        self.blobs = blobs
        self.branch_id = 0
        self.seq = 0

    def at(self, branch_id: int, seq: int) -> _Writer:
        self.branch_id, self.seq = branch_id, seq
        return self

    def row(self, entity: uuid.UUID) -> dict[str, Any]:
        return {
            "dataset_id": self.dataset_id,
            "entity_id": entity,
            "branch_id": self.branch_id,
            "seq_from": self.seq,
        }

    def blob(self, data: bytes, mime: str) -> str:
        stored = self.blobs.put_bytes(data)
        self.conn.execute(
            insert(Blob).values(
                dataset_id=self.dataset_id,
                sha256=stored.sha256,
                size=stored.size,
                mime=mime,
                storage_key=stored.storage_key,
            )
        )
        return stored.sha256

    def label(self, name: str, color: str, schema: dict[str, Any]) -> uuid.UUID:
        entity = entity_id("label", name)
        self.conn.execute(
            insert(Label).values(
                **self.row(entity), name=name, color=color, attribute_schema=schema
            )
        )
        return entity

    def file(self, name: str, sha256: str, **media: Any) -> uuid.UUID:
        entity = entity_id("file", name)
        self.conn.execute(
            insert(File).values(**self.row(entity), name=name, blob_sha256=sha256, **media)
        )
        return entity

    def instances(self, rows: list[dict[str, Any]]) -> None:
        # One multi-row INSERT, not a loop of statements; its rows must all name the same columns.
        if rows:
            self.conn.execute(
                insert(Instance),
                [{**_INSTANCE_DEFAULTS, **self.row(row.pop("entity_id")), **row} for row in rows],
            )

    def commit(self, message: str) -> None:
        self.conn.execute(
            insert(Commit).values(
                dataset_id=self.dataset_id,
                branch_id=self.branch_id,
                seq=self.seq,
                message=message,
                author=DEMO_TEAM,
            )
        )
        self.conn.execute(
            update(Branch)
            .where(Branch.dataset_id == self.dataset_id, Branch.id == self.branch_id)
            .values(head_seq=self.seq)
        )


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
    dataset_id = conn.scalar(
        insert(Dataset)
        .values(
            name=DEMO_DATASET,
            owner_team_id=team_id,
            description="Generated street scenes and a short drive video, for trying trainingdb.",
        )
        .returning(Dataset.id)
    )
    assert dataset_id is not None
    main = conn.scalar(
        insert(Branch)
        .values(dataset_id=dataset_id, name="main", owner_team_id=team_id, created_by=DEMO_TEAM)
        .returning(Branch.id)
    )
    assert main is not None
    w = _Writer(conn, dataset_id, blobs).at(main, 1)

    labels = {name: w.label(name, color, schema) for name, (color, schema) in LABELS.items()}
    images = make_images()
    for image in images:
        sha = w.blob(image.data, image.mime)
        file = w.file(
            image.name,
            sha,
            media_type=MediaType.IMAGE.value,
            width=image.width,
            height=image.height,
        )
        w.instances(_image_instances(image, file, labels))
    video = make_video()
    sha = w.blob(video.data, video.mime)
    video_file = w.file(
        video.name,
        sha,
        media_type=MediaType.VIDEO.value,
        width=video.width,
        height=video.height,
        fps=video.fps,
        frame_count=video.frame_count,
        duration=video.duration,
        metadata_={"camera": "front", "city": "demo"},
    )
    w.instances(_video_instances(video, video_file, labels))
    keyframes = range(0, video.frame_count, int(video.fps))
    conn.execute(
        insert(Frame),
        [
            {
                **w.row(entity_id("frame", f"{video.name}/{n}")),
                "file_entity_id": video_file,
                "frame_number": n,
                "timestamp": n / video.fps,
                "metadata_": {"keyframe": True},
            }
            for n in keyframes
        ],
    )
    w.commit("Import street scenes")
    conn.execute(
        insert(Tag).values(
            dataset_id=dataset_id, name="v1", branch_id=main, seq=1, created_by=DEMO_TEAM
        )
    )

    # team-a forks from v1, corrects one inherited box (kill + new revision of the same entity)
    # and adds a newer model's predictions.
    team_a = conn.scalar(
        insert(Branch)
        .values(
            dataset_id=dataset_id,
            name="team-a",
            parent_branch_id=main,
            fork_seq=1,
            owner_team_id=team_id,
            created_by=DEMO_TEAM,
        )
        .returning(Branch.id)
    )
    assert team_a is not None
    w.at(team_a, 1)
    first = images[0]
    car = next(i for i, obj in enumerate(first.objects) if obj.label == "car")
    corrected = entity_id("instance", f"{first.name}/{car}")
    old_row = conn.scalar(
        select(Instance.row_id).where(
            Instance.dataset_id == dataset_id, Instance.entity_id == corrected
        )
    )
    conn.execute(
        insert(Kill).values(
            dataset_id=dataset_id,
            branch_id=team_a,
            row_id=old_row,
            seq=1,
            entity_type=EntityType.INSTANCE.value,
        )
    )
    fixed = _image_instances(first, entity_id("file", first.name), labels)[car]
    fixed["x"] = max(0.0, fixed["x"] - 2)
    fixed["attributes"] = {**fixed["attributes"], "reviewed": True}
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
    w.instances([fixed, *predictions])
    w.commit("detector-v2 predictions; one car box corrected")

    # main moves on: recolour a label it owns (end the old revision, insert the new one).
    w.at(main, 2)
    light = labels["traffic_light"]
    conn.execute(
        update(Label)
        .where(Label.dataset_id == dataset_id, Label.entity_id == light, Label.seq_to.is_(None))
        .values(seq_to=2)
    )
    w.label("traffic_light", "#ff8c00", LABELS["traffic_light"][1])
    w.commit("Recolour traffic_light")


def _summary(conn: Connection, dataset_id: int, created: bool) -> DemoSummary:
    def count(model: type[File] | type[Instance]) -> int:
        # Head of the default branch (a root branch): alive rows it owns.
        return (
            conn.scalar(
                select(func.count())
                .select_from(model)
                .join(
                    Branch,
                    (Branch.dataset_id == model.dataset_id) & (Branch.id == model.branch_id),
                )
                .where(
                    model.dataset_id == dataset_id, Branch.name == "main", model.seq_to.is_(None)
                )
            )
            or 0
        )

    branches = conn.scalars(
        select(Branch.name).where(Branch.dataset_id == dataset_id).order_by(Branch.name)
    )
    tags = conn.scalars(select(Tag.name).where(Tag.dataset_id == dataset_id).order_by(Tag.name))
    return DemoSummary(
        dataset=DEMO_DATASET,
        created=created,
        files=count(File),
        instances=count(Instance),
        branches=tuple(branches),
        tags=tuple(tags),
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
