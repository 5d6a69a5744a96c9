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
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


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
