"""Aggregates over the instances a version holds that match a filter: counts by label, by kind
and by frame, and histograms of score and area.

`Dataset.instanceStats(version, where, query)` resolves the version once; each field selected
under it is then one SQL statement over the same filtered rows (the rows a page of `instances`
with the same arguments would list), grouped in PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from sqlalchemy import Connection, Float, Subquery, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.models import EntityType
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.versions import Version
from trainingdb.versioning.visibility import visible

from .context import Context, run_read
from .edit_inputs import entity_uuid
from .filters.ast import Filter
from .filters.fields import INSTANCES
from .shapes import MAX_PAGE, Shaper

Info = strawberry.Info[Context, None]
T = TypeVar("T")
MAX_BUCKETS = 1000


@strawberry.type(description="How many matching instances carry one label.")
class LabelCount:
    label_id: strawberry.ID
    name: str
    count: int


@strawberry.type(description="How many matching instances have one value of a field.")
class ValueCount:
    value: str
    count: int


@strawberry.type(description="How many matching instances one video frame holds.")
class FrameCount:
    file_id: strawberry.ID
    frame_number: int
    count: int


@strawberry.type(description="One bucket of a histogram: values in [lower, upper).")
class Bucket:
    lower: float
    upper: float = strawberry.field(description="Excluded, except in the last bucket.")
    count: int


def _buckets(n: int, where: str) -> int:
    if not 1 <= n <= MAX_BUCKETS:
        raise InvalidInputError(f"{where}: between 1 and {MAX_BUCKETS} buckets, not {n}")
    return n


def _bucket_of(value: ColumnElement[Any], lo: Any, hi: Any, n: int) -> ColumnElement[Any]:
    """1..n for `value` in [lo, hi] cut in n equal buckets (hi falls in the last one)."""
    width = hi - lo
    raw = func.floor((value - lo) / func.nullif(width, 0) * n) + 1
    return case((width == 0, 1), else_=func.least(raw, n))


def _histogram(found: dict[int, int], lo: float, hi: float, n: int) -> list[Bucket]:
    step = (hi - lo) / n
    return [
        Bucket(
            lower=lo + step * (i - 1),
            upper=hi if i == n else lo + step * i,
            count=found.get(i, 0),
        )
        for i in range(1, n + 1)
    ]


@dataclass
class _Rows:
    """The matching instance rows of one version, as a subquery, for one statement."""

    version: Version
    rows: Subquery


@strawberry.type(description="Aggregates over the instances matching a filter at a version.")
class InstanceStats:
    version: strawberry.Private[Version]
    filter: strawberry.Private[Filter]

    @classmethod
    async def at(cls, info: Info, dataset_id: int, ref: str, args: dict[str, Any]) -> InstanceStats:
        """Resolves the version and parses the filter once, for every aggregate selected."""
        gate = info.context.gate
        version = await run_read(info.context.engine, lambda c: gate.version(c, dataset_id, ref))
        return cls(
            version=version, filter=Shaper(version).filter_of(INSTANCES, args, "instanceStats")
        )

    async def _read(self, info: Info, read: Callable[[Connection, _Rows], T]) -> T:
        def call(conn: Connection) -> T:
            shaper = Shaper(self.version)
            table = KINDS[EntityType.INSTANCE].table
            flt = self.filter
            condition = shaper.compiler.condition(INSTANCES, flt, table, "instanceStats.where")
            rows = select(table).where(visible(table, shaper.version), condition).subquery("rows")
            return read(conn, _Rows(shaper.version, rows))

        return await run_read(info.context.engine, call)

    @strawberry.field(description="How many instances match.")
    async def count(self, info: Info) -> int:
        return await self._read(
            info, lambda conn, r: int(conn.scalar(select(func.count()).select_from(r.rows)) or 0)
        )

    @strawberry.field(description="Matching instances per label, most frequent first.")
    async def by_label(self, info: Info) -> list[LabelCount]:
        def read(conn: Connection, r: _Rows) -> list[LabelCount]:
            labels = KINDS[EntityType.LABEL].table.alias("labels")
            counts = (
                select(r.rows.c.label_entity_id.label("id"), func.count().label("n"))
                .group_by(r.rows.c.label_entity_id)
                .subquery("counts")
            )
            name = (
                select(labels.c.name)
                .where(visible(labels, r.version), labels.c.entity_id == counts.c.id)
                .scalar_subquery()
            )
            statement = select(counts.c.id, name, counts.c.n).order_by(
                counts.c.n.desc(), counts.c.id
            )
            return [
                LabelCount(label_id=strawberry.ID(str(i)), name=label, count=n)
                for i, label, n in conn.execute(statement)
            ]

        return await self._read(info, read)

    @strawberry.field(description="Matching instances per kind (box, polygon ...).")
    async def by_kind(self, info: Info) -> list[ValueCount]:
        return await self._by_value(info, "kind")

    @strawberry.field(description="Matching instances per source (human, model).")
    async def by_source(self, info: Info) -> list[ValueCount]:
        return await self._by_value(info, "source")

    async def _by_value(self, info: Info, column: str) -> list[ValueCount]:
        def read(conn: Connection, r: _Rows) -> list[ValueCount]:
            value = r.rows.c[column]
            statement = (
                select(value, func.count().label("n"))
                .group_by(value)
                .order_by(func.count().desc(), value)
            )
            return [ValueCount(value=v, count=n) for v, n in conn.execute(statement)]

        return await self._read(info, read)

    @strawberry.field(
        description="Matching frame-level instances per video frame, by file then frame "
        "number; frames with none are not listed."
    )
    async def by_frame(
        self, info: Info, file: strawberry.ID | None = None, first: int = 1000
    ) -> list[FrameCount]:
        if not 1 <= first <= MAX_PAGE:
            raise InvalidInputError(f"byFrame.first: between 1 and {MAX_PAGE}, not {first}")
        file_id = None if file is None else entity_uuid(file, "byFrame.file")

        def read(conn: Connection, r: _Rows) -> list[FrameCount]:
            c = r.rows.c
            statement = (
                select(c.file_entity_id, c.frame_number, func.count())
                .where(c.frame_number.is_not(None))
                .group_by(c.file_entity_id, c.frame_number)
                .order_by(c.file_entity_id, c.frame_number)
                .limit(first)
            )
            if file_id is not None:
                statement = statement.where(c.file_entity_id == file_id)
            return [
                FrameCount(file_id=strawberry.ID(str(f)), frame_number=n, count=k)
                for f, n, k in conn.execute(statement)
            ]

        return await self._read(info, read)

    @strawberry.field(
        description="Scores of matching instances in `buckets` equal buckets over [0, 1]; "
        "instances without a score are not counted."
    )
    async def score_histogram(self, info: Info, buckets: int = 10) -> list[Bucket]:
        n = _buckets(buckets, "scoreHistogram.buckets")

        def read(conn: Connection, r: _Rows) -> list[Bucket]:
            bucket = _bucket_of(r.rows.c.score, 0.0, 1.0, n)
            statement = (
                select(bucket, func.count()).where(r.rows.c.score.is_not(None)).group_by(bucket)
            )
            return _histogram({int(b): k for b, k in conn.execute(statement)}, 0.0, 1.0, n)

        return await self._read(info, read)

    @strawberry.field(
        description="Areas (w * h) of matching instances in `buckets` equal buckets from the "
        "smallest to the largest; empty when no matching instance has an area."
    )
    async def area_histogram(self, info: Info, buckets: int = 10) -> list[Bucket]:
        n = _buckets(buckets, "areaHistogram.buckets")

        def read(conn: Connection, r: _Rows) -> list[Bucket]:
            area = cast(r.rows.c.area, Float)
            bounds = (
                select(func.min(area).label("lo"), func.max(area).label("hi"))
                .where(area.is_not(None))
                .subquery("bounds")
            )
            lo, hi = bounds.c.lo, bounds.c.hi
            bucket = _bucket_of(area, lo, hi, n)
            statement = (
                select(lo, hi, bucket, func.count())
                .select_from(r.rows.join(bounds, area.is_not(None)))
                .group_by(lo, hi, bucket)
            )
            found = conn.execute(statement).all()
            if not found:
                return []
            low, high = float(found[0][0]), float(found[0][1])
            return _histogram({int(b): k for _, _, b, k in found}, low, high, n)

        return await self._read(info, read)
