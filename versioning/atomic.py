"""Every mutating operation of the core runs in a savepoint.

A failed operation then leaves nothing behind even when the caller catches the error and goes on
with its transaction; on success the savepoint is released into the caller's transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection

P = ParamSpec("P")
R = TypeVar("R")


def atomic(fn: Callable[Concatenate[Connection, P], R]) -> Callable[Concatenate[Connection, P], R]:
    """`fn` run in a savepoint of the caller's transaction: all of it happens, or none."""

    @functools.wraps(fn)
    def run(conn: Connection, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with conn.begin_nested():
            return fn(conn, *args, **kwargs)

    return run
