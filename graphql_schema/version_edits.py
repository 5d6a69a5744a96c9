"""Mutations of the catalog and of versions: datasets, commits, branches, tags, merge, revert.

Each is one transaction. A merge that stops on conflicts is not an error: it returns the
conflicts as data (`merged: false`) and writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy import Connection
from strawberry.scalars import JSON

from trainingdb import versioning as v
from trainingdb.versioning import commits
from trainingdb.versioning.access.policy import Action
from trainingdb.versioning.datasets import get_dataset_by_id
from trainingdb.versioning.errors import InvalidInputError, MergeConflictError
from trainingdb.versioning.models import EntityType, Role
from trainingdb.versioning.refs import load_branches
from trainingdb.versioning.tables import KINDS

from .context import Context, run_write
from .jobs import BatchJob, submit_export
from .shapes import SCALAR_COLUMNS
from .types import Branch, Dataset
from .versions import Commit, Tag

Info = strawberry.Info[Context, None]
T = TypeVar("T")


async def _in_dataset(
    info: Info,
    dataset: str,
    action: Action,
    ref: str | None,
    work: Callable[[Connection, int], T],
    **detail: object,
) -> T:
    """`work(conn, dataset id)` in one transaction, if the principal may do `action` on `ref`
    (access.policy), with its audit event."""
    return await info.context.guarded_write(
        dataset, action, ref, lambda conn, access: work(conn, access.dataset.id), detail
    )


def _commit(conn: Connection, dataset_id: int, row: v.CommitRow) -> Commit:
    return Commit.from_row(row, load_branches(conn, dataset_id))


def _branch(conn: Connection, dataset_id: int, name: str) -> Branch:
    (row,) = [
        b
        for b in load_branches(conn, dataset_id).values()
        if b.name == name and b.deleted_at is None
    ]
    return Branch.from_row(row)


@strawberry.enum(
    description="What a merge does with a field (or an entity) both sides changed differently."
)
class MergeStrategy(Enum):
    FAIL = "fail"
    OURS = "ours"
    THEIRS = "theirs"


@strawberry.input(description="The strategy for one field, or one key of a JSON field.")
class FieldStrategy:
    field: str = strawberry.field(
        description="A content field by its GraphQL name (`score`, `labelId`, `attributes`), or "
        "a key of a JSON-object field (`attributes.occluded`, `metadata.camera`)."
    )
    strategy: MergeStrategy


@strawberry.type(description="One field both sides of a merge changed to different values.")
class FieldConflict:
    field: str = strawberry.field(
        description="The field's GraphQL name, or `field.key` for a key of a JSON object."
    )
    base: JSON | None = strawberry.field(description="Its value at the base (null: absent).")
    ours: JSON | None = strawberry.field(description="Its value on the target (null: absent).")
    theirs: JSON | None = strawberry.field(description="Its value on the source (null: absent).")


@strawberry.type(
    description="An entity both sides of a merge changed differently, or a result it refused."
)
class MergeConflict:
    kind: str
    entity_id: strawberry.ID
    source_change: str | None = strawberry.field(description="added, removed or modified.")
    target_change: str | None = strawberry.field(description="added, removed or modified.")
    message: str = strawberry.field(
        description="What each side did, or which invariant the result would break."
    )
    fields: list[FieldConflict] = strawberry.field(
        description="The fields both sides changed; empty when one side removed the entity."
    )


@strawberry.type(
    description="What a merge did. With strategy FAIL and conflicts it did nothing (`merged` is "
    "false); with OURS or THEIRS `conflicts` lists what the strategy decided."
)
class MergeOutcome:
    merged: bool
    up_to_date: bool = strawberry.field(
        description="The target already contained the source commit: nothing was written."
    )
    commit: Commit | None = strawberry.field(description="The merge commit on the target.")
    fast_forward: bool
    changes: int = strawberry.field(description="Entities the merge changed on the target.")
    base: str | None = strawberry.field(
        description="The merge base commit, as `branch@seq` of the branch it was made on."
    )
    base_commit: Commit | None = strawberry.field(
        description="The merge base: the best common ancestor of the source commit and the "
        "target's current commit."
    )
    conflicts: list[MergeConflict]


# Content fields by GraphQL name, across kinds (a field strategy names one for every kind).
_CONTENT_NAMES = {
    name: column
    for kind in EntityType
    for name, column in SCALAR_COLUMNS[kind].items()
    if column in KINDS[kind].content
}
_GRAPHQL_NAMES = {
    kind: {column: name for name, column in SCALAR_COLUMNS[kind].items()} for kind in EntityType
}


def _field_strategies(given: list[FieldStrategy] | None) -> dict[str, str]:
    """GraphQL field names turned into content names; BAD_USER_INPUT for any other name."""
    found: dict[str, str] = {}
    for i, item in enumerate(given or []):
        name, dot, key = item.field.partition(".")
        if name not in _CONTENT_NAMES:
            raise InvalidInputError(
                f"fieldStrategies[{i}].field: {item.field!r} is not a content field; fields "
                f"are {', '.join(sorted(_CONTENT_NAMES))}"
            )
        found[_CONTENT_NAMES[name] + dot + key] = item.strategy.value
    return found


def _graphql_path(kind: str, path: str) -> str:
    name, dot, key = path.partition(".")
    return _GRAPHQL_NAMES[EntityType(kind)].get(name, name) + dot + key


def _base(conn: Connection, dataset_id: int, base_id: uuid.UUID | None) -> Commit | None:
    if base_id is None:
        return None
    return Commit.from_row(commits.by_ids(conn, [base_id])[0], load_branches(conn, dataset_id))


def _merge(
    conn: Connection,
    dataset_id: int,
    source: str,
    target: str,
    strategy: MergeStrategy,
    field_strategies: list[FieldStrategy] | None,
    message: str | None,
    author: str,
) -> MergeOutcome:
    per_field = _field_strategies(field_strategies)
    try:
        result = v.merge(
            conn,
            dataset_id,
            source,
            target,
            strategy.value,
            field_strategies=per_field,
            message=message,
            author=author,
        )
    except MergeConflictError as error:
        base = _base(conn, dataset_id, error.base_id)
        return MergeOutcome(
            merged=False,
            up_to_date=False,
            commit=None,
            fast_forward=False,
            changes=0,
            base=None if base is None else base.version,
            base_commit=base,
            conflicts=_conflicts(error.conflicts),
        )
    base = Commit.from_row(result.base, load_branches(conn, dataset_id))
    return MergeOutcome(
        merged=True,
        up_to_date=result.up_to_date,
        commit=None if result.commit is None else _commit(conn, dataset_id, result.commit),
        fast_forward=result.fast_forward,
        changes=result.changes,
        base=base.version,
        base_commit=base,
        conflicts=_conflicts(result.conflicts),
    )


def _conflicts(found: tuple[v.Conflict, ...]) -> list[MergeConflict]:
    return [
        MergeConflict(
            kind=c.kind,
            entity_id=strawberry.ID(str(c.entity_id)),
            source_change=c.source_change,
            target_change=c.target_change,
            message=c.message,
            fields=[
                FieldConflict(
                    field=_graphql_path(c.kind, f.field),
                    base=_json(f.base),
                    ours=_json(f.ours),
                    theirs=_json(f.theirs),
                )
                for f in c.fields
            ],
        )
        for c in found
    ]


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


AUTHOR = "Who did it, recorded with the commit."


@strawberry.type
class VersionMutations:
    @strawberry.mutation(
        description="A new dataset with an empty default branch (admins; `grants set` then "
        "gives teams their roles on it)."
    )
    async def create_dataset(
        self, info: Info, name: str, description: str = "", default_branch: str = "main"
    ) -> Dataset:
        context = info.context

        def work(c: Connection) -> v.DatasetRow:
            context.gate.require_admin("create a dataset")
            row = v.create_dataset(c, name, description=description, default_branch=default_branch)
            context.audit(c, "create the dataset", row.id, row.name, None)
            return row

        return Dataset.from_row(await run_write(context.engine, work))

    @strawberry.mutation(description="Rename or describe a dataset, or change its default branch.")
    async def update_dataset(
        self,
        info: Info,
        name: str,
        new_name: str | None = None,
        description: str | None = None,
        default_branch: str | None = None,
    ) -> Dataset:
        row = await _in_dataset(
            info,
            name,
            Action.UPDATE_DATASET,
            None,
            lambda c, _: v.update_dataset(
                c, name, new_name=new_name, description=description, default_branch=default_branch
            ),
            new_name=new_name,
            description=description,
            default_branch=default_branch,
        )
        return Dataset.from_row(row)

    @strawberry.mutation(
        description="Delete a dataset and all its versions, for good; its id. Blob bytes stay."
    )
    async def delete_dataset(self, info: Info, name: str) -> strawberry.ID:
        row = await _in_dataset(
            info, name, Action.DELETE_DATASET, None, lambda c, _: v.delete_dataset(c, name)
        )
        return strawberry.ID(str(row.id))

    @strawberry.mutation(description="Commit the branch's working state.")
    async def commit(
        self,
        info: Info,
        dataset: str,
        branch: str,
        message: str,
        author: Annotated[str, strawberry.argument(description=AUTHOR)] = "",
    ) -> Commit:
        return await _in_dataset(
            info,
            dataset,
            Action.COMMIT,
            branch,
            lambda c, ds: _commit(c, ds, v.commit(c, ds, branch, message, author)),
            message=message,
        )

    @strawberry.mutation(description="A new branch from a version (default: the default branch).")
    async def create_branch(
        self,
        info: Info,
        dataset: str,
        name: str,
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        author: Annotated[str, strawberry.argument(description=AUTHOR)] = "",
    ) -> Branch:
        gate = info.context.gate

        def work(c: Connection, ds: int) -> Branch:
            source = gate.version(c, ds, from_ or get_dataset_by_id(c, ds).default_branch).ref
            team = gate.principal.team_id
            v.create_branch(c, ds, name, source, owner_team_id=team, created_by=author)
            return _branch(c, ds, name)

        return await _in_dataset(info, dataset, Action.CREATE_BRANCH, name, work, source=from_)

    @strawberry.mutation(description="Delete a branch (not the default one); true.")
    async def delete_branch(self, info: Info, dataset: str, name: str) -> bool:
        await _in_dataset(
            info, dataset, Action.DELETE_BRANCH, name, lambda c, ds: v.delete_branch(c, ds, name)
        )
        return True

    @strawberry.mutation(
        description="Protect a branch (it then refuses direct writes and accepts merges), "
        "or lift the protection."
    )
    async def protect_branch(
        self,
        info: Info,
        dataset: str,
        name: str,
        protected: bool = True,
        merge_role: Annotated[
            str | None,
            strawberry.argument(
                description="The least role that may merge into it (default editor)."
            ),
        ] = None,
    ) -> Branch:
        if merge_role is not None and merge_role not in {r.value for r in Role}:
            roles = ", ".join(r.value for r in Role)
            raise InvalidInputError(f"mergeRole: {merge_role!r} is not one of {roles}")

        def work(c: Connection, ds: int) -> Branch:
            v.set_protected(c, ds, name, protected, merge_role)
            return _branch(c, ds, name)

        return await _in_dataset(
            info,
            dataset,
            Action.PROTECT_BRANCH,
            name,
            work,
            protected=protected,
            merge_role=merge_role,
        )

    @strawberry.mutation(description="Name a committed version (a branch: its last commit).")
    async def create_tag(
        self,
        info: Info,
        dataset: str,
        name: str,
        version: str,
        message: str = "",
        author: Annotated[str, strawberry.argument(description=AUTHOR)] = "",
    ) -> Tag:
        gate = info.context.gate

        def work(c: Connection, ds: int) -> Tag:
            named = gate.version(c, ds, version).ref
            row = v.create_tag(c, ds, name, named, message=message, created_by=author)
            return Tag.from_row(row, load_branches(c, ds))

        return await _in_dataset(info, dataset, Action.CREATE_TAG, name, work, version=version)

    @strawberry.mutation(description="Delete a tag; true. The tagged commit stays.")
    async def delete_tag(self, info: Info, dataset: str, name: str) -> bool:
        await _in_dataset(
            info, dataset, Action.DELETE_TAG, name, lambda c, ds: v.delete_tag(c, ds, name)
        )
        return True

    @strawberry.mutation(
        description="Merge a commit (a branch: its current commit) into a branch: up to date "
        "when the target contains it, else three-way from their best common ancestor, field by "
        "field. With strategy FAIL, conflicts come back as data and nothing is written."
    )
    async def merge(
        self,
        info: Info,
        dataset: str,
        source: str,
        target: str,
        strategy: MergeStrategy = MergeStrategy.FAIL,
        field_strategies: Annotated[
            list[FieldStrategy] | None,
            strawberry.argument(
                description="Per-field strategies for conflicting fields, overriding `strategy` "
                "(a key path before its field)."
            ),
        ] = None,
        message: str | None = None,
        author: Annotated[str, strawberry.argument(description=AUTHOR)] = "",
    ) -> MergeOutcome:
        gate = info.context.gate

        def work(c: Connection, ds: int) -> MergeOutcome:
            named = gate.version(c, ds, source).ref
            return _merge(c, ds, named, target, strategy, field_strategies, message, author)

        return await _in_dataset(
            info, dataset, Action.MERGE, target, work, source=source, strategy=strategy.value
        )

    @strawberry.mutation(
        description="Queue an export of the instances at `version` matching `query` (the text "
        "language) as coco, yolo (zip), jsonl or parquet; follow it with `job(id)`, then fetch "
        "`BatchJob.download`."
    )
    async def export_dataset(
        self,
        info: Info,
        dataset: str,
        format: str = "coco",
        version: str | None = None,
        query: str | None = None,
        author: Annotated[str, strawberry.argument(description=AUTHOR)] = "",
    ) -> BatchJob:
        gate = info.context.gate
        return await info.context.guarded_write(
            dataset,
            Action.EXPORT,
            None,
            lambda c, access: submit_export(c, gate, access, version, query, format, author),
            {"version": version, "format": format, "query": query},
        )

    @strawberry.mutation(
        description="Commit on the branch a state equal to version `to` (history is kept)."
    )
    async def revert(
        self,
        info: Info,
        dataset: str,
        branch: str,
        to: str,
        author: Annotated[str, strawberry.argument(description=AUTHOR)] = "",
    ) -> Commit:
        gate = info.context.gate

        def work(c: Connection, ds: int) -> Commit:
            named = gate.version(c, ds, to).ref
            return _commit(c, ds, v.revert(c, ds, branch, named, author=author))

        return await _in_dataset(info, dataset, Action.REVERT, branch, work, to=to)
