"""A COCO annotation from an instance row: its geometry, what the import kept in `extra`, and
the defaults COCO readers need (`area` from the geometry, `iscrowd` 0)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from trainingdb.versioning.models import EntityType
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.visibility import visible

from .geometry import area, segmentation
from .ids import Ids, kept_ids
from .rows import Slice

# Keys the export derives from the instance itself: a kept value never overrides them.
_DERIVED = frozenset(
    {"id", "image_id", "category_id", "video_id", "bbox", "segmentation", "score", "attributes"}
)
_CANONICAL_INT = re.compile(r"-?(0|[1-9][0-9]{0,17})")


def annotation_ids(sl: Slice) -> Ids:
    """Annotation ids: kept ones from `extra.id`, anywhere in the version."""
    instance = KINDS[EntityType.INSTANCE].table
    return kept_ids(
        sl.conn,
        select(instance.c.extra["id"].label("id")).where(
            visible(instance, sl.version), instance.c.extra.is_not(None)
        ),
    )


def track_value(track: str) -> Any:
    """A track id as COCO writes it: a number when it is one (COCO's are), else the text."""
    return int(track) if _CANONICAL_INT.fullmatch(track) else track


def annotation(
    row: Any,
    ids: Ids,
    image_id: Any,
    category_id: Any,
    video_id: Any | None,
) -> dict[str, Any]:
    """The annotation of instance `row` on image `image_id` (of video `video_id`)."""
    extra = row.extra if isinstance(row.extra, dict) else {}
    item: dict[str, Any] = {
        "id": ids.take(extra.get("id")),
        "image_id": image_id,
        "category_id": category_id,
    }
    if video_id is not None:
        item["video_id"] = video_id
    if row.x is not None:
        item["bbox"] = [row.x, row.y, row.w, row.h]
    mask = segmentation(row.kind, row.points)
    if mask is not None:
        item["segmentation"] = mask
    if row.score is not None:
        item["score"] = row.score
    if row.attributes:
        item["attributes"] = row.attributes
    if row.track_id is not None:
        # TAO's key and CocoVID's (mmtracking), so either reader finds the track.
        item["track_id"] = item["instance_id"] = track_value(row.track_id)
    item.update((k, v) for k, v in extra.items() if k not in _DERIVED)
    if "area" not in item and (computed := area(row.kind, row.w, row.h, row.points)) is not None:
        item["area"] = computed
    item.setdefault("iscrowd", 0)
    return item
