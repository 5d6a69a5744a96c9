"""Names of datasets, branches and tags: what the CHECK constraints allow, said before they fail."""

from __future__ import annotations

import re

from .errors import InvalidInputError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_FLAT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_LENGTH = 200


def check_name(name: str, what: str, *, allow_slash: bool = True) -> str:
    """`name` if valid for `what`; BAD_USER_INPUT saying what is allowed otherwise."""
    pattern = _NAME if allow_slash else _FLAT_NAME
    if len(name) > MAX_LENGTH or not pattern.match(name) or "@" in name:
        allowed = "letters, digits, '.', '_', '-'" + (" and '/'" if allow_slash else "")
        raise InvalidInputError(
            f"{what} {name!r} is not valid: use {allowed}, starting with a letter or digit, "
            f"at most {MAX_LENGTH} characters"
        )
    return name
