"""trainingdb's GraphQL schema (Strawberry): types, resolvers, the filter compiler.

Knows nothing of HTTP: the server mounts `schema` and builds a `Context` per request.
"""

from .context import Context
from .schema import schema

__all__ = ["Context", "schema"]
