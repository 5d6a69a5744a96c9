"""GraphQL object types of the catalog: datasets and their branches, and a dataset's reads.

Every read under a dataset takes `version:` — a branch (its head, uncommitted work included), a
tag, a commit id or `branch@seq` — and defaults to the dataset's default branch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import Connection as SQLConnection

from trainingdb.versioning.access.policy import DatasetAccess, role_on
from trainingdb.versioning.datasets import DatasetRow
from trainingdb.versioning.models.vocabulary import JobStatus
from trainingdb.versioning.refs import BranchRow

from . import versions
from .aggregates import InstanceStats
from .context import Context
from .entities import (
    Connection,
    File,
    FileOrder,
    Frame,
    Instance,
    InstanceOrder,
    Label,
    LabelOrder,
)
from .filters.fields import FILES, INSTANCES, LABELS
from .filters.inputs import FileWhere, FrameWhere, InstanceWhere, LabelWhere, entity_id
from .global_ids import Node
from .jobs import BatchJob, dataset_jobs
from .listing import entity_connection, frame_connection, raw_args

Info = strawberry.Info[Context, None]
VERSION = "A branch, tag, commit id or branch@seq; default: the default branch's head."
QUERY = "A filter in the text language (docs/QUERIES.md), ANDed with `where`."


@strawberry.federation.type(keys=["id"], description="A line of versions of a dataset.")
class Branch(Node):
    id: strawberry.ID = strawberry.field(description="Unique among every dataset's branches.")
    name: str
    head_seq: int = strawberry.field(description="Sequence number of the branch's last commit.")
    protected: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: BranchRow) -> Branch:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            head_seq=row.head_seq,
            protected=row.protected,
            created_at=row.created_at,
        )


@strawberry.input(description="Frame numbers from `from` to `to`, both included.")
class FrameRange:
    from_: int | None = strawberry.field(name="from", default=None)
    to: int | None = None


@strawberry.federation.type(
    keys=["id"],
    description="A collection of media and their annotations, under version control.",
)
class Dataset(Node):
    pk: strawberry.Private[int]
    id: strawberry.ID
    name: str
    description: str
    default_branch: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: DatasetRow) -> Dataset:
        return cls(
            pk=row.id,
            id=strawberry.ID(str(row.id)),
            name=row.name,
            description=row.description,
            default_branch=row.default_branch,
            created_at=row.created_at,
        )

    @strawberry.field(description="Live branches of the dataset the caller may read, by name.")
    async def branches(self, info: Info) -> list[Branch]:
        rows = await info.context.loaders.branches.load(self.pk)
        grants = await info.context.loaders.grants.load(self.pk)
        who = info.context.gate.principal
        return [
            Branch.from_row(row)
            for row in rows
            if role_on(who, grants, row.name, row.owner_team_id) is not None
        ]

    @strawberry.field(description="Tags of the dataset the caller may read, by name.")
    async def tags(self, info: Info) -> list[versions.Tag]:
        return await info.context.read_in(self.pk, versions.list_tags)

    @strawberry.field(
        description="The commits the version's commit descends from, itself and the root "
        "commit included, newest first (the log; a branch names its current commit)."
    )
    async def commits(
        self, info: Info, version: str | None = None, first: int = 100
    ) -> list[versions.Commit]:
        ref = version or self.default_branch
        gate = info.context.gate

        def read(c: SQLConnection, _: DatasetAccess) -> list[versions.Commit]:
            named = gate.version(c, self.pk, ref).ref
            return versions.log(c, self.pk, named, first)

        return await info.context.read_in(self.pk, read)

    @strawberry.field(
        description="The commit a merge of `a` into `b` (or of `b` into `a`) starts from: their "
        "commits' best common ancestor in the commit graph (a branch names its current commit)."
    )
    async def merge_base(self, info: Info, a: str, b: str) -> versions.Commit:
        gate = info.context.gate

        def read(c: SQLConnection, _: DatasetAccess) -> versions.Commit:
            return versions.merge_base(
                c, self.pk, gate.version(c, self.pk, a).ref, gate.version(c, self.pk, b).ref
            )

        return await info.context.read_in(self.pk, read)

    @strawberry.field(
        description="Every stored revision of one entity, on every branch the caller may read."
    )
    async def history(self, info: Info, entity_id: strawberry.ID) -> list[versions.Revision]:
        eid = entity_id_arg(entity_id)
        return await info.context.read_in(
            self.pk, lambda c, access: versions.entity_history(c, access, eid)
        )

    @strawberry.field(description="Changes from version `from` to version `to`, paged.")
    async def diff(
        self,
        info: Info,
        from_: Annotated[str, strawberry.argument(name="from")],
        to: str,
        first: int = 1000,
        after: str | None = None,
    ) -> versions.Diff:
        gate = info.context.gate

        def read(c: SQLConnection, _: DatasetAccess) -> versions.Diff:
            a, b = gate.version(c, self.pk, from_).ref, gate.version(c, self.pk, to).ref
            return versions.versions_diff(c, self.pk, a, b, first, after)

        return await info.context.read_in(self.pk, read)

    @strawberry.field(description="Labels at a version.")
    async def labels(
        self,
        info: Info,
        version: Annotated[str | None, strawberry.argument(description=VERSION)] = None,
        where: LabelWhere | None = None,
        query: Annotated[str | None, strawberry.argument(description=QUERY)] = None,
        order_by: list[LabelOrder] | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[Label]:
        return await entity_connection(info, self.pk, self.default_branch, LABELS, "Label")

    @strawberry.field(description="Files at a version.")
    async def files(
        self,
        info: Info,
        version: Annotated[str | None, strawberry.argument(description=VERSION)] = None,
        where: FileWhere | None = None,
        query: Annotated[str | None, strawberry.argument(description=QUERY)] = None,
        order_by: list[FileOrder] | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[File]:
        return await entity_connection(info, self.pk, self.default_branch, FILES, "File")

    @strawberry.field(description="Instances at a version.")
    async def instances(
        self,
        info: Info,
        version: Annotated[str | None, strawberry.argument(description=VERSION)] = None,
        where: InstanceWhere | None = None,
        query: Annotated[str | None, strawberry.argument(description=QUERY)] = None,
        order_by: list[InstanceOrder] | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[Instance]:
        return await entity_connection(info, self.pk, self.default_branch, INSTANCES, "Instance")

    @strawberry.field(
        description="Video frames at a version: frame-level instances grouped by (file, frame "
        "number), in that order. A frame is listed when it holds at least one instance."
    )
    async def frames(
        self,
        info: Info,
        version: Annotated[str | None, strawberry.argument(description=VERSION)] = None,
        file: Annotated[strawberry.ID | None, strawberry.argument(description="One video.")] = None,
        range: FrameRange | None = None,
        where: FrameWhere | None = None,
        query: Annotated[str | None, strawberry.argument(description=QUERY)] = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[Frame]:
        return await frame_connection(info, self.pk, self.default_branch)

    @strawberry.field(
        description="Aggregates over the instances matching `where` / `query` at a version: "
        "counts by label, kind, source and frame, score and area histograms (each one statement)."
    )
    async def instance_stats(
        self,
        info: Info,
        version: Annotated[str | None, strawberry.argument(description=VERSION)] = None,
        where: InstanceWhere | None = None,
        query: Annotated[str | None, strawberry.argument(description=QUERY)] = None,
    ) -> InstanceStats:
        args = raw_args(info._raw_info)
        ref = args.get("version") or self.default_branch
        return await InstanceStats.at(info, self.pk, ref, args)

    @strawberry.field(description="The dataset's batch jobs (imports, exports), newest first.")
    async def jobs(
        self, info: Info, status: list[JobStatus] | None = None, first: int = 50
    ) -> list[BatchJob]:
        gate = info.context.gate
        return await info.context.read_in(
            self.pk, lambda c, access: dataset_jobs(c, gate, access, status, first)
        )


def entity_id_arg(value: Any) -> Any:
    return entity_id(value, "entityId")
