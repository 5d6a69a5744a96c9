"""GraphQL types of versioned entities (labels, files, instances, frames) and their connections.

These types declare the schema; their values are shaped by PostgreSQL (`shapes.py`) from the same
field names, and passed through (`passthrough.py`) — Strawberry never builds these objects one by
one. `tests/graphql/test_shapes.py` checks that every field declared here has a SQL builder.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Generic, TypeVar

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet
from strawberry.scalars import JSON

from .filters.inputs import InstanceWhere
from .global_ids import Node
from .passthrough import Shaped

T = TypeVar("T")


@strawberry.enum(description="Sort direction; nulls come last either way.")
class Direction(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.enum(description="Instance fields a page can be ordered by.")
class InstanceOrderField(Enum):
    ID = "id"
    SCORE = "score"
    AREA = "area"
    FRAME_NUMBER = "frame_number"
    X = "x"
    Y = "y"
    W = "w"
    H = "h"
    KIND = "kind"
    SOURCE = "source"
    MODEL_RUN = "model_run"
    TRACK_ID = "track_id"
    AUTHOR = "author"
    TEXT_START = "text_start"
    FILE_ID = "file_id"
    LABEL_ID = "label_id"


@strawberry.enum(description="File fields a page can be ordered by.")
class FileOrderField(Enum):
    ID = "id"
    NAME = "name"
    WIDTH = "width"
    HEIGHT = "height"
    DURATION = "duration"
    FRAME_COUNT = "frame_count"
    MEDIA_TYPE = "media_type"
    AUTHOR = "author"


@strawberry.enum(description="Label fields a page can be ordered by.")
class LabelOrderField(Enum):
    ID = "id"
    NAME = "name"


@strawberry.input(description="One key of an instance order.")
class InstanceOrder:
    field: InstanceOrderField
    direction: Direction = Direction.ASC


@strawberry.input(description="One key of a file order.")
class FileOrder:
    field: FileOrderField
    direction: Direction = Direction.ASC


@strawberry.input(description="One key of a label order.")
class LabelOrder:
    field: LabelOrderField
    direction: Direction = Direction.ASC


@strawberry.federation.type(
    keys=[Key(fields=FieldSet("id"), resolvable=False)],
    description="A model run, owned by another subgraph (the models team's); here only its id.",
)
class ModelRun:
    id: strawberry.ID


@strawberry.federation.type(
    keys=["id"], description="A class of annotation (car, person), by unique name."
)
class Label(Node):
    id: strawberry.ID
    name: str
    color: str
    description: str
    attribute_schema: JSON
    metadata: JSON = strawberry.field(
        description="Where the label came from, for export: an imported COCO category's keys "
        'but its name (`{"coco": {"id": 3, "supercategory": "animal"}}`), a YOLO class index '
        '(`{"yolo": {"index": 0}}`). A JSON object, `{}` by default.'
    )
    created_at: datetime


# `id version` is the key a gateway resolves. `id` alone stays a key, so another subgraph can
# add fields to ours by id, but not a resolvable one: query planners take the smaller key when
# both fit, and a reference made at a version would silently be read at the default head.
VERSIONED_KEYS = [Key(fields=FieldSet("id version")), Key(fields=FieldSet("id"), resolvable=False)]


@strawberry.federation.type(
    keys=VERSIONED_KEYS,
    description="An annotation or prediction on a file, or on one video frame.",
)
class Instance(Node):
    id: strawberry.ID
    version: str = strawberry.field(
        description="The version this object was read at (the ref as given): with `id`, a key."
    )
    file_id: strawberry.ID
    frame_number: int | None = strawberry.field(description="Set on frame-level instances.")
    label_id: strawberry.ID
    kind: str = strawberry.field(
        description="box, polygon, polyline, point, keypoints, cuboid, classification, "
        "text_span or segment."
    )
    x: float | None
    y: float | None
    w: float | None
    h: float | None
    area: float | None = strawberry.field(description="w * h.")
    points: JSON | None
    text_start: int | None
    text_end: int | None
    attributes: JSON
    score: float | None
    source: str = strawberry.field(description="human or model.")
    model_run: ModelRun | None = strawberry.field(
        description="The model run that made this prediction: an entity of the models team's "
        "subgraph, by id (`where: {modelRun: ...}` filters on that id)."
    )
    track_id: str | None
    author: str
    extra: JSON | None = strawberry.field(
        description="Fields of the source record that have no field here (a COCO annotation's "
        "id, area, iscrowd, other keys), written back on export; null when there were none."
    )
    created_at: datetime = strawberry.field(description="When this revision was written.")
    label: Label
    file: File


@strawberry.federation.type(
    keys=VERSIONED_KEYS,
    description="A media file (image, video, text, ...) by unique name.",
)
class File(Node):
    id: strawberry.ID
    version: str = strawberry.field(
        description="The version this object was read at (the ref as given): with `id`, a key."
    )
    name: str
    blob_sha256: str
    media_type: str
    width: int | None
    height: int | None
    fps: float | None
    frame_count: int | None
    duration: float | None
    metadata: JSON
    author: str
    created_at: datetime
    url: str | None = strawberry.field(
        description="A signed link to the file's bytes, valid for an hour: a browser fetches "
        "them without the API (null when this server serves no blobs)."
    )

    @strawberry.field(description="The file's instances matching `where` / `query`, ordered.")
    def instances(
        self,
        where: InstanceWhere | None = None,
        query: str | None = None,
        order_by: list[InstanceOrder] | None = None,
        first: int | None = 100,
    ) -> list[Instance]:
        raise AssertionError("shaped in SQL")

    @strawberry.field(description="How many of the file's instances match `where` / `query`.")
    def instance_count(self, where: InstanceWhere | None = None, query: str | None = None) -> int:
        raise AssertionError("shaped in SQL")


@strawberry.type(description="One frame of a video: its frame-level instances, grouped.")
class Frame:
    file_id: strawberry.ID
    frame_number: int
    timestamp: float | None = strawberry.field(description="Seconds, when the frame has a row.")
    metadata: JSON
    file: File

    @strawberry.field(description="The frame's instances matching `where` / `query`, ordered.")
    def instances(
        self,
        where: InstanceWhere | None = None,
        query: str | None = None,
        order_by: list[InstanceOrder] | None = None,
        first: int | None = 100,
    ) -> list[Instance]:
        raise AssertionError("shaped in SQL")

    @strawberry.field(description="How many of the frame's instances match `where` / `query`.")
    def instance_count(self, where: InstanceWhere | None = None, query: str | None = None) -> int:
        raise AssertionError("shaped in SQL")


@strawberry.type(description="Where a page starts and ends, and whether more follows.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    shaped: strawberry.Private[dict[str, Shaped]]
    total: strawberry.Private[int | None]
    page_info: PageInfo

    @strawberry.field(description="The page's entities with their cursors.")
    def edges(self, info: strawberry.Info) -> list[Edge[T]]:
        return self.shaped[str(info.path.key)]  # type: ignore[return-value]

    @strawberry.field(description="The page's entities.")
    def nodes(self, info: strawberry.Info) -> list[T]:
        return self.shaped[str(info.path.key)]  # type: ignore[return-value]

    @strawberry.field(description="Entities matching, over all pages (one more statement).")
    def total_count(self) -> int:
        assert self.total is not None, "counted when selected"
        return self.total
