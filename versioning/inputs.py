"""Values from outside — a GraphQL request, a CLI argument, an imported record — checked once,
before anything reaches PostgreSQL.

What PostgreSQL (and the JSON encoder in front of it) cannot take, and so what a value may not
hold anywhere, however deeply nested in a list or a JSON object, keys included:
- a NUL character (U+0000): PostgreSQL text and jsonb cannot store one;
- a lone surrogate (U+D800..U+DFFF): UTF-8 cannot encode one, so the driver cannot send it;
- a string longer than MAX_STRING characters: no field needs one (media and long text belong
  in blobs), and each costs memory all the way to the database; columns with a shorter limit
  are checked by `checks.py`;
- an integer outside the signed 64-bit range, or a float that is not finite: JSON cannot
  carry infinities, and the encoder refuses integers wider than 64 bits;
- nesting deeper than MAX_DEPTH lists and objects: nothing needs it, and every reader of the
  value (the encoder, PostgreSQL's jsonb parser) pays for each level.

Each failure is an `InvalidInputError` naming the value (`where`, as the caller knows it: an
argument, a variable, a record) and the position inside it (`.attributes.color`, `[3]`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import InvalidInputError

MAX_STRING = 65_536
MAX_DEPTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def text_problem(value: str) -> str | None:
    """What makes `value` unstorable as text, or None."""
    if len(value) > MAX_STRING:
        return f"is {len(value):,} characters long; at most {MAX_STRING:,} are allowed"
    if "\x00" in value:
        return f"contains a NUL character at offset {value.index(chr(0))}"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return (
                f"contains a lone surrogate (U+{ord(value[error.start]):04X}) at offset "
                f"{error.start}, which is not a character"
            )
    return None


def scalar_problem(value: object) -> str | None:
    """What makes one scalar (text, number, bool, null) unstorable, or None."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return None
        return f"is {len(str(abs(value)))} digits long; integers must fit in 64 bits"
    if isinstance(value, float) and not math.isfinite(value):
        return f"is {value}; numbers must be finite"
    return None


def _key(path: str, key: object) -> str:
    text = str(key)
    return f"{path}.{text}" if text.isidentifier() else f"{path}[{text!r}]"


def problem(value: object) -> tuple[str, str] | None:
    """The first position inside `value` that cannot be stored and why, or None. Iterative, so
    a value nested beyond any stack is reported, not recursed into."""
    stack: list[tuple[object, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, Mapping | list | tuple):
            if depth >= MAX_DEPTH:
                return path, f"is nested more than {MAX_DEPTH} levels deep"
            if isinstance(item, Mapping):
                children: list[tuple[object, str, int]] = []
                for key, child in item.items():
                    if isinstance(key, str) and (why := text_problem(key)) is not None:
                        return path, f"has a key that {why}"
                    children.append((child, _key(path, key), depth + 1))
            else:
                children = [(child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item)]
            stack.extend(reversed(children))  # report the first bad position, in reading order
            continue
        why = scalar_problem(item)
        if why is not None:
            return path, why
    return None


def check_value(value: object, where: str) -> None:
    """check_value: raise InvalidInputError naming `where` and the position if any part of
    `value` cannot be stored (module docstring); O(size of value)."""
    found = problem(value)
    if found is not None:
        path, why = found
        raise InvalidInputError(f"{where}{path} {why}")


def check_values(values: Mapping[str, Any], where: str) -> None:
    """check_values: check_value for each named value, as `where.name`."""
    for name, value in values.items():
        check_value(value, f"{where}{name}" if where.endswith(" ") else f"{where}.{name}")


def row_id(text: object) -> int | None:
    """row_id: the bigint row id `text` spells (ASCII digits, in range), or None; O(1).

    `str.isdigit` also admits digits such as "²" that `int` refuses, and digits beyond bigint
    reach PostgreSQL as an out-of-range error: an id is what this accepts, nothing else."""
    value = str(text)
    if not (value.isascii() and value.isdigit() and len(value) <= 19):
        return None
    number = int(value)
    return number if number <= INT64_MAX else None
