"""What every document goes through before it runs: caches for parsing and validation, and
limits on size, depth and aliases (so one request cannot ask for unbounded work).

Limits: the deepest useful read is dataset > frames > edges > node > instances > file >
metadata (7 levels), so 10 leaves room. Bulk data belongs in variables, which count no tokens,
so 10,000 tokens is room for any hand-written document.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Iterator

from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.schema import validate_document

from .errors import ErrorCodes
from .input_guard import InputGuard

MAX_DEPTH = 10
MAX_TOKENS = 10_000
MAX_ALIASES = 100
CACHED_DOCUMENTS = 512


class CachedParse(ParserCache):
    """ParserCache, except that a document that does not parse is left to Strawberry's own
    parser, which reports it as an ordinary result error (ParserCache's exception escapes the
    operation, where no extension can give it a code)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


_validated: OrderedDict[str, list[GraphQLError]] = OrderedDict()


class CachedValidation(SchemaExtension):
    """Validation results by document text, shared by every request.

    Strawberry's ValidationCache keys on the validation rules too, and the depth and alias
    limiters build new rule classes for every request, so it never hits. The rules are the
    same for every request of this schema, so the document text alone decides the result.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        key = context.query
        errors = _validated.get(key) if key is not None else None
        if errors is None:
            assert context.graphql_document is not None
            errors = validate_document(
                context.schema._schema, context.graphql_document, context.validation_rules
            )
            if key is not None:
                _validated[key] = errors
                if len(_validated) > CACHED_DOCUMENTS:
                    _validated.popitem(last=False)
        elif key is not None:
            _validated.move_to_end(key)
        context.pre_execution_errors = errors
        yield


def extensions() -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    """The schema's extensions, as factories: one fresh instance per request."""
    return [
        ErrorCodes,
        # Token limit first: it sets the parser option the cached parse then obeys.
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: CachedParse(maxsize=CACHED_DOCUMENTS),
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        CachedValidation,
        # After validation: only a document that validated has its values walked.
        InputGuard,
    ]
