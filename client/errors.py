"""Typed exceptions for what the server (or the way to it) answers.

Every exception is a `TrainingdbError` carrying the server's stable `extensions.code`
(docs/QUERIES.md, "Errors"), so callers branch on the class or on `code`. Failures that never
reached a GraphQL answer get client codes: `CONNECTION_FAILED`, `BAD_RESPONSE`, `HTTP_<status>`,
`JOB_FAILED` and `TIMEOUT`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .types import Job

ResponsePath = tuple[str | int, ...]  # keys and list indexes from the response root


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """One GraphQL error as the server sent it: message, code and the response path it is at."""

    message: str
    code: str
    path: ResponsePath = ()


class TrainingdbError(Exception):
    """Base of every client error: `message`, `code` (the server's `extensions.code` or a client
    code; default: the class's `CODE`), `path` in the response, every error of the answer on
    `errors`, the HTTP `status`."""

    CODE: ClassVar[str] = "UNKNOWN"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        path: ResponsePath = (),
        *,
        errors: Sequence[ErrorInfo] = (),
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        code = code or self.CODE
        self.code = code
        self.path = path
        self.errors: tuple[ErrorInfo, ...] = tuple(errors) or (ErrorInfo(message, code, path),)
        self.status = status

    def __str__(self) -> str:
        where = f" at {'.'.join(map(str, self.path))}" if self.path else ""
        more = len(self.errors) - 1
        others = f" (and {more} more error{'s' if more > 1 else ''} on .errors)" if more else ""
        return f"{self.code}{where}: {self.message}{others}"


class NotFound(TrainingdbError):
    """NOT_FOUND: no such dataset, version or entity, or one the caller may not read."""

    CODE = "NOT_FOUND"


class Forbidden(TrainingdbError):
    """FORBIDDEN: the caller may read the thing but its role does not allow the change."""

    CODE = "FORBIDDEN"


class Unauthenticated(TrainingdbError):
    """UNAUTHENTICATED (HTTP 401): no key, or a key that is malformed, unknown, revoked or
    expired."""

    CODE = "UNAUTHENTICATED"


class InvalidInput(TrainingdbError):
    """BAD_USER_INPUT: an argument is malformed or out of range; the message names it."""

    CODE = "BAD_USER_INPUT"


class InvalidFilter(InvalidInput):
    """INVALID_FILTER: a `where` or `query` filter the server cannot compile; the message says
    where (a query's line and column)."""

    CODE = "INVALID_FILTER"


class InvalidDocument(TrainingdbError):
    """GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED: the document does not parse or does not
    fit the server's schema (a document sent through `execute`, or a server older than this
    client)."""

    CODE = "GRAPHQL_VALIDATION_FAILED"


class Conflict(TrainingdbError):
    """CONFLICT: the request contradicts current state (a name taken, a label in use)."""

    CODE = "CONFLICT"


class MergeConflict(Conflict):
    """MERGE_CONFLICT: a merge stopped on conflicts (`merge` normally answers them as data)."""

    CODE = "MERGE_CONFLICT"


class ProtectedBranch(TrainingdbError):
    """PROTECTED_BRANCH: a direct write, revert or deletion on a protected branch."""

    CODE = "PROTECTED_BRANCH"


class Unavailable(TrainingdbError):
    """UNAVAILABLE: the server cannot do it now; trying again later may succeed."""

    CODE = "UNAVAILABLE"


class ConnectionFailed(Unavailable):
    """CONNECTION_FAILED: the server could not be reached, or the request failed or timed out
    on the way (reads are retried once before this is raised)."""

    CODE = "CONNECTION_FAILED"


class ServerError(TrainingdbError):
    """INTERNAL_SERVER_ERROR (a bug on the server), or an answer this client cannot read:
    an unexpected HTTP status, a body that is not JSON, data missing or malformed
    (`BAD_RESPONSE`)."""

    CODE = "INTERNAL_SERVER_ERROR"


class JobFailed(TrainingdbError):
    """JOB_FAILED: a batch job ended FAILED; the job, with its `message` and `errors`, is on
    `job`."""

    CODE = "JOB_FAILED"

    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.id} ({job.kind}) failed: {job.message}")
        self.job = job


class JobTimeout(TrainingdbError, TimeoutError):
    """TIMEOUT: a job did not end within the time `wait` was given; the last state is `job`."""

    CODE = "TIMEOUT"

    def __init__(self, job: Job, timeout: float) -> None:
        super().__init__(
            f"job {job.id} ({job.kind}) is still {job.status} after {timeout:g} s "
            f"({job.done}/{job.total if job.total is not None else '?'} done)"
        )
        self.job = job


CLASS_OF: dict[str, type[TrainingdbError]] = {
    "NOT_FOUND": NotFound,
    "FORBIDDEN": Forbidden,
    "UNAUTHENTICATED": Unauthenticated,
    "BAD_USER_INPUT": InvalidInput,
    "INVALID_FILTER": InvalidFilter,
    "GRAPHQL_PARSE_FAILED": InvalidDocument,
    "GRAPHQL_VALIDATION_FAILED": InvalidDocument,
    "CONFLICT": Conflict,
    "MERGE_CONFLICT": MergeConflict,
    "PROTECTED_BRANCH": ProtectedBranch,
    "UNAVAILABLE": Unavailable,
    "INTERNAL_SERVER_ERROR": ServerError,
}


def error_info(raw: object, status: int) -> ErrorInfo:
    """error_info: one entry of a response's `errors`, read leniently (a codeless entry gets
    UNAUTHENTICATED on a 401, else `HTTP_<status>`)."""
    if not isinstance(raw, Mapping):
        return ErrorInfo(f"an error entry that is not an object: {raw!r}", "BAD_RESPONSE")
    extensions = raw.get("extensions")
    code = extensions.get("code") if isinstance(extensions, Mapping) else None
    if not isinstance(code, str) or not code:
        code = "UNAUTHENTICATED" if status == 401 else f"HTTP_{status}"
    path = raw.get("path")
    steps: ResponsePath = ()
    if isinstance(path, list):
        steps = tuple(step for step in path if isinstance(step, str | int))
    return ErrorInfo(str(raw.get("message", "")), code, steps)


def error_from(raw_errors: Sequence[Any], status: int) -> TrainingdbError:
    """error_from: the exception for a response's `errors` (non-empty): the class of the first
    error's code, every error kept on `.errors`."""
    infos = [error_info(raw, status) for raw in raw_errors]
    first = infos[0]
    cls = CLASS_OF.get(first.code)
    if cls is None:
        transport = first.code.startswith("HTTP_") or first.code == "BAD_RESPONSE"
        # A code newer than this client is still raised with its code, as the base class.
        cls = ServerError if transport else TrainingdbError
    return cls(first.message, first.code, first.path, errors=infos, status=status)
