"""Typed results for datasets, refs, labels, diffs, merges and jobs: frozen dataclasses read
from the fields `queries.py` selects (files and instances are in `records.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from .parse import (
    Json,
    boolean,
    integer,
    items,
    obj,
    opt_int,
    opt_text,
    opt_timestamp,
    text,
    timestamp,
)

SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"

# Filter and order arguments, as docs/QUERIES.md writes them: a FileWhere or InstanceWhere
# input such as {"score": {"_gt": 0.5}}, and keys such as [{"field": "SCORE", "direction": "DESC"}].
Where = Mapping[str, Any]
OrderBy = Sequence[Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset: its id, name, description and default branch."""

    id: str
    name: str
    description: str
    default_branch: str
    created_at: datetime

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Self:
        """from_json: a `Dataset` object of the API."""
        return cls(
            text(data["id"]),
            text(data["name"]),
            text(data["description"]),
            text(data["defaultBranch"]),
            timestamp(data["createdAt"]),
        )


@dataclass(frozen=True, slots=True)
class Branch:
    """A live branch; `head_seq` is the seq of its last commit (0: none yet)."""

    id: str
    name: str
    head_seq: int
    protected: bool
    created_at: datetime

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Self:
        """from_json: a `Branch` object of the API."""
        return cls(
            text(data["id"]),
            text(data["name"]),
            integer(data["headSeq"]),
            boolean(data["protected"]),
            timestamp(data["createdAt"]),
        )


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag: a name for the committed state `version` (`branch@seq`)."""

    id: str
    name: str
    branch: str
    seq: int
    version: str
    message: str
    created_by: str
    created_at: datetime

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Self:
        """from_json: a `Tag` object of the API."""
        return cls(
            text(data["id"]),
            text(data["name"]),
            text(data["branch"]),
            integer(data["seq"]),
            text(data["version"]),
            text(data["message"]),
            text(data["createdBy"]),
            timestamp(data["createdAt"]),
        )


@dataclass(frozen=True, slots=True)
class Commit:
    """A commit: the immutable state `version` (`branch@seq`); `parents` are commit ids (the
    branch's previous commit, then a merge's source); `merged_from` names a merge's source."""

    id: str
    branch: str
    seq: int
    version: str
    message: str
    author: str
    parents: tuple[str, ...]
    generation: int
    merged_from: str | None
    created_at: datetime

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Self:
        """from_json: a `Commit` object of the API."""
        return cls(
            text(data["id"]),
            text(data["branch"]),
            integer(data["seq"]),
            text(data["version"]),
            text(data["message"]),
            text(data["author"]),
            tuple(text(p) for p in items(data["parents"])),
            integer(data["generation"]),
            opt_text(data["mergedFrom"]),
            timestamp(data["createdAt"]),
        )


@dataclass(frozen=True, slots=True)
class Label:
    """A label of the ontology: name, colour (#rrggbb), description, attribute JSON Schema."""

    id: str
    name: str
    color: str
    description: str
    attribute_schema: dict[str, Json]

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Self:
        """from_json: a `Label` object of the API."""
        return cls(
            text(data["id"]),
            text(data["name"]),
            text(data["color"]),
            text(data["description"]),
            obj(data["attributeSchema"]),
        )


@dataclass(frozen=True, slots=True)
class Change:
    """One entity that differs between two versions: `change` is added, removed or modified;
    `before` / `after` hold its content keyed by GraphQL field names (None when absent)."""

    kind: str
    entity_id: str
    change: str
    before: dict[str, Json] | None
    after: dict[str, Json] | None

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Self:
        """from_json: a `Change` object of the API."""
        before, after = data["before"], data["after"]
        return cls(
            text(data["kind"]),
            text(data["entityId"]),
            text(data["change"]),
            None if before is None else obj(before),
            None if after is None else obj(after),
        )


@dataclass(frozen=True, slots=True)
class FieldConflict:
    """One field (or JSON key, `attributes.color`) both sides of a merge changed to different
    values: its value at the base, on the target (ours) and on the source (theirs); None is
    absent or null."""

    field: str
    base: Json
    ours: Json
    theirs: Json

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Self:
        """from_json: a `FieldConflict` object of the API."""
        return cls(text(data["field"]), data["base"], data["ours"], data["theirs"])


@dataclass(frozen=True, slots=True)
class MergeConflictInfo:
    """An entity both sides of a merge changed differently (`fields`: the fields, when both
    still have it), or a result an invariant refused; `message` says what each side did."""

    kind: str
    entity_id: str
    source_change: str | None
    target_change: str | None
    message: str
    fields: tuple[FieldConflict, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Self:
        """from_json: a `MergeConflict` object of the API."""
        return cls(
            text(data["kind"]),
            text(data["entityId"]),
            opt_text(data["sourceChange"]),
            opt_text(data["targetChange"]),
            text(data["message"]),
            tuple(FieldConflict.from_json(obj(f)) for f in items(data["fields"])),
        )


@dataclass(frozen=True, slots=True)
class MergeResult:
    """What a merge did: `merged` false means nothing was written (see `conflicts`);
    `up_to_date` that the target already contained the source commit (no commit made);
    `base_commit` is the merge base, also when there were conflicts."""

    merged: bool
    up_to_date: bool
    commit: Commit | None
    fast_forward: bool
    changes: int
    base: str | None
    base_commit: Commit | None
    conflicts: tuple[MergeConflictInfo, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Self:
        """from_json: a `MergeOutcome` object of the API."""
        commit, base = data["commit"], data["baseCommit"]
        return cls(
            boolean(data["merged"]),
            boolean(data["upToDate"]),
            None if commit is None else Commit.from_json(obj(commit)),
            boolean(data["fastForward"]),
            integer(data["changes"]),
            opt_text(data["base"]),
            None if base is None else Commit.from_json(obj(base)),
            tuple(MergeConflictInfo.from_json(obj(c)) for c in items(data["conflicts"])),
        )


@dataclass(frozen=True, slots=True)
class JobError:
    """One input record a job refused (`record`: the file, line or record) and why."""

    record: str
    message: str


@dataclass(frozen=True, slots=True)
class Job:
    """A batch job (import or export) as it is now; `download` is a signed link to a finished
    export's file (valid for an hour)."""

    id: str
    dataset: str
    kind: str
    status: str
    total: int | None
    done: int
    failed: int
    errors: tuple[JobError, ...]
    result: Json
    message: str
    download: str | None
    finished_at: datetime | None

    @property
    def ended(self) -> bool:
        """ended: whether the job has SUCCEEDED or FAILED (it changes no more)."""
        return self.status in (SUCCEEDED, FAILED)

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> Self:
        """from_json: a `BatchJob` object of the API."""
        return cls(
            text(data["id"]),
            text(data["dataset"]),
            text(data["kind"]),
            text(data["status"]),
            opt_int(data["total"]),
            integer(data["done"]),
            integer(data["failed"]),
            tuple(
                JobError(text(obj(e)["record"]), text(obj(e)["message"]))
                for e in items(data["errors"])
            ),
            data["result"],
            text(data["message"]),
            opt_text(data["download"]),
            opt_timestamp(data["finishedAt"]),
        )
