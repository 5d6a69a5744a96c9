"""The one place where errors become GraphQL errors with a stable `extensions.code`.

Domain errors (`versioning.errors`) keep their message and code. Anything else is a bug: it is
logged with its traceback and answered as INTERNAL_SERVER_ERROR without its text, which may hold
SQL or data the caller must not see.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from trainingdb.versioning.errors import TrainingdbError

log = logging.getLogger("trainingdb.graphql")

INTERNAL = "INTERNAL_SERVER_ERROR"


def error_code(error: GraphQLError) -> str:
    """The stable code for `error`."""
    original = error.original_error
    if isinstance(original, TrainingdbError):
        return original.code
    if isinstance(original, GraphQLError):
        # graphql-core wraps its own error when a variable's value does not fit its type.
        return "BAD_USER_INPUT"
    if original is None:
        # graphql-core raises no typed errors for documents: its messages are the contract.
        if error.message.startswith("Syntax Error"):
            return "GRAPHQL_PARSE_FAILED"
        return "GRAPHQL_VALIDATION_FAILED"
    return INTERNAL


def with_code(error: GraphQLError) -> GraphQLError:
    """`error` with `extensions.code` set, its message hidden if it is not a domain error;
    an error that has its code already is returned as it is."""
    if error.extensions and "code" in error.extensions:
        return error
    code = error_code(error)
    if code != INTERNAL:
        # In place: a batch of 1,000 federation keys may carry hundreds of NOT_FOUND, and a new
        # GraphQLError recomputes its source locations.
        error.extensions = {**(error.extensions or {}), "code": code}
        return error
    log.error("unexpected error at %s", error.path, exc_info=error.original_error)
    return GraphQLError(
        "Internal server error.",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": code},
    )


class Schema(strawberry.federation.Schema):
    """Strawberry's schema, logging errors by kind: a client's mistake (a domain error, or a
    document that does not parse or validate) is one line at INFO; anything else was already
    logged with its traceback by `with_code`, so Strawberry's own traceback is not repeated."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            code = error_code(error)
            if code != INTERNAL:
                log.info("%s at %s: %s", code, error.path, error.message)


class ErrorCodes(SchemaExtension):
    """Schema extension applying `with_code` to every error of an operation, and of each result
    of a subscription."""

    def on_stream_result(self, result: Any) -> Iterator[None]:
        if getattr(result, "errors", None):
            result.errors = [with_code(error) for error in result.errors]
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [with_code(error) for error in result.errors]
