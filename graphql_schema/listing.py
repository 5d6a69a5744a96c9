"""The list fields of a dataset (labels, files, instances, frames): arguments to one page.

Every list reads at `version:` (a branch, tag, commit id or `branch@seq`; default: the dataset's
default branch, uncommitted work included), filtered by `where:` and `query:` (ANDed), ordered
by `orderBy:`, paged by `first:` / `after:`.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLResolveInfo
from graphql.execution.values import get_argument_values
from sqlalchemy import Connection, Select, and_, select

from trainingdb.versioning.access.policy import Gate
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.visibility import visible

from .context import Context, run_read
from .entities import Connection as Page
from .entities import PageInfo
from .filters.fields import FRAMES, FieldType, Target
from .filters.inputs import entity_id
from .links import BlobLinks
from .pages import Key, PageResult, fetch_page
from .selection import Picked, selected, variables_of
from .shapes import Shaper, order_fields, page_size


def raw_args(info: GraphQLResolveInfo[Any]) -> dict[str, Any]:
    """The coerced arguments of the field being resolved, by GraphQL name (as nested ones are)."""
    field = info.parent_type.fields[info.field_name]
    return get_argument_values(field, info.field_nodes[0], variables_of(info))


def _to_page(result: PageResult, after: str | None) -> Page[Any]:
    return Page(
        shaped=result.shaped,
        total=result.total,
        page_info=PageInfo(
            has_next_page=result.has_next,
            # Forward paging only: a page reached through a cursor has one before it.
            has_previous_page=after is not None,
            start_cursor=result.start_cursor,
            end_cursor=result.end_cursor,
        ),
    )


def _entity_rows(shaper: Shaper, target: Target, args: dict[str, Any]) -> Select[Any]:
    """Whole rows of `target` visible at the shaper's version and matching `where` / `query`."""
    table = KINDS[target.entity].table
    flt = shaper.filter_of(target, args, target.name)
    condition = shaper.compiler.condition(target, flt, table, f"{target.name}.where")
    return select(table).where(visible(table, shaper.version), condition)


def entity_page(
    conn: Connection,
    gate: Gate,
    dataset_id: int,
    ref: str,
    target: Target,
    type_name: str,
    args: dict[str, Any],
    picked: tuple[Picked, ...],
    links: BlobLinks | None = None,
) -> PageResult:
    """One page of `target` entities at `ref` for a connection selection `picked`."""
    shaper = Shaper(gate.version(conn, dataset_id, ref), links)
    rows = _entity_rows(shaper, target, args)
    keys = [
        Key(f.column, f.type, desc)
        for f, desc in order_fields(target, args.get("orderBy"), target.name)
    ]
    keys.append(Key("entity_id", FieldType.ID))
    first = page_size(args.get("first"), f"{target.name}.first")
    return fetch_page(
        conn, shaper, type_name, rows, keys, first, args.get("after"), picked, target.name
    )


FRAME_KEYS = (Key("file_entity_id", FieldType.ID), Key("frame_number", FieldType.INT))


def frame_page(
    conn: Connection,
    gate: Gate,
    dataset_id: int,
    ref: str,
    args: dict[str, Any],
    picked: tuple[Picked, ...],
    links: BlobLinks | None = None,
) -> PageResult:
    """One page of frames: groups of frame-level instances by (file, frame number)."""
    shaper = Shaper(gate.version(conn, dataset_id, ref), links)
    rows = shaper.alias(EntityType.INSTANCE)
    conditions = [visible(rows, shaper.version), rows.c.frame_number.is_not(None)]
    if args.get("file") is not None:
        conditions.append(rows.c.file_entity_id == entity_id(args["file"], "frames.file"))
    span = args.get("range") or {}
    if span.get("from") is not None:
        conditions.append(rows.c.frame_number >= span["from"])
    if span.get("to") is not None:
        conditions.append(rows.c.frame_number <= span["to"])
    flt = shaper.filter_of(FRAMES, args, "frames")
    groups = (
        select(rows.c.file_entity_id, rows.c.frame_number)
        .where(and_(*conditions))
        .group_by(rows.c.file_entity_id, rows.c.frame_number)
        .having(shaper.compiler.condition(FRAMES, flt, rows, "frames.where"))
    )
    first = page_size(args.get("first"), "frames.first")
    return fetch_page(
        conn, shaper, "Frame", groups, FRAME_KEYS, first, args.get("after"), picked, "frames"
    )


async def entity_connection(
    info: strawberry.Info[Context, None],
    dataset_id: int,
    default_ref: str,
    target: Target,
    type_name: str,
) -> Page[Any]:
    raw = info._raw_info
    args, picked = raw_args(raw), selected(raw)
    ref = args.get("version") or default_ref
    result = await run_read(
        info.context.engine,
        lambda conn: entity_page(
            conn,
            info.context.gate,
            dataset_id,
            ref,
            target,
            type_name,
            args,
            picked,
            info.context.links,
        ),
    )
    return _to_page(result, args.get("after"))


async def frame_connection(
    info: strawberry.Info[Context, None], dataset_id: int, default_ref: str
) -> Page[Any]:
    raw = info._raw_info
    args, picked = raw_args(raw), selected(raw)
    ref = args.get("version") or default_ref
    result = await run_read(
        info.context.engine,
        lambda conn: frame_page(
            conn, info.context.gate, dataset_id, ref, args, picked, info.context.links
        ),
    )
    return _to_page(result, args.get("after"))
