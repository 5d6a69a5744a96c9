"""Pre-serialized results: a list of entities shaped as JSON by PostgreSQL, passed through as is.

A resolver that has its whole subtree as JSON text returns `Shaped(json)`. The execution context
below hands it back uncompleted (graphql-core would otherwise walk every object of the list), and
the HTTP view's orjson encoder embeds the bytes verbatim (`orjson.Fragment`). The statement that
made the JSON was built from the same selection set and schema types, so the response is what
completing typed objects would have produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


@dataclass(frozen=True, slots=True)
class Shaped:
    """JSON text for one field's whole value, already shaped to the selection set."""

    json: bytes


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Completes values as graphql-core does, except `Shaped` ones, which are already complete."""

    def complete_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        *args: Any,
    ) -> Any:
        if isinstance(result, Shaped):
            return orjson.Fragment(result.json)
        return super().complete_value(return_type, field_details_list, info, path, result, *args)


def plain(data: Any) -> Any:
    """`data` with every pre-serialized value decoded: what a client of the HTTP API receives."""
    return orjson.loads(orjson.dumps(data))
