"""Mutations of entities on a branch's working state: create, update and delete labels, files
and instances, one or many at a time.

Each mutation is one transaction: the engine checks the whole batch before writing it with a
few set-based statements, so a bad row anywhere leaves nothing written. Created and updated
entities come back shaped by PostgreSQL from the mutation's selection set (one statement,
however many rows), as the reads are.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import strawberry
from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from trainingdb import versioning as v
from trainingdb.versioning.access.policy import Action
from trainingdb.versioning.checks import SHA256
from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.versions import Version
from trainingdb.versioning.visibility import visible

from .context import Context
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
T = TypeVar("T")
MAX_BATCH = 50_000
_TYPE_NAME = {EntityType.LABEL: "Label", EntityType.FILE: "File", EntityType.INSTANCE: "Instance"}


def _check_batch(values: Sequence[object], where: str) -> None:
    if len(values) > MAX_BATCH:
        raise InvalidInputError(
            f"{where}: at most {MAX_BATCH} entities per mutation, not {len(values)}; "
            "split the batch or use bulk ingestion"
        )


async def _guarded(
    info: Info,
    dataset: str,
    branch: str,
    kind: EntityType,
    verb: str,
    count: int,
    write: Callable[[Connection, int], T],
) -> T:
    """`write(conn, dataset id)` if the principal may edit `kind` on the branch (instances:
    annotator; labels and files: editor), in one transaction with its audit event."""
    action = Action.EDIT_INSTANCES if kind is EntityType.INSTANCE else Action.EDIT_LABELS_AND_FILES
    return await info.context.guarded_write(
        dataset,
        action,
        branch,
        lambda conn, access: write(conn, access.dataset.id),
        {"operation": f"{verb} {kind}", "count": count},
    )


def shaped(
    conn: Connection,
    version: Version,
    kind: EntityType,
    ids: Sequence[uuid.UUID],
    picked: tuple[Picked, ...],
    one: bool,
    links: BlobLinks | None = None,
) -> Shaped:
    """The entities `ids` at the branch's head (`version`), in that order, shaped for
    `picked`."""
    shaper = Shaper(version, links)
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
    version: Version,
    kind: EntityType,
    values: Sequence[object],
) -> list[dict[str, Any]]:
    """Engine content for each input or patch; instance labels named by `label` resolved."""
    rows = [content(kind, value, f"{kind} #{i}") for i, value in enumerate(values)]
    if kind is EntityType.INSTANCE:
        for row, label in zip(rows, label_names(conn, version, values, kind), strict=True):
            if label is not None:
                row["label_entity_id"] = label
    return rows


def _check_blobs(
    info: Info,
    conn: Connection,
    ds: int,
    kind: EntityType,
    places: Sequence[str],
    rows: Sequence[dict[str, Any]],
) -> None:
    """A file names a blob the caller may read (access.policy rule 8)."""
    if kind is EntityType.FILE:
        # A malformed sha is left to the write's checks, which say what is wrong with it.
        wanted = [(p, r.get("blob_sha256")) for p, r in zip(places, rows, strict=True)]
        shas = [(p, sha) for p, sha in wanted if isinstance(sha, str) and SHA256.fullmatch(sha)]
        info.context.gate.require_blobs(conn, ds, shas)


async def create_entities(
    info: Info, dataset: str, branch: str, kind: EntityType, values: Sequence[object], one: bool
) -> Shaped:
    """create: new entities on the branch; returned shaped, in input order."""
    _check_batch(values, f"create {kind}")
    picked = selected(info._raw_info)

    def write(conn: Connection, ds: int) -> Shaped:
        version = info.context.gate.version(conn, ds, branch)
        rows = _rows(conn, version, kind, values)
        _check_blobs(info, conn, ds, kind, [f"{kind} #{i}" for i in range(len(rows))], rows)
        ids = v.create(conn, ds, branch, kind, rows)
        return shaped(conn, version, kind, ids, picked, one, info.context.links)

    return await _guarded(info, dataset, branch, kind, "create", len(values), write)


async def update_entities(
    info: Info, dataset: str, branch: str, kind: EntityType, patches: Sequence[Any], one: bool
) -> Shaped:
    """update: the given fields of existing entities; returned shaped, in input order."""
    _check_batch(patches, f"update {kind}")
    picked = selected(info._raw_info)
    ids = [entity_uuid(p.id, f"{kind} #{i}: id") for i, p in enumerate(patches)]
    if len(set(ids)) < len(ids):
        raise InvalidInputError(f"update {kind}: an id appears twice in the batch")

    def write(conn: Connection, ds: int) -> Shaped:
        version = info.context.gate.version(conn, ds, branch)
        rows = _rows(conn, version, kind, patches)
        _check_blobs(info, conn, ds, kind, [f"{kind} {eid}" for eid in ids], rows)
        v.update(conn, ds, branch, kind, dict(zip(ids, rows, strict=True)))
        return shaped(conn, version, kind, ids, picked, one, info.context.links)

    return await _guarded(info, dataset, branch, kind, "update", len(ids), write)


async def delete_entities(
    info: Info, dataset: str, branch: str, kind: EntityType, ids: Sequence[strawberry.ID]
) -> list[strawberry.ID]:
    """delete: entities off the branch (a file with its instances and frames); their ids."""
    _check_batch(ids, f"delete {kind}")
    uuids = [entity_uuid(eid, f"{kind} #{i}") for i, eid in enumerate(ids)]

    def write(conn: Connection, ds: int) -> None:
        v.delete(conn, ds, branch, kind, uuids)

    await _guarded(info, dataset, branch, kind, "delete", len(uuids), write)
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
