"""diff: entities whose visible content differs between two versions; O(changes).

Two versions share a prefix of the branch tree: the first branch of `a`'s lineage that `b`'s
lineage also has, seen by both up to the smaller of their two seqs (the common ancestor). Only
writes after it can make them differ: on each side, everything the branches before that shared
branch wrote up to their seq, and what the shared branch wrote between the common seq and the
side's own. Those writes (rows begun or ended, kills) name the candidate entities; the visible
revisions of just those are then compared by content.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, Select, and_, select, union

from .models import EntityType, Kill
from .revisions import Content, current_rows
from .tables import KINDS, Kind
from .versions import Version, resolve

ChangeKind = Literal["added", "removed", "modified"]
CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Change:
    kind: EntityType
    entity_id: uuid.UUID
    change: ChangeKind
    before: Content | None
    after: Content | None


@dataclass(frozen=True, slots=True)
class Span:
    """Writes of `branch_id` with seq in (lo, hi]."""

    branch_id: int
    lo: int
    hi: int


def divergence(a: Version, b: Version) -> list[Span]:
    """The spans of writes, on both sides, since the common ancestor of `a` and `b`."""
    b_index = {entry.branch_id: i for i, entry in enumerate(b.lineage)}
    spans: list[Span] = []
    for entry in a.lineage:
        j = b_index.get(entry.branch_id)
        if j is None:
            spans.append(Span(entry.branch_id, 0, entry.seq))
            continue
        shared = b.lineage[j]
        common = min(entry.seq, shared.seq)
        spans.append(Span(entry.branch_id, common, entry.seq))
        spans.append(Span(entry.branch_id, common, shared.seq))
        spans += [Span(e.branch_id, 0, e.seq) for e in b.lineage[:j]]
        return [s for s in spans if s.hi > s.lo]
    raise AssertionError("versions of one dataset share the root branch")


def _written(kind: Kind, dataset_id: int, span: Span) -> list[Select[Any]]:
    table, kill = kind.table, Kill.__table__
    mine = and_(table.c.dataset_id == dataset_id, table.c.branch_id == span.branch_id)
    return [
        select(table.c.entity_id).where(
            mine, table.c.seq_from > span.lo, table.c.seq_from <= span.hi
        ),
        select(table.c.entity_id).where(mine, table.c.seq_to > span.lo, table.c.seq_to <= span.hi),
        select(table.c.entity_id)
        .select_from(
            kill.join(
                table,
                and_(table.c.dataset_id == kill.c.dataset_id, table.c.row_id == kill.c.row_id),
            )
        )
        .where(
            kill.c.dataset_id == dataset_id,
            kill.c.branch_id == span.branch_id,
            kill.c.seq > span.lo,
            kill.c.seq <= span.hi,
            kill.c.entity_type == kind.type.value,
        ),
    ]


def candidates(conn: Connection, kind: Kind, a: Version, b: Version) -> list[uuid.UUID]:
    """Entities of `kind` written on either side since the common ancestor; one statement."""
    spans = divergence(a, b)
    if not spans:
        return []
    parts = [q for span in spans for q in _written(kind, a.dataset_id, span)]
    return list(conn.scalars(union(*parts)))


def diff_versions(
    conn: Connection,
    a: Version,
    b: Version,
    after: tuple[EntityType, uuid.UUID] | None = None,
) -> Iterator[Change]:
    """Changes from version `a` to version `b`, by kind then entity id, streamed in chunks;
    with `after`, only those past that (kind, entity id), so a page resumes where one ended."""
    kinds = list(EntityType)
    for kind in kinds:
        if after is not None and kinds.index(kind) < kinds.index(after[0]):
            continue
        spec = KINDS[kind]
        # Sorted: a diff lists the same changes in the same order every time (pages resume).
        ids = sorted(candidates(conn, spec, a, b))
        if after is not None and kind is after[0]:
            ids = [eid for eid in ids if eid > after[1]]
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            in_a = current_rows(conn, spec, a, chunk)
            in_b = current_rows(conn, spec, b, chunk)
            for eid in chunk:
                old, new = in_a.get(eid), in_b.get(eid)
                if old is None and new is not None:
                    yield Change(kind, eid, "added", None, new.content)
                elif old is not None and new is None:
                    yield Change(kind, eid, "removed", old.content, None)
                elif old is not None and new is not None and old.content != new.content:
                    yield Change(kind, eid, "modified", old.content, new.content)


def diff(
    conn: Connection,
    dataset_id: int,
    a: str,
    b: str,
    after: tuple[EntityType, uuid.UUID] | None = None,
) -> Iterator[Change]:
    """diff: entities whose content differs between versions `a` and `b` (past `after`, if
    given); O(changes)."""
    return diff_versions(conn, resolve(conn, dataset_id, a), resolve(conn, dataset_id, b), after)


@dataclass(frozen=True, slots=True)
class DiffSummary:
    by_kind: dict[tuple[EntityType, ChangeKind], int] = field(default_factory=dict)
    # Instances by label name: after the change, or before it for a removal.
    by_label: dict[tuple[str, ChangeKind], int] = field(default_factory=dict)


def diff_summary(conn: Connection, dataset_id: int, a: str, b: str) -> DiffSummary:
    """Counts of `diff(a, b)` per kind and change, and of instance changes per label."""
    va, vb = resolve(conn, dataset_id, a), resolve(conn, dataset_id, b)
    by_kind: Counter[tuple[EntityType, ChangeKind]] = Counter()
    label_ids: Counter[tuple[uuid.UUID, ChangeKind]] = Counter()
    for change in diff_versions(conn, va, vb):
        by_kind[(change.kind, change.change)] += 1
        if change.kind is EntityType.INSTANCE:
            content = change.after or change.before
            assert content is not None
            label_ids[(content["label_entity_id"], change.change)] += 1
    labels = KINDS[EntityType.LABEL]
    ids = {label for label, _ in label_ids}
    names = {eid: cur.content["name"] for eid, cur in current_rows(conn, labels, va, ids).items()}
    names |= {eid: cur.content["name"] for eid, cur in current_rows(conn, labels, vb, ids).items()}
    by_label: Counter[tuple[str, ChangeKind]] = Counter()
    for (label, change_kind), count in label_ids.items():
        by_label[(names.get(label, str(label)), change_kind)] += count
    return DiffSummary(dict(by_kind), dict(by_label))
