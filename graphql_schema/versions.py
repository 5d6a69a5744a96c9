"""GraphQL types of versions: tags, commits (log), entity history, and diffs between versions.

These are small lists built from the engine's rows; entity content inside them is JSON keyed by
the same field names as the entity types (`fileId`, `frameNumber`, ...).
"""

from __future__ import annotations

import base64
import itertools
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Connection
from strawberry.scalars import JSON

from trainingdb.versioning import commits, graph, tags
from trainingdb.versioning.access.policy import DatasetAccess
from trainingdb.versioning.diff import Change as EngineChange
from trainingdb.versioning.diff import DiffSummary, diff, diff_summary
from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.history import history
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.refs import BranchRow, load_branches

from .context import run_read
from .global_ids import Node
from .shapes import SCALAR_COLUMNS

MAX_LOG = 1000
MAX_CHANGES = 10_000


def content_json(kind: EntityType, content: Mapping[str, Any]) -> Any:
    """Entity content keyed by the entity type's GraphQL field names; ids as strings."""
    names = {column: name for name, column in SCALAR_COLUMNS[kind].items()}
    return {
        names.get(key, key): str(value) if isinstance(value, uuid.UUID) else value
        for key, value in content.items()
    }


@strawberry.federation.type(
    keys=["id"], description="A named, immutable version: a commit of a branch."
)
class Tag(Node):
    id: strawberry.ID = strawberry.field(description="Unique among every dataset's tags.")
    name: str
    branch: str
    seq: int
    version: str = strawberry.field(description="`branch@seq`: the tagged state.")
    message: str
    created_by: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: tags.TagRow, branches: Mapping[int, BranchRow]) -> Tag:
        branch = branches[row.branch_id].name
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            branch=branch,
            seq=row.seq,
            version=f"{branch}@{row.seq}",
            message=row.message,
            created_by=row.created_by,
            created_at=row.created_at,
        )


@strawberry.federation.type(
    keys=["id"],
    description="A committed state of a branch; immutable, so what a model run should name as "
    "the data it was trained on.",
)
class Commit(Node):
    id: strawberry.ID
    branch: str = strawberry.field(description="The branch it was made on.")
    seq: int
    version: str = strawberry.field(
        description="`branch@seq`: the committed state (`branch@0`: the dataset's root commit)."
    )
    message: str
    author: str
    parents: list[strawberry.ID] = strawberry.field(
        description="Parent commit ids: the branch's previous commit (or the commit it was made "
        "from), then, for a merge, the source commit. Empty for the root commit."
    )
    generation: int = strawberry.field(
        description="The longest path to the root commit (0); a parent's is always smaller."
    )
    merged_from: str | None = strawberry.field(
        description="For a merge commit, the source commit merged, as `branch@seq`."
    )
    created_at: datetime

    @classmethod
    def from_row(cls, row: commits.CommitRow, branches: Mapping[int, BranchRow]) -> Commit:
        branch = branches[row.branch_id].name
        merged = None
        if row.merged_from is not None:
            merged = f"{branches[row.merged_from[0]].name}@{row.merged_from[1]}"
        return cls(
            id=strawberry.ID(row.id.hex),
            branch=branch,
            seq=row.seq,
            version=f"{branch}@{row.seq}",
            message=row.message,
            author=row.author,
            parents=[strawberry.ID(p.hex) for p in row.parents],
            generation=row.generation,
            merged_from=merged,
            created_at=row.created_at,
        )


@strawberry.type(description="A branch that hid a revision from its own view, and from when.")
class Kill:
    branch: str
    seq: int


@strawberry.type(description="One stored revision of an entity on one branch.")
class Revision:
    kind: str
    branch: str
    seq_from: int = strawberry.field(description="First seq of the branch that sees it.")
    seq_to: int | None = strawberry.field(description="First seq that no longer sees it.")
    content: JSON
    created_at: datetime
    killed_by: list[Kill]


@strawberry.type(description="How one entity differs between two versions.")
class Change:
    kind: str
    entity_id: strawberry.ID
    change: str = strawberry.field(description="added, removed or modified.")
    before: JSON | None
    after: JSON | None


@strawberry.type(description="A number of changes of one kind (or one label).")
class ChangeCount:
    key: str = strawberry.field(description="The entity kind, or the label name.")
    change: str
    count: int


@strawberry.type(description="Changes from one version to another.")
class Diff:
    dataset_id: strawberry.Private[int]
    refs: strawberry.Private[tuple[str, str]]
    changes: list[Change] = strawberry.field(description="A page, by kind then entity id.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")
    has_next_page: bool

    @strawberry.field(description="How many entities changed, per kind and change (whole diff).")
    async def by_kind(self, info: strawberry.Info) -> list[ChangeCount]:
        summary = await self._summary(info)
        return [
            ChangeCount(key=k.value, change=c, count=n) for (k, c), n in summary.by_kind.items()
        ]

    @strawberry.field(description="Instance changes per label name (whole diff).")
    async def by_label(self, info: strawberry.Info) -> list[ChangeCount]:
        summary = await self._summary(info)
        return [ChangeCount(key=k, change=c, count=n) for (k, c), n in summary.by_label.items()]

    async def _summary(self, info: strawberry.Info) -> DiffSummary:
        a, b = self.refs
        return await run_read(info.context.engine, lambda c: diff_summary(c, self.dataset_id, a, b))


def list_tags(conn: Connection, access: DatasetAccess) -> list[Tag]:
    """The tags of the dataset the principal may read (access.policy rules 3-4)."""
    rows = tags.list_tags(conn, access.dataset.id)
    return [
        Tag.from_row(row, access.branches)
        for row in rows
        if access.tag_readable(conn, row.name, row.branch_id, row.seq)
    ]


def log(conn: Connection, dataset_id: int, ref: str, first: int) -> list[Commit]:
    if not 0 < first <= MAX_LOG:
        raise InvalidInputError(f"commits.first: between 1 and {MAX_LOG}, not {first}")
    branches = load_branches(conn, dataset_id)
    return [Commit.from_row(r, branches) for r in graph.log(conn, dataset_id, ref, first)]


def merge_base(conn: Connection, dataset_id: int, a: str, b: str) -> Commit:
    """The commit a merge of `a` and `b` starts from (versioning.graph)."""
    return Commit.from_row(
        graph.merge_base(conn, dataset_id, a, b), load_branches(conn, dataset_id)
    )


def entity_history(conn: Connection, access: DatasetAccess, entity_id: uuid.UUID) -> list[Revision]:
    """The revisions of one entity that a version the principal may read contains, each with
    the kills such a version holds: a kill on a hidden branch is as absent as the branch."""
    return [
        Revision(
            kind=r.kind.value,
            branch=r.branch,
            seq_from=r.seq_from,
            seq_to=r.seq_to,
            content=content_json(r.kind, r.content),
            created_at=r.created_at,
            killed_by=[
                Kill(branch=k.branch, seq=k.seq)
                for k in r.killed_by
                if access.holds(conn, k.branch_id, k.seq)
            ],
        )
        for r in history(conn, access.dataset.id, entity_id)
        if access.holds(conn, r.branch_id, r.seq_from)
    ]


def _diff_cursor(change: EngineChange) -> str:
    return base64.b64encode(f"{change.kind.value}:{change.entity_id}".encode()).decode()


def _resume(cursor: str) -> tuple[EntityType, uuid.UUID]:
    try:
        kind, eid = base64.b64decode(cursor, validate=True).decode().split(":")
        return EntityType(kind), uuid.UUID(eid)
    except ValueError:
        raise InvalidInputError(f"diff.after: {cursor!r} is not a cursor of a diff") from None


def versions_diff(
    conn: Connection, dataset_id: int, a: str, b: str, first: int, after: str | None
) -> Diff:
    """A page of `diff(a, b)` (by kind, then entity id) from after the cursor; reads the
    changes of this page and one more, not the whole diff."""
    if not 0 <= first <= MAX_CHANGES:
        raise InvalidInputError(f"diff.first: between 0 and {MAX_CHANGES}, not {first}")
    found = list(
        itertools.islice(diff(conn, dataset_id, a, b, _resume(after) if after else None), first + 1)
    )
    page = found[:first]
    return Diff(
        dataset_id=dataset_id,
        refs=(a, b),
        changes=[
            Change(
                kind=change.kind.value,
                entity_id=strawberry.ID(str(change.entity_id)),
                change=change.change,
                before=None if change.before is None else content_json(change.kind, change.before),
                after=None if change.after is None else content_json(change.kind, change.after),
            )
            for change in page
        ],
        end_cursor=_diff_cursor(page[-1]) if page else after,
        has_next_page=len(found) > first,
    )
