"""Source ids written back: a kept id where it is unique, a fresh one where there is none.

An import keeps the ids its input gave (COCO image, category, annotation and video ids); an
export writes them again, so an exported file matches the one imported, and a results file
made against it (image ids) still points at the right images. Two imports may have used the
same ids (a train and a val file, both counting from 1): the first record in export order keeps
an id, and later ones with it, like records that never had one, get fresh ids above every
number kept anywhere in the version, which therefore collide with none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Numeric, Select, Text, case, cast, func, select


def usable(value: Any) -> bool:
    """A value a COCO reader takes as an id: a number or a text (never a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    return not isinstance(value, float) or math.isfinite(value)


class Ids:
    """Hands out ids in export order (module docstring)."""

    def __init__(self, top: int, repeated: Iterable[Any]) -> None:
        self._next = top + 1
        self._repeated = {r for r in repeated if usable(r)}
        self._taken: set[Any] = set()

    @classmethod
    def of(cls, kept: Iterable[Any]) -> Ids:
        """Ids for records whose kept ids are `kept` (held in memory: labels, videos)."""
        seen: set[Any] = set()
        repeated: set[Any] = set()
        top = 0
        for value in kept:
            if not usable(value):
                continue
            if value in seen:
                repeated.add(value)
            seen.add(value)
            if not isinstance(value, str):
                top = max(top, math.ceil(value))
        return cls(top, repeated)

    def take(self, kept: Any) -> Any:
        """The id of the next record, whose kept id is `kept` (None: it had none)."""
        if usable(kept):
            if kept not in self._repeated:
                return kept
            if kept not in self._taken:
                self._taken.add(kept)
                return kept
        fresh = self._next
        self._next += 1
        return fresh


def kept_ids(conn: Connection, statement: Select[Any]) -> Ids:
    """Ids for records whose kept ids are the JSON values `statement`'s one column `id`
    selects: the greatest number and the repeated values found in SQL, in one statement, so
    memory holds only the repeats."""
    ids = statement.cte("kept_ids")
    number = case(
        (func.jsonb_typeof(ids.c.id) == "number", func.ceil(cast(cast(ids.c.id, Text), Numeric)))
    )
    repeats = (
        select(ids.c.id).where(ids.c.id.is_not(None)).group_by(ids.c.id).having(func.count() > 1)
    ).subquery()
    top, repeated = conn.execute(
        select(
            select(func.max(number)).scalar_subquery(),
            select(func.jsonb_agg(repeats.c.id)).scalar_subquery(),
        )
    ).one()
    return Ids(int(top) if isinstance(top, Decimal | int) else 0, repeated or [])
