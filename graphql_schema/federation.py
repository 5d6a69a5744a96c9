"""Apollo Federation v2: `_entities`, batched.

Strawberry resolves representations one at a time (`resolve_reference` per item). Here the whole
list is resolved at once, in one worker-thread hop on one pooled connection:

1. where: one statement finds the dataset of every Label / File / Instance id (a representation
   holds only `id`, maybe `version`), among the datasets the caller may read;
2. per (type, dataset, version) group: the gate resolves the version (NOT_FOUND if the caller may
   not read it, BAD_USER_INPUT for that group's items if it does not parse) and ONE statement
   shapes every entity of the group as JSON for the selection under `... on Type`, keyed by
   entity id;
3. datasets, and branches, tags and commits (and, for Relay, batch jobs) by id: one statement
   per type, each item checked against the caller's access to its dataset.

Each item is a `Shaped` (passed through like list pages), a Python object, or a domain error,
which graphql-core turns into `null` plus an error at `["_entities", i]`. Relay's `nodes(ids:)`
(`relay.py`) resolves through the same function, `resolve`, with batch jobs besides.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import strawberry
from graphql import GraphQLObjectType
from sqlalchemy import ColumnElement, Connection, Text, bindparam, func, literal, select, union_all
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from strawberry.federation.schema import FederationAny

from trainingdb.versioning import commits, datasets, tags
from trainingdb.versioning.access.policy import DatasetAccess, Gate, readable_datasets
from trainingdb.versioning.errors import ConflictError, InvalidInputError, NotFoundError
from trainingdb.versioning.inputs import row_id
from trainingdb.versioning.models import Dataset as DatasetModel
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.refs import live_branches_by_ids
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import Version
from trainingdb.versioning.visibility import visible

from .context import Context, run_read
from .errors import Schema
from .jobs import jobs_by_ids
from .links import BlobLinks
from .passthrough import Shaped
from .selection import Picked, selected_as
from .shapes import Shaper

SHAPED = {"Label": EntityType.LABEL, "File": EntityType.FILE, "Instance": EntityType.INSTANCE}
Key = tuple[str, int, str | None]  # (type, dataset id, version as given)


def _uuid_array(name: str, ids: Iterable[uuid.UUID]) -> ColumnElement[Any]:
    """A uuid[] parameter sent as one text literal: psycopg dumps a list element by element,
    a few microseconds each, which 1,000 keys a request turn into milliseconds."""
    literal_text = "{" + ",".join(str(i) for i in ids) + "}"
    return sql_cast(bindparam(name, literal_text, type_=Text), ARRAY(UUID(as_uuid=True)))


def _missing(type_name: str, value: object) -> NotFoundError:
    return NotFoundError(f"no {type_name} with id {value!r}")


def _homes(
    conn: Connection, gate: Gate, ids: Mapping[str, set[uuid.UUID]]
) -> dict[tuple[str, uuid.UUID], list[int]]:
    """The readable datasets holding each (type, entity id): one statement for every type."""
    principal = gate.principal
    parts = []
    for type_name, wanted in ids.items():
        table = KINDS[SHAPED[type_name]].table
        query = (
            select(literal(type_name).label("t"), table.c.entity_id, table.c.dataset_id)
            .where(table.c.entity_id == func.any(_uuid_array(f"ids_{type_name}", wanted)))
            .distinct()
        )
        parts.append(query.where(readable_datasets(principal, table.c.dataset_id)))
    found: dict[tuple[str, uuid.UUID], list[int]] = defaultdict(list)
    if parts:
        for t, eid, ds in conn.execute(union_all(*parts) if len(parts) > 1 else parts[0]):
            found[(t, eid)].append(ds)
    return found


def _group_version(conn: Connection, gate: Gate, key: Key) -> Version:
    """The version a (type, dataset, version) group reads at, through the gate's cached reads
    of the dataset's access and refs; NOT_FOUND where the caller may not read it."""
    _, dataset_id, ref = key
    if ref is None:  # the dataset's default branch; its access is cached by the gate
        ref = gate.dataset_by_id(conn, dataset_id).dataset.default_branch
    return gate.version(conn, dataset_id, ref)


def _shape_group(
    conn: Connection,
    version: Version,
    links: BlobLinks | None,
    type_name: str,
    ids: Sequence[uuid.UUID],
    picked: tuple[Picked, ...],
) -> dict[uuid.UUID, bytes]:
    """The entities `ids` of one (type, dataset, version), shaped for `picked`: one
    statement."""
    shaper = Shaper(version, links)
    row = shaper.alias(SHAPED[type_name])
    node = shaper.node(type_name, picked, row)
    wanted = _uuid_array("ids", ids)
    statement = select(row.c.entity_id, node).where(
        visible(row, shaper.version), row.c.entity_id == func.any(wanted)
    )
    return {eid: json.encode() for eid, json in conn.execute(statement)}


def resolve_representations(
    conn: Connection,
    gate: Gate,
    links: BlobLinks | None,
    representations: Sequence[Mapping[str, Any]],
    picked: Mapping[str, tuple[Picked, ...]],
    with_jobs: bool = False,
) -> list[Any]:
    """The object each representation names, in order, or the error to answer in its place;
    batch jobs too `with_jobs` (Relay nodes, not federation entities)."""
    results: list[Any] = [None] * len(representations)
    wanted: dict[str, set[uuid.UUID]] = defaultdict(set)
    shaped: list[tuple[int, str, uuid.UUID, str | None]] = []
    dataset_ids: dict[int, int] = {}
    job_ids: dict[int, int] = {}
    for n, rep in enumerate(representations):
        type_name, value = rep.get("__typename"), rep.get("id")
        if type_name in SHAPED:
            try:
                eid = uuid.UUID(str(value))
            except ValueError:
                results[n] = _missing(type_name, value)
                continue
            version = rep.get("version")
            shaped.append((n, type_name, eid, None if version is None else str(version)))
            wanted[type_name].add(eid)
        elif type_name == "Dataset" and (pk := row_id(value)) is not None:
            dataset_ids[n] = pk
        elif type_name in CATALOG:
            continue  # _catalog resolves these
        elif with_jobs and type_name == "BatchJob" and (pk := row_id(value)) is not None:
            job_ids[n] = pk
        else:
            results[n] = _missing(str(type_name), value)

    homes = _homes(conn, gate, wanted) if wanted else {}
    groups: dict[Key, list[tuple[int, uuid.UUID]]] = defaultdict(list)
    for n, type_name, eid, version in shaped:
        for dataset_id in homes.get((type_name, eid), ()):
            groups[(type_name, dataset_id, version)].append((n, eid))
    found: dict[int, list[bytes]] = defaultdict(list)
    refused: dict[int, InvalidInputError] = {}
    for key, members in groups.items():
        try:
            version = _group_version(conn, gate, key)
        except NotFoundError:
            continue  # the version is not readable there: as if the entity did not exist
        except InvalidInputError as error:  # a malformed or ambiguous ref: these items only
            refused.update((n, error) for n, _ in members)
            continue
        ids = list({eid for _, eid in members})
        rows = _shape_group(conn, version, links, key[0], ids, picked[key[0]])
        for n, eid in members:
            if eid in rows:
                found[n].append(rows[eid])
    for n, type_name, eid, version in shaped:
        hits = found.get(n, [])
        if len(hits) == 1:
            results[n] = Shaped(hits[0])
        elif not hits and n in refused:
            results[n] = refused[n]
        elif not hits:
            at = "" if version is None else f" at {version!r}"
            results[n] = NotFoundError(f"no {type_name} with id {str(eid)!r}{at}")
        else:  # one id in two readable datasets: only ids given by hand can collide
            results[n] = ConflictError(
                f"{type_name} id {str(eid)!r} names entities in {len(hits)} datasets"
            )

    _catalog(conn, gate, representations, results)
    if dataset_ids:
        from .types import Dataset

        listed = datasets.list_datasets(
            conn,
            readable_datasets(gate.principal)
            & DatasetModel.id.in_(sorted(set(dataset_ids.values()))),
        )
        by_id = {d.id: d for d in listed}
        for n, pk in dataset_ids.items():
            d = by_id.get(pk)
            results[n] = Dataset.from_row(d) if d else NotFoundError(f"no dataset has id {pk}")
    if job_ids:
        jobs = jobs_by_ids(conn, gate, set(job_ids.values()))
        for n, pk in job_ids.items():
            results[n] = jobs.get(pk) or NotFoundError(f"job {pk} does not exist")
    return results


async def resolve(
    info: strawberry.Info[Context, None],
    representations: Sequence[Mapping[str, Any]],
    with_jobs: bool = False,
) -> list[Any]:
    """`resolve_representations` for the field being resolved (`_entities`, `node`, `nodes`),
    with the selection under it for each shaped type, in one worker-thread hop."""
    raw = info._raw_info
    types = {str(r.get("__typename")) for r in representations} & SHAPED.keys()
    picked: dict[str, tuple[Picked, ...]] = {}
    for type_name in types:
        parent = raw.schema.get_type(type_name)
        assert isinstance(parent, GraphQLObjectType)
        picked[type_name] = selected_as(raw, parent)
    context = info.context
    # A selection the shaper refuses (InvalidInputError) raises here: one error for the field.
    return await run_read(
        context.engine,
        lambda conn: resolve_representations(
            conn, context.gate, context.links, representations, picked, with_jobs
        ),
    )


CATALOG = ("Branch", "Tag", "Commit")


def _catalog(
    conn: Connection,
    gate: Gate,
    representations: Sequence[Mapping[str, Any]],
    results: list[Any],
) -> None:
    """Branches, tags and commits by id: one statement per type, then each checked against the
    caller's access to its dataset (read once per dataset); NOT_FOUND where it may not read."""
    from .types import Branch
    from .versions import Commit, Tag

    wanted: dict[str, dict[int, Any]] = {t: {} for t in CATALOG}
    for n, rep in enumerate(representations):
        type_name, value = rep.get("__typename"), str(rep.get("id"))
        if type_name not in CATALOG:
            continue
        key: Any = None
        if type_name == "Commit":
            with contextlib.suppress(ValueError):  # not a UUID: not found, like a missing one
                key = uuid.UUID(value)
        else:
            key = row_id(value)
        if key is None:
            results[n] = _missing(str(type_name), value)
        else:
            wanted[str(type_name)][n] = key

    def readable(dataset_id: int) -> DatasetAccess | None:
        try:
            return gate.dataset_by_id(conn, dataset_id)
        except NotFoundError:
            return None

    found: dict[tuple[str, Any], Any] = {}
    if wanted["Commit"]:
        for commit in commits.by_ids(conn, list(set(wanted["Commit"].values()))):
            access = readable(commit.dataset_id)
            if access is not None and access.reachable(conn, commit.branch_id, commit.seq):
                found[("Commit", commit.id)] = Commit.from_row(commit, access.branches)
    if wanted["Branch"]:
        for branch in live_branches_by_ids(conn, list(set(wanted["Branch"].values()))):
            access = readable(branch.dataset_id)
            if access is not None and access.branch_readable(branch):
                found[("Branch", branch.id)] = Branch.from_row(branch)
    if wanted["Tag"]:
        for tag in tags.by_ids(conn, list(set(wanted["Tag"].values()))):
            access = readable(tag.dataset_id)
            if access is not None and access.tag_readable(conn, tag.name, tag.branch_id, tag.seq):
                found[("Tag", tag.id)] = Tag.from_row(tag, access.branches)
    for type_name, positions in wanted.items():
        for n, key in positions.items():
            # The id as the caller wrote it (a commit's hex, not the UUID's dashed form).
            given = representations[n].get("id")
            results[n] = found.get((type_name, key)) or _missing(type_name, given)


class Subgraph(Schema):
    """The schema as an Apollo Federation v2 subgraph, with `_entities` batched."""

    async def entities_resolver(  # type: ignore[override]
        self, info: strawberry.Info[Context, None], representations: list[FederationAny]
    ) -> list[FederationAny]:
        reps: list[Mapping[str, Any]] = [
            r if isinstance(r, Mapping) else {} for r in representations
        ]
        # A selection the shaper refuses fails the whole field: the non-null `_entities` makes
        # `data` null.
        found: list[FederationAny] = await resolve(info, reps)
        return found
