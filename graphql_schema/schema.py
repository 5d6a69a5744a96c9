"""The GraphQL schema: root fields over the versioning core."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from trainingdb.versioning import datasets
from trainingdb.versioning.errors import InvalidInputError

from .context import Context, run_read
from .edits import EntityMutations
from .errors import Schema
from .guards import extensions
from .jobs import BatchJob, get_job
from .passthrough import ExecutionContext
from .types import Branch, Dataset
from .version_edits import VersionMutations


@strawberry.type
class Query:
    @strawberry.field(description="Every dataset, by name.")
    async def datasets(self, info: strawberry.Info[Context, None]) -> list[Dataset]:
        rows = await run_read(info.context.engine, datasets.list_datasets)
        return [Dataset.from_row(row) for row in rows]

    @strawberry.field(description="One dataset by name or by id; NOT_FOUND when there is none.")
    async def dataset(
        self,
        info: strawberry.Info[Context, None],
        name: str | None = None,
        id: strawberry.ID | None = None,
    ) -> Dataset:
        if (name is None) == (id is None):
            raise InvalidInputError("dataset: give name or id, one of them")
        if id is not None:
            if not str(id).isdigit():
                raise InvalidInputError(f"dataset.id: {id!r} is not a dataset id")
            pk = int(id)
            row = await run_read(
                info.context.engine, lambda conn: datasets.get_dataset_by_id(conn, pk)
            )
        else:
            assert name is not None
            row = await run_read(info.context.engine, lambda conn: datasets.get_dataset(conn, name))
        return Dataset.from_row(row)

    @strawberry.field(description="One batch job by id; NOT_FOUND when there is none.")
    async def job(self, info: strawberry.Info[Context, None], id: strawberry.ID) -> BatchJob:
        return await run_read(info.context.engine, lambda conn: get_job(conn, str(id)))


Mutation = merge_types("Mutation", (VersionMutations, EntityMutations))

schema = Schema(
    query=Query,
    mutation=Mutation,
    types=[Branch],
    extensions=extensions(),
    execution_context_class=ExecutionContext,
)
