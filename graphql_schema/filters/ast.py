"""The filter tree: what `where:` inputs and `query:` text both become, and all the compiler reads.

A filter applies to one target (instances, files, frames, labels) and is one of:
- `Compare(field, op, value)`: a scalar field against a value (`_eq`, `_gt`, `_in`, `_like`, ...);
- `JsonTest(field, path, op, value)`: a JSON field (`attributes`, `metadata`): `_contains`,
  `_has_key`, or a comparison of the value at `path`;
- `Related(relation, filter, quantifier, count)`: entities related to each row — to-many with
  `some` / `none` / `every` or a count comparison, to-one with `some` ("the file matches");
- `Inside(box)`: the instance's bounding box lies inside `box`;
- `And`, `Or`, `Not`.

Semantics are SQL's: a comparison with a missing (NULL) field is unknown, and `Not(unknown)` is
unknown, so neither `score: {_gt: 0.5}` nor `_not: {score: {_gt: 0.5}}` matches an instance
without a score; `_is_null` asks about missing fields.

The limits below apply to every filter, whichever language and client it comes from (GraphQL
arguments or variables, export jobs, the CLI): both readers count against them as they read, so
a hostile filter is refused before it costs anything, and nothing recursive ever sees a tree
deeper than the limits allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from trainingdb.versioning.errors import InvalidFilterError

# Levels of nesting: in text, parentheses and each and / or / not / any / no / every / count
# around another; in `where:`, each `_and` / `_or` element, `_not` and relation object. Real
# filters use a handful; each level costs stack in every recursive reader down to SQLAlchemy's
# compiler.
MAX_DEPTH = 32
# Tests (comparisons, null tests, like, has, inside, relation tests): each costs its share of
# compiling and planning (~0.5 ms), so 256 is ~0.1 s, while 20,000 took 10 s.
MAX_TERMS = 256
# Values of all the in-lists of one filter together: each is a bind parameter, and PostgreSQL
# takes at most 65,535 of them per statement.
MAX_VALUES = 1024
# Characters of `query:` text: 256 terms fit many times over; parsing costs ~6 µs a character.
MAX_QUERY_CHARS = 65_536
# List relations (a file's or frame's `instances`) on one path: a list inside a list reads the
# product of both (a file's instances, each one's file's instances again), so only one is allowed.
MAX_LIST_RELATIONS = 1
# The compiler's own bound, for a tree from anywhere: the readers build at most about
# 2 * MAX_DEPTH levels (a `where:` object with several keys adds an And around its parts), and
# SQLAlchemy compiles a tree this deep well within Python's stack.
MAX_TREE_DEPTH = 2 * MAX_DEPTH + 8


class Op(StrEnum):
    EQ = "_eq"
    NEQ = "_neq"
    GT = "_gt"
    GTE = "_gte"
    LT = "_lt"
    LTE = "_lte"
    IN = "_in"
    NIN = "_nin"
    IS_NULL = "_is_null"
    LIKE = "_like"
    ILIKE = "_ilike"
    CONTAINS = "_contains"
    HAS_KEY = "_has_key"


ORDERING = frozenset({Op.EQ, Op.NEQ, Op.GT, Op.GTE, Op.LT, Op.LTE, Op.IN, Op.NIN, Op.IS_NULL})
TEXT = ORDERING | {Op.LIKE, Op.ILIKE}
EQUALITY = frozenset({Op.EQ, Op.NEQ, Op.IN, Op.NIN, Op.IS_NULL})


class Quantifier(StrEnum):
    SOME = "some"
    NONE = "none"
    EVERY = "every"


@dataclass(frozen=True, slots=True)
class Compare:
    field: str
    op: Op
    value: Any


@dataclass(frozen=True, slots=True)
class JsonTest:
    field: str
    # Empty for `_contains` / `_has_key` on the whole object.
    path: tuple[str, ...]
    op: Op
    value: Any


@dataclass(frozen=True, slots=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True, slots=True)
class Inside:
    box: Box


@dataclass(frozen=True, slots=True)
class Related:
    relation: str
    filter: Filter
    quantifier: Quantifier = Quantifier.SOME
    # `(op, n)`: the number of related entities matching `filter` compared with n; replaces the
    # quantifier ("files with >= 3 cars").
    count: tuple[Op, int] | None = None


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Filter


Filter = Compare | JsonTest | Inside | Related | And | Or | Not

# The filter that matches every row.
EVERYTHING = And(())


def too_deep(where: str) -> InvalidFilterError:
    return InvalidFilterError(f"{where}: nested deeper than {MAX_DEPTH} levels")


@dataclass(slots=True)
class Budget:
    """What one filter has used of MAX_TERMS and MAX_VALUES so far; `close` raises past either,
    naming the first term over the limit and the total (so reading goes on to the end)."""

    terms: int = 0
    values: int = 0
    _terms_over: str | None = None
    _values_over: str | None = None

    def term(self, where: str, values: int = 0) -> None:
        """Count one term at `where`, with the `values` of its in-list."""
        self.terms += 1
        if self.terms == MAX_TERMS + 1:
            self._terms_over = where
        self.values += values
        if self.values > MAX_VALUES and self._values_over is None:
            self._values_over = where

    def close(self, what: str) -> None:
        """INVALID_FILTER if `what` ("the query", "the filter") went over a limit."""
        if self._terms_over is not None:
            raise InvalidFilterError(
                f"{self._terms_over}: {what} has {self.terms} terms; at most {MAX_TERMS} are "
                "allowed"
            )
        if self._values_over is not None:
            raise InvalidFilterError(
                f"{self._values_over}: the in-lists of {what} hold {self.values} values; at most "
                f"{MAX_VALUES} are allowed"
            )
