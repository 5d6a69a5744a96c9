"""Versioned entities (label, file, frame, instance), the kills that hide inherited rows, and
the source documents imports keep beside them.

Row rules — every versioned table follows them; the engine and the query compiler rely on them:

1. A row is one revision of one entity. `(dataset_id, row_id)` names the revision; `entity_id`
   is the entity's identity, shared by all its revisions on all branches. `row_id` comes from one
   sequence shared by every versioned table, so a kill names a row unambiguously.
2. A row belongs to the branch that wrote it (`branch_id`) and is alive there for the sequence
   numbers `seq_from <= s < seq_to` (`seq_to IS NULL`: alive at the branch's head).
3. Writes happen at the branch's working seq `w = head_seq + 1`:
   - create inserts a row with `seq_from = w, seq_to = NULL`;
   - replacing or deleting a committed row the branch owns sets its `seq_to = w` (a replacement
     also inserts the new revision);
   - replacing or deleting a row still at `seq_from = w` deletes it (a replacement inserts the
     new revision): only committed states are kept, and nothing refers to an uncommitted row;
   - replacing or deleting a row inherited from an ancestor branch inserts
     `kill(dataset_id, branch_id, row_id, seq = w)` (and, for a replacement, the new revision).
4. A branch holds at most one alive row per entity (unique index `WHERE seq_to IS NULL`), and a
   branch kills a given inherited row at most once (kill primary key).
5. Visibility at version `(b, s)`: lineage `L = [(b, s), (parent, fork_seq), ...]`. Row `r` is
   visible iff for some `(lb, ls)` in `L`: `r.branch_id = lb AND r.seq_from <= ls AND
   (r.seq_to IS NULL OR r.seq_to > ls)`, and no kill `k` of `r.row_id` exists by a branch
   `(kb, ks)` that comes before `lb` in `L` with `k.seq <= ks`.
   At the head of a root branch this is `branch_id = b AND seq_to IS NULL`, which the partial
   indexes `WHERE seq_to IS NULL` serve.
6. References between entities (instance -> file, instance -> label, frame -> file) are by
   `entity_id`: which revision they reach depends on the version read, so they cannot be foreign
   keys; the engine checks them when it writes. References to blobs are real foreign keys.
7. A row's branch (and so its dataset) must exist, and a row never moves to another branch. Foreign
   keys say so on label, file and frame; on instance, statement-level triggers (migration 0006)
   check each statement's rows at once, because a per-row key check was a third of a bulk
   import's time.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Sequence,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from .base import Base, created_at_column, jsonb_object_column
from .vocabulary import NON_SPATIAL_KINDS, EntityType, InstanceKind, MediaType, Source, sql_in

REVISION_ROW_ID = Sequence("revision_row_id_seq", metadata=Base.metadata)

ALIVE = text("seq_to IS NULL")


def alive_index(name: str, *columns: str, unique: bool = False) -> Index:
    """A partial index over the rows alive at branch heads (`WHERE seq_to IS NULL`, rule 5)."""
    return Index(name, "dataset_id", "branch_id", *columns, unique=unique, postgresql_where=ALIVE)


def _versioned_indexes(table: str, *, row_keys: bool = True) -> tuple[Any, ...]:
    """The constraints and indexes every versioned table has (rules 4 and 5, diff, history);
    without `row_keys` the branch is checked per statement instead (migration 0006)."""
    keys = (ForeignKeyConstraint(["dataset_id", "branch_id"], ["branch.dataset_id", "branch.id"]),)
    return (
        *(keys if row_keys else ()),
        CheckConstraint("seq_from >= 1", name="seq_from_positive"),
        CheckConstraint("seq_to IS NULL OR seq_to > seq_from", name="seq_range"),
        alive_index(f"uq_{table}_alive_entity", "entity_id", unique=True),
        # diff: rows a branch wrote, and rows it ended, since a given seq — O(changes).
        Index(f"ix_{table}_written", "dataset_id", "branch_id", "seq_from"),
        Index(
            f"ix_{table}_ended",
            "dataset_id",
            "branch_id",
            "seq_to",
            postgresql_where=text("seq_to IS NOT NULL"),
        ),
        # one entity across every branch (history), and an id alone (federation's _entities,
        # which must first find the dataset): the entity id leads (migration 0008).
        Index(f"ix_{table}_entity", "entity_id", "dataset_id"),
    )


class VersionedRow:
    """Columns of rules 1-2; mixed into every versioned table, ahead of its own columns."""

    # False where statement-level triggers stand in for the foreign keys (migration 0006).
    row_keys: ClassVar[bool] = True

    @declared_attr
    def dataset_id(cls) -> Mapped[int]:
        if not cls.row_keys:
            return mapped_column(BigInteger, primary_key=True, sort_order=-6)
        return mapped_column(
            ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True, sort_order=-6
        )

    row_id: Mapped[int] = mapped_column(
        BigInteger,
        REVISION_ROW_ID,
        primary_key=True,
        server_default=REVISION_ROW_ID.next_value(),
        sort_order=-5,
    )
    entity_id: Mapped[uuid.UUID] = mapped_column(sort_order=-4)
    branch_id: Mapped[int] = mapped_column(sort_order=-3)
    seq_from: Mapped[int] = mapped_column(sort_order=-2)
    seq_to: Mapped[int | None] = mapped_column(sort_order=-1)


class Label(VersionedRow, Base):
    """One class of the dataset's ontology."""

    __tablename__ = "label"

    name: Mapped[str] = mapped_column(String(200))
    color: Mapped[str] = mapped_column(String(7), server_default=text("'#888888'"))
    description: Mapped[str] = mapped_column(server_default=text("''"))
    attribute_schema: Mapped[dict[str, Any]] = jsonb_object_column()
    # Where the label came from, for a faithful export: a COCO category's keys but its name
    # (`{"coco": {"id": 3, "supercategory": "animal"}}`), a YOLO class index
    # (`{"yolo": {"index": 0}}`) (migration 0010; `metadata` is reserved on declarative classes).
    metadata_: Mapped[dict[str, Any]] = jsonb_object_column("metadata")
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        *_versioned_indexes("label"),
        CheckConstraint("name <> ''", name="name_not_empty"),
        CheckConstraint("color ~ '^#[0-9a-fA-F]{6}$'", name="color_hex"),
        CheckConstraint("jsonb_typeof(metadata) = 'object'", name="metadata_object"),
        alive_index("uq_label_alive_name", "name", unique=True),
    )


class File(VersionedRow, Base):
    """One media item (image, video, text ...) of the dataset, naming its bytes by sha256."""

    __tablename__ = "file"

    name: Mapped[str] = mapped_column(String(1024))
    blob_sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(16))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    fps: Mapped[float | None] = mapped_column(Double)
    frame_count: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Double)
    # `metadata` is reserved on declarative classes; the column keeps the plain name.
    metadata_: Mapped[dict[str, Any]] = jsonb_object_column("metadata")
    author: Mapped[str] = mapped_column(server_default=text("''"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        *_versioned_indexes("file"),
        ForeignKeyConstraint(["dataset_id", "blob_sha256"], ["blob.dataset_id", "blob.sha256"]),
        CheckConstraint("name <> ''", name="name_not_empty"),
        CheckConstraint(sql_in("media_type", MediaType), name="media_type"),
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
        CheckConstraint("fps > 0", name="fps_positive"),
        CheckConstraint("frame_count >= 0 AND duration >= 0", name="length_non_negative"),
        CheckConstraint(
            "media_type <> 'video' OR (fps IS NOT NULL AND frame_count IS NOT NULL)",
            name="video_timing",
        ),
        CheckConstraint("jsonb_typeof(metadata) = 'object'", name="metadata_object"),
        alive_index("uq_file_alive_name", "name", unique=True),
        Index("ix_file_blob", "dataset_id", "blob_sha256"),
    )


class Frame(VersionedRow, Base):
    """Data of one video frame of its own (timestamp, extracted image, metadata).

    A frame row exists only where a frame carries such data; frames as groups of instances come
    from `instance.frame_number` and need no row.
    """

    __tablename__ = "frame"

    file_entity_id: Mapped[uuid.UUID]
    frame_number: Mapped[int] = mapped_column(Integer)
    timestamp: Mapped[float | None] = mapped_column(Double)
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    metadata_: Mapped[dict[str, Any]] = jsonb_object_column("metadata")
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        *_versioned_indexes("frame"),
        ForeignKeyConstraint(["dataset_id", "image_sha256"], ["blob.dataset_id", "blob.sha256"]),
        CheckConstraint("frame_number >= 0", name="frame_number_non_negative"),
        CheckConstraint("timestamp >= 0", name="timestamp_non_negative"),
        CheckConstraint("jsonb_typeof(metadata) = 'object'", name="metadata_object"),
        alive_index("uq_frame_alive_number", "file_entity_id", "frame_number", unique=True),
    )


_SPATIAL_KINDS = sorted(k.value for k in InstanceKind if k not in NON_SPATIAL_KINDS)


class Instance(VersionedRow, Base):
    """One annotation or prediction on a file, or on one frame of a video (`frame_number`)."""

    __tablename__ = "instance"
    # Bulk imports insert millions of rows: a per-row key check was a third of their time.
    row_keys = False

    file_entity_id: Mapped[uuid.UUID]
    frame_number: Mapped[int | None] = mapped_column(Integer)
    label_entity_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))
    # Every spatial kind fills its bounding box, so area and position filter in SQL.
    x: Mapped[float | None] = mapped_column(Double)
    y: Mapped[float | None] = mapped_column(Double)
    w: Mapped[float | None] = mapped_column(Double)
    h: Mapped[float | None] = mapped_column(Double)
    area: Mapped[float | None] = mapped_column(Double, Computed("w * h", persisted=True))
    points: Mapped[Any | None] = mapped_column(JSONB)
    text_start: Mapped[int | None] = mapped_column(Integer)
    text_end: Mapped[int | None] = mapped_column(Integer)
    attributes: Mapped[dict[str, Any]] = jsonb_object_column()
    score: Mapped[float | None] = mapped_column(Double)
    source: Mapped[str] = mapped_column(String(16), server_default=text("'human'"))
    model_run: Mapped[str | None] = mapped_column(String(200))
    track_id: Mapped[str | None] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(server_default=text("''"))
    # Fields of the source record that have no column (a COCO annotation's id, area, iscrowd,
    # any other key), kept so an export writes them back; NULL when there were none (0010).
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        *_versioned_indexes("instance", row_keys=False),
        CheckConstraint(sql_in("kind", InstanceKind), name="kind"),
        CheckConstraint(sql_in("source", Source), name="source"),
        CheckConstraint("frame_number >= 0", name="frame_number_non_negative"),
        CheckConstraint("score >= 0 AND score <= 1", name="score_unit_interval"),
        CheckConstraint("w >= 0 AND h >= 0", name="extent_non_negative"),
        CheckConstraint(
            "kind NOT IN ({}) OR (x IS NOT NULL AND y IS NOT NULL AND w IS NOT NULL"
            " AND h IS NOT NULL)".format(", ".join(f"'{k}'" for k in _SPATIAL_KINDS)),
            name="spatial_bbox",
        ),
        CheckConstraint(
            "kind <> 'text_span' OR (text_start IS NOT NULL AND text_end IS NOT NULL)",
            name="text_span_offsets",
        ),
        CheckConstraint("text_start >= 0 AND text_end >= text_start", name="text_offsets"),
        CheckConstraint("model_run IS NULL OR source = 'model'", name="model_run_source"),
        CheckConstraint("jsonb_typeof(attributes) = 'object'", name="attributes_object"),
        CheckConstraint("extra IS NULL OR jsonb_typeof(extra) = 'object'", name="extra_object"),
        # Head reads: a file's instances frame by frame, and instances by label and score.
        alive_index("ix_instance_alive_file", "file_entity_id", "frame_number"),
        alive_index("ix_instance_alive_label", "label_entity_id", "score"),
    )


class Kill(Base):
    """Branch `branch_id` hides inherited row `row_id` from `seq` on (row rule 3)."""

    __tablename__ = "kill"

    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    branch_id: Mapped[int]
    row_id: Mapped[int]
    seq: Mapped[int]
    entity_type: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        # Row first: reads ask "is this row killed by any branch of my lineage?" (rule 5) and
        # history asks "who killed this row?" — one index probe each, whatever the branch count.
        PrimaryKeyConstraint("dataset_id", "row_id", "branch_id"),
        ForeignKeyConstraint(["dataset_id", "branch_id"], ["branch.dataset_id", "branch.id"]),
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint(sql_in("entity_type", EntityType), name="entity_type"),
        # diff: kills a branch made since a given seq.
        Index("ix_kill_written", "dataset_id", "branch_id", "seq"),
    )


class SourceDocument(Base):
    """The document-level parts of an imported annotation file (a COCO file's `info`,
    `licenses` and any other top-level keys), stored once per content.

    Not versioned, like a blob: a document never changes, and files name it by `digest` in
    their versioned `metadata` (`{"coco": {"document": digest}}`), so the export of any version
    finds the documents of the files it holds. Documents are small and few (one per distinct
    import), so none is ever deleted but with its dataset.
    """

    __tablename__ = "source_document"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    # sha256 of the content as canonical JSON (sorted keys): the same document, one row.
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    format: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, Any]] = jsonb_object_column()
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint("digest ~ '^[0-9a-f]{64}$'", name="digest_hex"),
        CheckConstraint("jsonb_typeof(content) = 'object'", name="content_object"),
    )
