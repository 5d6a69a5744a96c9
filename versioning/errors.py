"""The one error taxonomy of trainingdb: every domain failure is a `TrainingdbError` with a stable
`code`, which the GraphQL layer maps to `extensions.code` (in `graphql_schema/errors.py`, only).

Codes are part of the public API: clients branch on them, so a code is never renamed.
"""

from __future__ import annotations

from typing import ClassVar


class TrainingdbError(Exception):
    """Base of every domain error; `code` is stable, `message` says what was wrong and where."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(TrainingdbError):
    """A named thing (dataset, ref, entity) does not exist, or the caller may not read it."""

    code = "NOT_FOUND"


class InvalidInputError(TrainingdbError):
    """An argument is malformed or out of range; the message names the argument."""

    code = "BAD_USER_INPUT"


class ConflictError(TrainingdbError):
    """The request contradicts current state (a name taken, a concurrent change)."""

    code = "CONFLICT"
