"""Cell-level three-way merge of one entity: field by field, JSON objects key by key.

A cell is a content field, or one key of a JSON-object field (`attributes`, `metadata`,
`attribute_schema`; named `attributes.color`). With base b, ours o (the target) and theirs t
(the source), a cell takes o when o == t, t when o == b, o when t == b; otherwise both sides
changed it to different values: a conflict on that cell, settled by the strategy for it (its key
path first, then its field, then the merge's default) — fail leaves it standing, ours takes o,
theirs takes t. "Absent" is a value of its own: the base of an entity both sides added, a key
one side does not have.

An entity removed on one side and changed (or added) on the other has no cells to merge: it is
an entity-level conflict, settled by the default strategy. A result that mixes both sides'
cells is checked again as a whole (`Outcome.mixed`): two valid sides can make an invalid entity
(a text span whose start one side moved past the end the other side moved back).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from .errors import Conflict, FieldConflict, InvalidInputError
from .tables import KINDS, Kind

Content = dict[str, Any]
ChangeKind = Literal["added", "removed", "modified"]


class Strategy(StrEnum):
    FAIL = "fail"
    OURS = "ours"
    THEIRS = "theirs"


class _Absent:
    def __repr__(self) -> str:
        return "absent"


ABSENT: Any = _Absent()


def json_fields(kind: Kind) -> frozenset[str]:
    """The content fields of `kind` that hold JSON objects (merged key by key)."""
    return frozenset(f for f in kind.content if kind.column(f).info.get("json_object"))


def _strategy(value: object, where: str) -> Strategy:
    try:
        return Strategy(str(value))
    except ValueError:
        names = ", ".join(s.value for s in Strategy)
        raise InvalidInputError(f"{where}: {value!r} is not one of {names}") from None


@dataclass(frozen=True, slots=True)
class Strategies:
    """The merge's default strategy and its per-field (or per-key) overrides."""

    default: Strategy
    fields: Mapping[str, Strategy] = field(default_factory=dict)

    @classmethod
    def parse(cls, default: object, fields: Mapping[str, object] | None = None) -> Strategies:
        """Checked strategies: every override names a content field of some kind, or a key of a
        JSON-object field (`attributes.color`); BAD_USER_INPUT naming what is wrong."""
        known = {f for kind in KINDS.values() for f in kind.content}
        objects = {f for kind in KINDS.values() for f in json_fields(kind)}
        checked: dict[str, Strategy] = {}
        for path, value in (fields or {}).items():
            name, dot, key = path.partition(".")
            if name not in known or (dot and (name not in objects or not key)):
                raise InvalidInputError(
                    f"field strategy {path!r}: not a content field"
                    + (" of JSON objects" if dot and name in known else "")
                    + f"; fields are {', '.join(sorted(known))}"
                )
            checked[path] = _strategy(value, f"field strategy {path!r}")
        return cls(_strategy(default, "merge strategy"), checked)

    def for_cell(self, path: str) -> Strategy:
        return self.fields.get(path) or self.fields.get(path.split(".", 1)[0]) or self.default


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the target should hold for one entity (`write` False: keep what it has)."""

    write: bool
    content: Content | None
    conflict: Conflict | None
    standing: bool  # a conflict the strategy left to the user
    mixed: bool  # content combines both sides' cells: check it again as a whole


def _shown(value: Any) -> Any:
    return None if value is ABSENT else value


def _cell(
    path: str,
    b: Any,
    o: Any,
    t: Any,
    strategies: Strategies,
    found: list[tuple[FieldConflict, str]],
) -> tuple[Any, bool]:
    """The merged cell, and whether a conflict on it stands."""
    if o == t or t == b:
        return o, False
    if o == b:
        return t, False
    said = f"{path}: base {b!r}, target {o!r}, source {t!r}"
    found.append((FieldConflict(path, _shown(b), _shown(o), _shown(t)), said))
    choice = strategies.for_cell(path)
    return (t if choice is Strategy.THEIRS else o), choice is Strategy.FAIL


def _describe(kind: str, entity_id: uuid.UUID, source: ChangeKind, target: ChangeKind) -> str:
    return f"{kind} {entity_id}: {target} on the target, {source} on the source"


def merge_entity(
    kind: Kind,
    entity_id: uuid.UUID,
    base: Content | None,
    ours: Content | None,
    theirs: Content | None,
    strategies: Strategies,
) -> Outcome:
    """merge_entity: the three-way merge of one entity both sides changed (module docstring)."""
    source: ChangeKind = "added" if base is None else ("removed" if theirs is None else "modified")
    target: ChangeKind = "added" if base is None else ("removed" if ours is None else "modified")
    if ours == theirs:
        return Outcome(False, ours, None, False, False)
    if ours is None or theirs is None:
        choice = strategies.default
        message = _describe(kind.type.value, entity_id, source, target)
        conflict = Conflict(kind.type.value, entity_id, source, target, message)
        taken = theirs if choice is Strategy.THEIRS else ours
        return Outcome(taken is theirs, taken, conflict, choice is Strategy.FAIL, False)
    objects = json_fields(kind)
    found: list[tuple[FieldConflict, str]] = []
    standing = False
    merged: Content = {}
    for name in kind.content:
        b = ABSENT if base is None else base[name]
        o, t = ours[name], theirs[name]
        if name in objects and isinstance(o, dict) and isinstance(t, dict):
            b_keys = b if isinstance(b, dict) else {}
            result = {}
            for key in sorted({*b_keys, *o, *t}):
                value, stands = _cell(
                    f"{name}.{key}",
                    b_keys.get(key, ABSENT),
                    o.get(key, ABSENT),
                    t.get(key, ABSENT),
                    strategies,
                    found,
                )
                standing |= stands
                if value is not ABSENT:
                    result[key] = value
            merged[name] = result
        else:
            merged[name], stands = _cell(name, b, o, t, strategies, found)
            standing |= stands
    found_conflict: Conflict | None = None
    if found:
        details = "; ".join(said for _, said in found)
        message = f"{_describe(kind.type.value, entity_id, source, target)}: {details}"
        cells = tuple(c for c, _ in found)
        found_conflict = Conflict(kind.type.value, entity_id, source, target, message, cells)
    return Outcome(merged != ours, merged, found_conflict, standing, merged not in (ours, theirs))
