"""Relay's root fields: `node(id:)` and `nodes(ids:)`, over the global ids of `global_ids.py`.

Global ids decode to federation-style representations and resolve through `_entities`' batched
path (`federation.resolve`): one statement per (type, dataset, version) group, each item
checked by the access policy. An id this API never gave out is BAD_USER_INPUT; one that names
nothing, or what the caller may not read, is null with NOT_FOUND and one message either way.
"""

from __future__ import annotations

from typing import Any

import strawberry

from trainingdb.versioning.errors import InvalidInputError, NotFoundError

from .context import Context
from .federation import resolve
from .global_ids import Node, representation

Info = strawberry.Info[Context, None]
MAX_NODES = 1000


def _answer(found: Any, value: str) -> Any:
    """`found`, or its NOT_FOUND said in terms of the global id the client sent."""
    if isinstance(found, NotFoundError):
        return NotFoundError(f"no node with id {value!r}")
    return found


@strawberry.type
class RelayQuery:
    @strawberry.field(
        description="The object a Relay global id (a `nodeId`) names, File and Instance at the "
        "version they were read at; null with NOT_FOUND when there is none or the caller may not "
        "read it, BAD_USER_INPUT when `id` is not a global id."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        rep = representation(str(id), "node.id")
        (found,) = await resolve(info, [rep], with_jobs=True)
        found = _answer(found, str(id))
        if isinstance(found, Exception):
            raise found
        return found  # type: ignore[no-any-return]

    @strawberry.field(
        description=f"The objects of up to {MAX_NODES:,} Relay global ids, in order, resolved "
        "in a few statements; an item is null with NOT_FOUND (or BAD_USER_INPUT at its "
        "position when it is not a global id) as `node` says."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise InvalidInputError(f"nodes.ids: at most {MAX_NODES} ids, not {len(ids)}")
        results: list[Any] = [None] * len(ids)
        positions: list[int] = []
        reps: list[dict[str, str]] = []
        for n, value in enumerate(ids):
            try:
                reps.append(representation(str(value), f"nodes.ids[{n}]"))
            except InvalidInputError as error:  # this item only: the rest still resolve
                results[n] = error
                continue
            positions.append(n)
        found = await resolve(info, reps, with_jobs=True) if reps else []
        for n, item in zip(positions, found, strict=True):
            results[n] = _answer(item, str(ids[n]))
        return results
