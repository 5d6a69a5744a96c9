"""GraphQL object types of the catalog: datasets and their branches."""

from __future__ import annotations

from datetime import datetime

import strawberry

from trainingdb.versioning.datasets import DatasetRow
from trainingdb.versioning.refs import BranchRow

from .context import Context


@strawberry.type(description="A line of versions of a dataset.")
class Branch:
    name: str
    head_seq: int = strawberry.field(description="Sequence number of the branch's last commit.")
    protected: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: BranchRow) -> Branch:
        return cls(
            name=row.name, head_seq=row.head_seq, protected=row.protected, created_at=row.created_at
        )


@strawberry.type(description="A collection of media and their annotations, under version control.")
class Dataset:
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

    @strawberry.field(description="Live branches of the dataset, by name.")
    async def branches(self, info: strawberry.Info[Context, None]) -> list[Branch]:
        rows = await info.context.loaders.branches.load(self.pk)
        return [Branch.from_row(row) for row in rows]
