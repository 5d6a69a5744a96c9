"""Reading JSON answers into typed values: small converters that fail loudly, and `decoded`,
which turns any mismatch between an answer and its dataclass into a ServerError naming both."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from .errors import ServerError

T = TypeVar("T")
Json = Any  # any JSON value: object, array, string, number, boolean or null

# What a dataclass's `from_json` raises on an answer of the wrong shape.
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


def text(value: object) -> str:
    """text: a JSON string (TypeError for anything else)."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def opt_text(value: object) -> str | None:
    """opt_text: a JSON string or null."""
    return None if value is None else text(value)


def integer(value: object) -> int:
    """integer: a JSON integer (a boolean is not one)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def opt_int(value: object) -> int | None:
    """opt_int: a JSON integer or null."""
    return None if value is None else integer(value)


def opt_float(value: object) -> float | None:
    """opt_float: a JSON number or null, as a float."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def boolean(value: object) -> bool:
    """boolean: a JSON boolean."""
    if not isinstance(value, bool):
        raise TypeError(f"expected a boolean, got {value!r}")
    return value


def timestamp(value: object) -> datetime:
    """timestamp: a DateTime scalar (ISO 8601) as an aware or naive datetime, as sent."""
    return datetime.fromisoformat(text(value))


def opt_timestamp(value: object) -> datetime | None:
    """opt_timestamp: a DateTime scalar or null."""
    return None if value is None else timestamp(value)


def obj(value: object) -> dict[str, Json]:
    """obj: a JSON object."""
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {value!r}")
    return value


def items(value: object) -> list[Json]:
    """items: a JSON array."""
    if not isinstance(value, list):
        raise TypeError(f"expected an array, got {value!r}")
    return value


def at(data: Mapping[str, Json], path: tuple[str, ...], what: str) -> Json:
    """at: the value at `path` in a response's data; ServerError naming `what` when absent."""
    value: Json = data
    for step in path:
        if not isinstance(value, Mapping) or step not in value:
            raise ServerError(
                f"{what}: the answer has no {'.'.join(path)} (got {str(data)[:200]})",
                "BAD_RESPONSE",
            )
        value = value[step]
    return value


def decoded(what: str, parse: Callable[[Mapping[str, Json]], T], raw: object) -> T:
    """decoded: `parse(raw)`; a ServerError naming `what` when the answer has another shape
    than the client expects (a server of another version, or a bug)."""
    try:
        return parse(obj(raw))
    except SHAPE_ERRORS as error:
        raise ServerError(
            f"{what}: cannot read the answer {str(raw)[:200]}: {error!r}", "BAD_RESPONSE"
        ) from error


def decoded_list(what: str, parse: Callable[[Mapping[str, Json]], T], raw: object) -> list[T]:
    """decoded_list: `decoded` for each item of the JSON array `raw`."""
    if not isinstance(raw, list):
        raise ServerError(f"{what}: expected a list, got {str(raw)[:200]}", "BAD_RESPONSE")
    return [decoded(what, parse, item) for item in raw]
