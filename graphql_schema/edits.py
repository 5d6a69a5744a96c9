"""Mutations of entities on a branch's working state: create, update and delete labels, files
and instances, one or many at a time.

Each mutation is one transaction: the engine checks the whole batch before writing it with a
few set-based statements, so a bad row anywhere leaves nothing written. Created and updated
entities come back shaped by PostgreSQL from the mutation's selection set (one statement,
however many rows), as the reads are.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import strawberry
from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from trainingdb import versioning as v
from trainingdb.versioning.datasets import get_dataset
from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.versions import resolve
from trainingdb.versioning.visibility import visible

from .context import Context, run_write
from .edit_inputs import (
    FileInput,
    FilePatch,
    InstanceInput,
    InstancePatch,
    LabelInput,
    LabelPatch,
    content,
    entity_uuid,
    label_names,
)
from .entities import File, Instance, Label
from .json_text import array_of, joined
from .links import BlobLinks
from .passthrough import Shaped
from .selection import Picked, selected
from .shapes import Shaper

Info = strawberry.Info[Context, None]
MAX_BATCH = 50_000
_TYPE_NAME = {EntityType.LABEL: "Label", EntityType.FILE: "File", EntityType.INSTANCE: "Instance"}


def _check_batch(values: Sequence[object], where: str) -> None:
    if len(values) > MAX_BATCH:
        raise InvalidInputError(
            f"{where}: at most {MAX_BATCH} entities per mutation, not {len(values)}; "
            "split the batch or use bulk ingestion"
        )


def shaped(
    conn: Connection,
    dataset_id: int,
    branch: str,
    kind: EntityType,
    ids: Sequence[uuid.UUID],
    picked: tuple[Picked, ...],
    one: bool,
    links: BlobLinks | None = None,
) -> Shaped:
    """The entities `ids` at the branch's head, in that order, shaped for `picked`."""
    shaper = Shaper(resolve(conn, dataset_id, branch), links)
    row = shaper.alias(kind)
    wanted = bindparam("ids", list(ids), type_=ARRAY(UUID(as_uuid=True)))
    node = shaper.node(_TYPE_NAME[kind], picked, row)
    order = func.array_position(wanted, row.c.entity_id)
    value = func.max(node) if one else array_of(joined(node, [order]))
    statement = select(value).where(
        visible(row, shaper.version), row.c.entity_id == func.any(wanted)
    )
    json: str = conn.execute(statement).scalar_one()
    return Shaped(json.encode())


def _rows(
    conn: Connection,
    dataset_id: int,
    branch: str,
    kind: EntityType,
    values: Sequence[object],
) -> list[dict[str, Any]]:
    """Engine content for each input or patch; instance labels named by `label` resolved."""
    rows = [content(kind, value, f"{kind} #{i}") for i, value in enumerate(values)]
    if kind is EntityType.INSTANCE:
        version = resolve(conn, dataset_id, branch)
        for row, label in zip(rows, label_names(conn, version, values, kind), strict=True):
            if label is not None:
                row["label_entity_id"] = label
    return rows


async def create_entities(
    info: Info, dataset: str, branch: str, kind: EntityType, values: Sequence[object], one: bool
) -> Shaped:
    """create: new entities on the branch; returned shaped, in input order."""
    _check_batch(values, f"create {kind}")
    picked = selected(info._raw_info)

    def write(conn: Connection) -> Shaped:
        ds = get_dataset(conn, dataset).id
        ids = v.create(conn, ds, branch, kind, _rows(conn, ds, branch, kind, values))
        return shaped(conn, ds, branch, kind, ids, picked, one, info.context.links)

    return await run_write(info.context.engine, write)


async def update_entities(
    info: Info, dataset: str, branch: str, kind: EntityType, patches: Sequence[Any], one: bool
) -> Shaped:
    """update: the given fields of existing entities; returned shaped, in input order."""
    _check_batch(patches, f"update {kind}")
    picked = selected(info._raw_info)
    ids = [entity_uuid(p.id, f"{kind} #{i}: id") for i, p in enumerate(patches)]
    if len(set(ids)) < len(ids):
        raise InvalidInputError(f"update {kind}: an id appears twice in the batch")

    def write(conn: Connection) -> Shaped:
        ds = get_dataset(conn, dataset).id
        rows = _rows(conn, ds, branch, kind, patches)
        v.update(conn, ds, branch, kind, dict(zip(ids, rows, strict=True)))
        return shaped(conn, ds, branch, kind, ids, picked, one, info.context.links)

    return await run_write(info.context.engine, write)


async def delete_entities(
    info: Info, dataset: str, branch: str, kind: EntityType, ids: Sequence[strawberry.ID]
) -> list[strawberry.ID]:
    """delete: entities off the branch (a file with its instances and frames); their ids."""
    _check_batch(ids, f"delete {kind}")
    uuids = [entity_uuid(eid, f"{kind} #{i}") for i, eid in enumerate(ids)]

    def write(conn: Connection) -> None:
        v.delete(conn, get_dataset(conn, dataset).id, branch, kind, uuids)

    await run_write(info.context.engine, write)
    return [strawberry.ID(str(eid)) for eid in uuids]


DATASET = "The dataset's name."
BRANCH = "The branch whose working state changes (uncommitted until `commit`)."


@strawberry.type
class EntityMutations:
    @strawberry.mutation(description="Create one label.")
    async def create_label(self, info: Info, dataset: str, branch: str, label: LabelInput) -> Label:
        return await create_entities(info, dataset, branch, EntityType.LABEL, [label], True)  # type: ignore[return-value]

    @strawberry.mutation(description="Create labels, all or none.")
    async def create_labels(
        self, info: Info, dataset: str, branch: str, labels: list[LabelInput]
    ) -> list[Label]:
        return await create_entities(info, dataset, branch, EntityType.LABEL, labels, False)  # type: ignore[return-value]

    @strawberry.mutation(description="Change one label.")
    async def update_label(self, info: Info, dataset: str, branch: str, label: LabelPatch) -> Label:
        return await update_entities(info, dataset, branch, EntityType.LABEL, [label], True)  # type: ignore[return-value]

    @strawberry.mutation(description="Change labels, all or none.")
    async def update_labels(
        self, info: Info, dataset: str, branch: str, labels: list[LabelPatch]
    ) -> list[Label]:
        return await update_entities(info, dataset, branch, EntityType.LABEL, labels, False)  # type: ignore[return-value]

    @strawberry.mutation(description="Delete labels no instance uses; their ids.")
    async def delete_labels(
        self, info: Info, dataset: str, branch: str, ids: list[strawberry.ID]
    ) -> list[strawberry.ID]:
        return await delete_entities(info, dataset, branch, EntityType.LABEL, ids)

    @strawberry.mutation(description="Create one file over a blob the dataset holds.")
    async def create_file(self, info: Info, dataset: str, branch: str, file: FileInput) -> File:
        return await create_entities(info, dataset, branch, EntityType.FILE, [file], True)  # type: ignore[return-value]

    @strawberry.mutation(description="Create files, all or none.")
    async def create_files(
        self, info: Info, dataset: str, branch: str, files: list[FileInput]
    ) -> list[File]:
        return await create_entities(info, dataset, branch, EntityType.FILE, files, False)  # type: ignore[return-value]

    @strawberry.mutation(description="Change one file.")
    async def update_file(self, info: Info, dataset: str, branch: str, file: FilePatch) -> File:
        return await update_entities(info, dataset, branch, EntityType.FILE, [file], True)  # type: ignore[return-value]

    @strawberry.mutation(description="Change files, all or none.")
    async def update_files(
        self, info: Info, dataset: str, branch: str, files: list[FilePatch]
    ) -> list[File]:
        return await update_entities(info, dataset, branch, EntityType.FILE, files, False)  # type: ignore[return-value]

    @strawberry.mutation(description="Delete files with their instances and frames; their ids.")
    async def delete_files(
        self, info: Info, dataset: str, branch: str, ids: list[strawberry.ID]
    ) -> list[strawberry.ID]:
        return await delete_entities(info, dataset, branch, EntityType.FILE, ids)

    @strawberry.mutation(description="Create one instance.")
    async def create_instance(
        self, info: Info, dataset: str, branch: str, instance: InstanceInput
    ) -> Instance:
        return await create_entities(info, dataset, branch, EntityType.INSTANCE, [instance], True)  # type: ignore[return-value]

    @strawberry.mutation(description="Create instances in bulk, all or none.")
    async def create_instances(
        self, info: Info, dataset: str, branch: str, instances: list[InstanceInput]
    ) -> list[Instance]:
        return await create_entities(  # type: ignore[return-value]
            info, dataset, branch, EntityType.INSTANCE, instances, False
        )

    @strawberry.mutation(description="Change one instance.")
    async def update_instance(
        self, info: Info, dataset: str, branch: str, instance: InstancePatch
    ) -> Instance:
        return await update_entities(info, dataset, branch, EntityType.INSTANCE, [instance], True)  # type: ignore[return-value]

    @strawberry.mutation(description="Change instances in bulk, all or none.")
    async def update_instances(
        self, info: Info, dataset: str, branch: str, instances: list[InstancePatch]
    ) -> list[Instance]:
        return await update_entities(  # type: ignore[return-value]
            info, dataset, branch, EntityType.INSTANCE, instances, False
        )

    @strawberry.mutation(description="Delete instances; their ids.")
    async def delete_instances(
        self, info: Info, dataset: str, branch: str, ids: list[strawberry.ID]
    ) -> list[strawberry.ID]:
        return await delete_entities(info, dataset, branch, EntityType.INSTANCE, ids)
