"""Files and instances, as read (`File`, `Instance`) and as written (`InstanceInput`,
`LabelInput`), and the one conversion of a row to a GraphQL input object (`input_object`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from .parse import Json, obj, opt_float, opt_int, opt_text, text


@dataclass(frozen=True, slots=True)
class File:
    """A media file at `version`: its blob's `sha256`, size and timing, and `url`, a signed link
    to the bytes valid for an hour (None when the server serves no blobs)."""

    id: str
    name: str
    sha256: str
    media_type: str
    width: int | None
    height: int | None
    fps: float | None
    frame_count: int | None
    duration: float | None
    metadata: dict[str, Json]
    url: str | None
    version: str

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Self:
        """from_json: a `File` object of the API."""
        return cls(
            text(data["id"]),
            text(data["name"]),
            text(data["blobSha256"]),
            text(data["mediaType"]),
            opt_int(data["width"]),
            opt_int(data["height"]),
            opt_float(data["fps"]),
            opt_int(data["frameCount"]),
            opt_float(data["duration"]),
            obj(data["metadata"]),
            opt_text(data["url"]),
            text(data["version"]),
        )


@dataclass(frozen=True, slots=True)
class Instance:
    """An annotation or prediction at `version`: on file `file_id` (on frame `frame_number` of a
    video), with label `label_id` named `label`, its geometry and its provenance."""

    id: str
    file_id: str
    frame_number: int | None
    label_id: str
    label: str
    kind: str
    x: float | None
    y: float | None
    w: float | None
    h: float | None
    points: Json
    text_start: int | None
    text_end: int | None
    attributes: dict[str, Json]
    score: float | None
    source: str
    model_run: str | None
    track_id: str | None
    author: str
    version: str

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Self:
        """from_json: an `Instance` object of the API (with `label { name }` and
        `modelRun { id }`)."""
        run = data["modelRun"]
        return cls(
            text(data["id"]),
            text(data["fileId"]),
            opt_int(data["frameNumber"]),
            text(data["labelId"]),
            text(obj(data["label"])["name"]),
            text(data["kind"]),
            opt_float(data["x"]),
            opt_float(data["y"]),
            opt_float(data["w"]),
            opt_float(data["h"]),
            data["points"],
            opt_int(data["textStart"]),
            opt_int(data["textEnd"]),
            obj(data["attributes"]),
            opt_float(data["score"]),
            text(data["source"]),
            None if run is None else text(obj(run)["id"]),
            opt_text(data["trackId"]),
            text(data["author"]),
            text(data["version"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceInput:
    """A new instance; name its label by `label` (the name) or `label_id`, not both. Fields left
    None take the server's defaults (source: human)."""

    file_id: str
    kind: str
    label: str | None = None
    label_id: str | None = None
    frame_number: int | None = None
    x: float | None = None
    y: float | None = None
    w: float | None = None
    h: float | None = None
    points: Json = None
    text_start: int | None = None
    text_end: int | None = None
    attributes: dict[str, Json] | None = None
    score: float | None = None
    source: str | None = None
    model_run: str | None = None
    track_id: str | None = None
    author: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelInput:
    """A new label; colour (#rrggbb, default #888888), description and attribute schema are
    optional."""

    name: str
    color: str | None = None
    description: str | None = None
    attribute_schema: dict[str, Json] | None = None


def camel(name: str) -> str:
    """camel: a snake_case Python name as the API's camelCase field name."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def input_object(row: object, what: str) -> dict[str, Any]:
    """input_object: `row` as a GraphQL input object. A mapping is sent as it is (keys are the
    API's field names, e.g. `fileId`); a dataclass (`InstanceInput`, or one of the caller's
    own) becomes its non-None fields in camelCase. TypeError naming `what` for anything else."""
    if isinstance(row, Mapping):
        return dict(row)
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return {
            camel(field.name): value
            for field in dataclasses.fields(row)
            if (value := getattr(row, field.name)) is not None
        }
    raise TypeError(
        f"{what}: expected a mapping of GraphQL fields or a dataclass, got {type(row).__name__}"
    )
