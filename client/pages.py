"""Cursor iteration: every page of a list, fetched lazily, at most one page held at a time.

Connections (`labels`, `files`, `instances`) carry `pageInfo { hasNextPage endCursor }`; a diff
carries `hasNextPage` and `endCursor` itself. Both page by keyset: the next page starts strictly
after the cursor, so rows added or removed meanwhile never shift a page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from .errors import ServerError
from .parse import Json, boolean, decoded, items, obj, text

T = TypeVar("T")

MAX_PAGE = 10_000  # the server's largest `first` (docs/QUERIES.md)


@dataclass(frozen=True, slots=True)
class Page:
    """One page: its raw items, and the cursor the next page starts after (None: the last)."""

    items: list[Json]
    next_cursor: str | None


def connection_page(connection: Mapping[str, Json]) -> Page:
    """connection_page: a Relay connection's `nodes` and, if `hasNextPage`, its `endCursor`."""
    info = obj(connection["pageInfo"])
    return Page(items(connection["nodes"]), _next(boolean(info["hasNextPage"]), info["endCursor"]))


def diff_page(diff: Mapping[str, Json]) -> Page:
    """diff_page: a Diff's `changes` and, if `hasNextPage`, its `endCursor`."""
    return Page(items(diff["changes"]), _next(boolean(diff["hasNextPage"]), diff["endCursor"]))


def _next(more: bool, cursor: object) -> str | None:
    if not more:
        return None
    if cursor is None:
        raise ValueError("hasNextPage is true but endCursor is null")
    return text(cursor)


def check_page_size(page_size: int) -> None:
    """check_page_size: ValueError unless 1 <= page_size <= 10,000."""
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise TypeError(f"page_size: expected an int, got {page_size!r}")
    if not 1 <= page_size <= MAX_PAGE:
        raise ValueError(f"page_size: between 1 and {MAX_PAGE}, not {page_size}")


def iterate(
    what: str,
    fetch: Callable[[str | None], Mapping[str, Json]],
    page_of: Callable[[Mapping[str, Json]], Page],
    parse: Callable[[Mapping[str, Json]], T],
) -> Iterator[T]:
    """iterate: every item of every page, in order; `fetch(after)` answers one page's object
    (None: the first page). The next page is fetched only once this one is used up."""
    after: str | None = None
    while True:
        page = decoded(what, page_of, fetch(after))
        for raw in page.items:
            yield decoded(what, parse, raw)
        if page.next_cursor is None:
            return
        if page.next_cursor == after:
            # A server bug, but one that would loop forever: stop with what it looks like.
            raise ServerError(
                f"{what}: the server gave the cursor {after!r} twice in a row", "BAD_RESPONSE"
            )
        after = page.next_cursor
