"""Running GraphQL documents in tests as a client would, and counting the SQL they cost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from trainingdb.graphql_schema import Context, schema
from trainingdb.graphql_schema.passthrough import plain
from trainingdb.versioning.access.principal import LOCAL_ADMIN, Principal


def run(engine: Engine, document: str, **variables: Any) -> dict[str, Any]:
    """Execute `query` as an admin client would see it: data with shaped lists decoded, errors
    coded."""
    return run_as(engine, LOCAL_ADMIN, document, **variables)


def run_as(engine: Engine, principal: Principal, document: str, **variables: Any) -> dict[str, Any]:
    """Execute `query` as `principal` would see it."""

    async def call() -> Any:
        context = Context.for_request(engine, principal)
        return await schema.execute(document, variable_values=variables, context_value=context)

    result = asyncio.run(call())
    out: dict[str, Any] = {"data": plain(result.data)}
    if result.errors:
        out["errors"] = [
            {"message": e.message, "code": (e.extensions or {}).get("code")} for e in result.errors
        ]
    return out


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
