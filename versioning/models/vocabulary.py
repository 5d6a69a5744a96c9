"""Closed vocabularies stored as text with CHECK constraints.

Text + CHECK rather than PostgreSQL ENUM types: adding a kind is then one constraint swap in a
migration, not an `ALTER TYPE` that cannot run inside a transaction on older servers, and the
same Python enums feed validation and the GraphQL schema.
"""

from __future__ import annotations

from enum import StrEnum


class MediaType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    TEXT = "text"
    AUDIO = "audio"
    POINTCLOUD = "pointcloud"
    DOCUMENT = "document"


class InstanceKind(StrEnum):
    BOX = "box"
    POLYGON = "polygon"
    POLYLINE = "polyline"
    POINT = "point"
    KEYPOINTS = "keypoints"
    CUBOID = "cuboid"
    CLASSIFICATION = "classification"
    TEXT_SPAN = "text_span"
    # A segmentation mask: run-length encoding or polygons in `points`, extent in the bbox.
    SEGMENT = "segment"


# Kinds with no extent in the media: every other kind fills the bbox columns x, y, w, h so that
# area and position filter in SQL whatever the geometry.
NON_SPATIAL_KINDS: frozenset[InstanceKind] = frozenset(
    {InstanceKind.CLASSIFICATION, InstanceKind.TEXT_SPAN}
)


class Source(StrEnum):
    HUMAN = "human"
    MODEL = "model"


class Role(StrEnum):
    VIEWER = "viewer"
    ANNOTATOR = "annotator"
    EDITOR = "editor"
    ADMIN = "admin"


class EntityType(StrEnum):
    """The versioned tables; a kill names which one its row lives in."""

    LABEL = "label"
    FILE = "file"
    FRAME = "frame"
    INSTANCE = "instance"


def sql_in(column: str, values: type[StrEnum]) -> str:
    """CHECK expression: `column` is one of the enum's values."""
    quoted = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({quoted})"


class JobKind(StrEnum):
    IMPORT_MEDIA = "import_media"
    IMPORT_ANNOTATIONS = "import_annotations"
    EXPORT = "export"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
