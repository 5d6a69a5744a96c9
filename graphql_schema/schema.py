"""The GraphQL schema: root fields over the versioning core."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from trainingdb.versioning import datasets
from trainingdb.versioning.access.policy import readable_datasets
from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.inputs import row_id

from .access_admin import AccessMutations, AccessQueries
from .context import Context, run_read
from .edits import EntityMutations
from .federation import Subgraph
from .guards import extensions
from .jobs import BatchJob, get_job
from .passthrough import ExecutionContext
from .relay import RelayQuery
from .subscriptions import Subscription
from .types import Branch, Dataset
from .version_edits import VersionMutations


@strawberry.type
class CatalogQuery:
    @strawberry.field(description="Every dataset the caller may read, by name.")
    async def datasets(self, info: strawberry.Info[Context, None]) -> list[Dataset]:
        readable = readable_datasets(info.context.gate.principal)
        rows = await run_read(info.context.engine, lambda c: datasets.list_datasets(c, readable))
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
        gate = info.context.gate
        if id is not None:
            pk = row_id(id)
            if pk is None:
                raise InvalidInputError(f"dataset.id: {id!r} is not a dataset id")
            access = await run_read(info.context.engine, lambda c: gate.dataset_by_id(c, pk))
        else:
            assert name is not None
            access = await run_read(info.context.engine, lambda c: gate.dataset(c, name))
        return Dataset.from_row(access.dataset)

    @strawberry.field(description="One batch job by id; NOT_FOUND when there is none.")
    async def job(self, info: strawberry.Info[Context, None], id: strawberry.ID) -> BatchJob:
        gate = info.context.gate
        return await run_read(info.context.engine, lambda conn: get_job(conn, gate, str(id)))


Query = merge_types("Query", (CatalogQuery, RelayQuery, AccessQueries))
Mutation = merge_types("Mutation", (VersionMutations, EntityMutations, AccessMutations))

schema = Subgraph(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[Branch],
    extensions=extensions(),
    execution_context_class=ExecutionContext,
)
