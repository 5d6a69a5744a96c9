"""The `import_annotations` job: labels or predictions from a file onto a branch, validated.

Params: `branch`, `path` (the annotation file; for `yolo` a folder), `format` (`jsonl`,
`coco` or `yolo`), optional
`source` (`human` default, or `model` with `model_run`), `create_labels` (make labels the branch
lacks instead of refusing them), `skip_invalid`.

Every draft (formats.py) is checked before anything is written: its file is on the branch, its
label exists (or is created), its box lies inside the image (half a pixel of slack, for rounded
coordinates), its frame is one the video has, its score is in [0, 1], its label's required
attributes are present, and the content checks of versioning/checks.py hold. Valid rows stream
into `versioning.bulk.create_stream` (COPY to a staging table, one set-based apply) in the same
transaction that marks the job succeeded: either the whole file applies, or, with errors and no
`skip_invalid`, nothing does.

A record's entity id derives from the dataset and the record itself (every field of the row it
makes: file, frame, label, geometry, score, attributes, source fields such as a COCO
annotation's `id`), never from the file it came in or its place there. So importing a file
again creates nothing, and after a `skip_invalid` import, importing the corrected file adds
only the records that were not in; records that were in and have been edited since in the file
are new records (an import adds, it never updates or deletes). Identical records in one input
(the same box twice on an image) stay distinct: create_stream numbers the copies.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, select

from trainingdb import versioning as v
from trainingdb.server.jobs.worker import JobContext, JobFailed
from trainingdb.versioning.bulk import create_stream, id_block
from trainingdb.versioning.checks import check_content
from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.inputs import check_value
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.visibility import visible

from .coco import coco_labels, read_coco
from .formats import Draft, FormatError, branch_name, find_stem, stem_index
from .jsonl import jsonl_labels, read_jsonl
from .sources import keep_sources
from .yolo import read_yolo, yolo_labels

READERS: dict[str, tuple[Callable[[Path], Iterator[Draft]], Callable[[Path], set[str]]]] = {
    "jsonl": (read_jsonl, jsonl_labels),
    "coco": (read_coco, coco_labels),
    "yolo": (read_yolo, yolo_labels),
}
NAMESPACE = uuid.UUID("6f0b5d3e-7f43-4c4e-9d7e-4b1c2f9a5e10")
SLACK = 0.5
_DRAFT_KEYS = frozenset({
    "record", "file", "label", "kind", "bbox", "x", "y", "w", "h", "points", "frame",
    "text_start", "text_end", "score", "attributes", "track_id", "extra", "stem", "ybox", "ypoints",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class FileFacts:
    id: str  # the entity id as text: rows go to COPY as text, and str(UUID) is slow
    width: int | None
    height: int | None
    frame_count: int | None


@dataclass
class Validator:
    """Turns drafts into instance rows, or says what is wrong with each."""

    files: dict[str, FileFacts]
    labels: dict[str, uuid.UUID]
    required: dict[str, list[str]]
    source: str
    model_run: str | None
    id_base: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    stems: dict[str, list[str]] | None = None
    seen: int = 0

    def __post_init__(self) -> None:
        self._label_ids = {name: str(label) for name, label in self.labels.items()}

    def rows(self, drafts: Iterator[Draft], ctx: JobContext) -> Iterator[dict[str, Any]]:
        for i, draft in enumerate(drafts):
            self.seen = i + 1
            try:
                yield self.row(draft)
            except InvalidInputError as error:
                self.errors.append({"record": draft["record"], "message": error.message})
            if i % 1000 == 0:  # the context writes at most twice a second anyway
                ctx.progress(done=self.seen, failed=len(self.errors), errors=self.errors)

    def row(self, draft: Draft) -> dict[str, Any]:
        record = draft["record"]
        if "error" in draft:
            raise InvalidInputError(f"{record}: {draft['error']}")
        if not _DRAFT_KEYS.issuperset(draft):
            unknown = sorted(set(draft) - _DRAFT_KEYS)
            raise InvalidInputError(f"{record}: unknown key(s) {', '.join(unknown)}")
        if "stem" in draft:
            draft["file"], frame = self._by_stem(draft["stem"], record)
            if frame is not None:
                draft["frame"] = frame
        # A checkout's annotation file names `images/a.jpg` for the branch's `a.jpg`.
        given = draft.get("file")
        name = branch_name(self.files, given) if isinstance(given, str) else None
        facts = None if name is None else self.files[name]
        if facts is None:
            raise InvalidInputError(f"{record}: no file named {given!r} on the branch")
        if "ybox" in draft:
            draft["bbox"] = _pixels(draft.pop("ybox"), facts, record)
        if "ypoints" in draft:
            draft["points"], draft["bbox"] = _pixel_points(draft.pop("ypoints"), facts, record)
        label = self._label_ids.get(str(draft.get("label")))
        if label is None:
            raise InvalidInputError(f"{record}: no label named {draft.get('label')!r}")
        x, y, w, h = _box(draft, record)
        row: dict[str, Any] = {
            "file_entity_id": facts.id,
            "frame_number": draft.get("frame"),
            "label_entity_id": label,
            "kind": draft.get("kind", "box"),
            "x": x,
            "y": y,
            "w": w,
            "h": h,
            "points": draft.get("points"),
            "text_start": draft.get("text_start"),
            "text_end": draft.get("text_end"),
            "attributes": draft.get("attributes", {}),
            "score": draft.get("score"),
            "source": self.source,
            "model_run": self.model_run,
            "track_id": draft.get("track_id"),
            "author": "",
            "extra": draft.get("extra"),
        }
        if row["extra"] is not None:  # a producer's keys, unlike the columns, can hold anything
            check_value(row["extra"], f"{record}: extra")
        check_content(EntityType.INSTANCE, row, record)
        self._bounds(row, facts, record)
        missing = [a for a in self.required.get(draft["label"], []) if a not in row["attributes"]]
        if missing:
            raise InvalidInputError(
                f"{record}: label {draft['label']!r} requires attribute(s) {', '.join(missing)}"
            )
        row["entity_id"] = self.record_id(row)
        return row

    def record_id(self, row: dict[str, Any]) -> str:
        """The row's id as a UUID's text (copy_format): the dataset's block and 64 bits of the
        row's canonical JSON (module docstring)."""
        canonical = orjson.dumps(row, option=orjson.OPT_SORT_KEYS)
        digest = int.from_bytes(hashlib.blake2b(canonical, digest_size=8).digest(), "big")
        return f"{self.id_base | digest:032x}"

    def _by_stem(self, stem: str, record: str) -> tuple[str, int | None]:
        """The file (and frame) a YOLO label file names by its path without extension."""
        if self.stems is None:
            self.stems = stem_index(self.files)
        try:
            return find_stem(self.files, self.stems, stem)
        except LookupError as error:
            raise InvalidInputError(f"{record}: {error}") from None

    @staticmethod
    def _bounds(row: dict[str, Any], facts: FileFacts, record: str) -> None:
        frame = row["frame_number"]
        if frame is not None and (facts.frame_count is None or frame >= facts.frame_count):
            have = "no frames" if facts.frame_count is None else f"{facts.frame_count} frames"
            raise InvalidInputError(f"{record}: frame {frame} is not in the file ({have})")
        if row["x"] is None or facts.width is None or facts.height is None:
            return
        x, y, w, h = row["x"], row["y"], row["w"], row["h"]
        if x < -SLACK or y < -SLACK or x + w > facts.width + SLACK or y + h > facts.height + SLACK:
            raise InvalidInputError(
                f"{record}: box [{x}, {y}, {w}, {h}] is outside the "
                f"{facts.width}x{facts.height} image"
            )


def _pixels(ybox: list[float], facts: FileFacts, record: str) -> list[float]:
    if not facts.width or not facts.height:
        raise InvalidInputError(f"{record}: a YOLO box needs the file's width and height")
    cx, cy, w, h = ybox
    width, height = facts.width, facts.height
    # Rounded to a millionth of a pixel: float noise (160.00000000000003) is no measurement.
    return [
        round((cx - w / 2) * width, 6),
        round((cy - h / 2) * height, 6),
        round(w * width, 6),
        round(h * height, 6),
    ]


def _pixel_points(
    ypoints: list[float], facts: FileFacts, record: str
) -> tuple[list[list[float]], list[float]]:
    """A YOLO polygon's normalized x, y pairs in pixels, and its box."""
    if not facts.width or not facts.height:
        raise InvalidInputError(f"{record}: a YOLO polygon needs the file's width and height")
    points = [
        [round(ypoints[i] * facts.width, 6), round(ypoints[i + 1] * facts.height, 6)]
        for i in range(0, len(ypoints) - 1, 2)
    ]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    box = [min(xs), min(ys), round(max(xs) - min(xs), 6), round(max(ys) - min(ys), 6)]
    return points, box


def _box(draft: Draft, record: str) -> tuple[Any, Any, Any, Any]:
    if "bbox" not in draft:
        return draft.get("x"), draft.get("y"), draft.get("w"), draft.get("h")
    box = draft["bbox"]
    if not isinstance(box, list) or len(box) != 4:
        raise InvalidInputError(f"{record}: bbox must be [x, y, w, h], not {box!r}")
    return box[0], box[1], box[2], box[3]


def _files(conn: Connection, dataset_id: int, branch: str) -> dict[str, FileFacts]:
    table = KINDS[EntityType.FILE].table
    version = v.resolve(conn, dataset_id, branch)
    rows = conn.execute(
        select(
            table.c.name, table.c.entity_id, table.c.width, table.c.height, table.c.frame_count
        ).where(visible(table, version))
    )
    return {name: FileFacts(str(eid), w, h, n) for name, eid, w, h, n in rows}


def _labels(
    conn: Connection, dataset_id: int, branch: str, wanted: set[str]
) -> tuple[dict[str, uuid.UUID], dict[str, list[str]], int]:
    """Label ids by name at the branch's head (creating the `wanted` ones that are missing),
    each label's required attributes, and how many labels were created."""
    found = {
        content["name"]: (eid, content["attribute_schema"])
        for eid, content in v.read(conn, dataset_id, branch, "label").items()
    }
    missing = sorted(wanted - set(found))
    if missing:
        ids = v.create(conn, dataset_id, branch, "label", [{"name": n} for n in missing])
        found.update({n: (eid, {}) for n, eid in zip(missing, ids, strict=True)})
    required = {
        name: [str(a) for a in schema.get("required", [])]
        for name, (_, schema) in found.items()
        if isinstance(schema.get("required"), list)
    }
    return {name: eid for name, (eid, _) in found.items()}, required, len(missing)


def import_annotations(ctx: JobContext) -> dict[str, Any]:
    """import_annotations: validate and apply an annotation file (module docstring)."""
    params = ctx.job.params
    branch = str(params.get("branch") or "main")
    path = Path(params["path"])
    fmt = params.get("format", "jsonl")
    if fmt not in READERS:
        raise JobFailed(f"format {fmt!r} is not one of {', '.join(READERS)}")
    if not (path.is_dir() if fmt == "yolo" else path.is_file()):
        raise JobFailed(f"{path}: no such {'folder' if fmt == 'yolo' else 'file'}")
    source = params.get("source", "human")
    wanted: set[str] = set()
    if params.get("create_labels"):
        try:
            wanted = READERS[fmt][1](path)
        except FormatError as error:
            raise JobFailed(str(error)) from None
    skip = bool(params.get("skip_invalid"))

    def write(conn: Connection) -> dict[str, Any]:
        files = _files(conn, ctx.job.dataset_id, branch)
        labels, required, created_labels = _labels(conn, ctx.job.dataset_id, branch, wanted)
        # The dataset is part of the ids: the same file imported into two datasets must not
        # make entities that share ids (an id alone names one entity, e.g. for federation).
        base = id_block(NAMESPACE, ctx.job.dataset_id)
        validator = Validator(files, labels, required, source, params.get("model_run"), base)
        try:
            drafts = READERS[fmt][0](path)
            result = create_stream(
                conn,
                ctx.job.dataset_id,
                branch,
                "instance",
                validator.rows(drafts, ctx),
                repeats=True,
            )
            # What the input holds beyond instances (categories, image ids, frames, info):
            # written after them, under the branch lock create_stream took (sources.py).
            validator.errors.extend(
                keep_sources(conn, ctx.job.dataset_id, branch, fmt, path, files, labels)
            )
        except FormatError as error:
            raise JobFailed(str(error)) from None
        ctx.progress(
            total=validator.seen,
            done=validator.seen,
            failed=len(validator.errors),
            errors=validator.errors,
        )
        if validator.errors and not skip:
            raise JobFailed(
                f"{len(validator.errors)} of {validator.seen} records are invalid; nothing was "
                "imported (submit with skip_invalid to import the others)",
                validator.errors,
            )
        return {
            "created": result.created,
            "existing": result.existing,
            "failed": len(validator.errors),
            "labels_created": created_labels,
        }

    return ctx.apply(write)
