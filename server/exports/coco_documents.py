"""The document-level keys of a COCO export (`info`, `licenses`, ...): those of the imports
the exported files came from (`source_document`, ingest/coco_sources.py).

One import: its document as it was. Several: lists (`licenses`) are merged, each distinct item
once, in import order; any other value (`info`) is the earliest import's, since COCO has room
for one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

import orjson
from sqlalchemy import Connection, select

from trainingdb.versioning.models.entities import SourceDocument

# The keys the export writes itself.
_OWN = frozenset({"images", "videos", "categories", "annotations"})


def documents(
    conn: Connection, dataset_id: int, digests: Collection[str]
) -> Iterator[tuple[str, Any]]:
    """(key, value) of the merged documents named by `digests`."""
    if not digests:
        return
    rows = conn.execute(
        select(SourceDocument.content)
        .where(SourceDocument.dataset_id == dataset_id, SourceDocument.digest.in_(sorted(digests)))
        .order_by(SourceDocument.created_at, SourceDocument.digest)
    ).scalars()
    merged: dict[str, Any] = {}
    seen: dict[str, set[bytes]] = {}
    for content in rows:
        for key, value in content.items():
            if key in _OWN:
                continue
            if key not in merged:
                merged[key] = list(value) if isinstance(value, list) else value
                if isinstance(value, list):
                    seen[key] = {orjson.dumps(item, option=orjson.OPT_SORT_KEYS) for item in value}
            elif isinstance(merged[key], list) and isinstance(value, list):
                for item in value:
                    canonical = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
                    if canonical not in seen[key]:
                        seen[key].add(canonical)
                        merged[key].append(item)
    yield from merged.items()
