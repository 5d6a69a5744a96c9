"""The one error taxonomy of trainingdb: every domain failure is a `TrainingdbError` with a stable
`code`, which the GraphQL layer maps to `extensions.code` (in `graphql_schema/errors.py`, only).

Codes are part of the public API: clients branch on them, so a code is never renamed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, ClassVar, Literal


class TrainingdbError(Exception):
    """Base of every domain error; `code` is stable, `message` says what was wrong and where."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(TrainingdbError):
    """A named thing (dataset, ref, entity) does not exist, or the caller may not read it."""

    code = "NOT_FOUND"


class UnauthenticatedError(TrainingdbError):
    """No credentials, or credentials that are malformed, unknown, revoked or expired. The
    message never says which: a guesser learns nothing from it."""

    code = "UNAUTHENTICATED"


class ForbiddenError(TrainingdbError):
    """The caller may read the thing but lacks the role the operation needs; the message names
    the role. (Something the caller may not read answers NotFoundError instead.)"""

    code = "FORBIDDEN"


class InvalidInputError(TrainingdbError):
    """An argument is malformed or out of range; the message names the argument."""

    code = "BAD_USER_INPUT"


class InvalidFilterError(InvalidInputError):
    """A filter (`where:` input or `query:` text) names an unknown field, applies an operator to
    a field that has no such operator, or does not parse; the message says where."""

    code = "INVALID_FILTER"


class ConflictError(TrainingdbError):
    """The request contradicts current state (a name taken, a concurrent change)."""

    code = "CONFLICT"


class UnavailableError(TrainingdbError):
    """The server cannot do this now (an event stream it cannot keep up or reach); trying again
    later may succeed."""

    code = "UNAVAILABLE"


class ProtectedBranchError(TrainingdbError):
    """A direct write, revert or deletion on a protected branch (merges are allowed)."""

    code = "PROTECTED_BRANCH"


@dataclass(frozen=True, slots=True)
class FieldConflict:
    """One field (or JSON key, `attributes.color`) both sides of a merge changed since the base
    to different values; None stands for a value that is absent (or null)."""

    field: str
    base: Any
    ours: Any
    theirs: Any


@dataclass(frozen=True, slots=True)
class Conflict:
    """One reason a merge stopped, or a decision its strategy took: an entity both sides changed
    since the base to different states (`source_change`, `target_change`; `fields` names the
    fields when both still have it), or a result breaking an invariant. `message` says what
    each side did, or what the result would break."""

    kind: str
    entity_id: uuid.UUID
    source_change: Literal["added", "removed", "modified"] | None
    target_change: Literal["added", "removed", "modified"] | None
    message: str = ""
    fields: tuple[FieldConflict, ...] = ()


class MergeConflictError(ConflictError):
    """A merge found entities both sides changed differently, or a result breaking an invariant.

    `conflicts` lists each one; `base_id` is the merge base commit; nothing was written.
    """

    code = "MERGE_CONFLICT"

    def __init__(
        self, message: str, conflicts: tuple[Conflict, ...], base_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(message)
        self.conflicts = conflicts
        self.base_id = base_id
