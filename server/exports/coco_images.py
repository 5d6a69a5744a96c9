"""What a COCO export lists as images and videos, read in SQL.

An image is a key (file, frame): a still image, a video's frame, or a video itself when an
instance is on the whole video (frame NULL). The keys are those the slice's instances are on;
a whole-version export adds every file and every frame row (a frame an import listed, or one
that carries data of its own), so what nobody annotated is exported too. Videos are listed
once each in `videos`, whatever their frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, and_, func, literal, null, select, union_all

from trainingdb.versioning.models import EntityType, MediaType
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.visibility import visible

from .ids import Ids, kept_ids
from .rows import Slice

_IMAGE_ID = ("coco", "image", "id")


def _touched(sl: Slice) -> Select[Any]:
    instance = KINDS[EntityType.INSTANCE].table
    return select(instance.c.file_entity_id).where(*sl.matching())


def videos(sl: Slice) -> list[Any]:
    """The videos of the export (all of a whole version's; those the slice touches)."""
    file = KINDS[EntityType.FILE].table
    statement = select(
        file.c.entity_id, file.c.name, file.c.width, file.c.height, file.c["metadata"]
    ).where(visible(file, sl.version), file.c.media_type == MediaType.VIDEO.value)
    if not sl.whole:
        statement = statement.where(file.c.entity_id.in_(_touched(sl)))
    return list(sl.conn.execute(statement.order_by(file.c.entity_id)))


def image_ids(sl: Slice) -> Ids:
    """Image ids: kept ones from files' and frames' `metadata.coco.image.id`, anywhere in the
    version (a superset of the export's, so fresh ids collide with none)."""
    file = KINDS[EntityType.FILE].table
    frame = KINDS[EntityType.FRAME].table
    kept = union_all(
        select(file.c["metadata"][_IMAGE_ID].label("id")).where(visible(file, sl.version)),
        select(frame.c["metadata"][_IMAGE_ID].label("id")).where(visible(frame, sl.version)),
    ).subquery()
    return kept_ids(sl.conn, select(kept.c.id))


def images(sl: Slice) -> Iterator[Any]:
    """One row per image key, with its file and frame row, by file then frame (NULL first);
    `annotated` says whether an exported instance is on it."""
    version = sl.version
    instance = KINDS[EntityType.INSTANCE].table
    parts: list[Select[Any]] = [
        select(
            instance.c.file_entity_id.label("file_id"),
            instance.c.frame_number.label("frame"),
            literal(True).label("annotated"),
        ).where(*sl.matching())
    ]
    if sl.whole:
        frame_row = KINDS[EntityType.FRAME].table
        every = KINDS[EntityType.FILE].table
        parts.append(
            select(frame_row.c.file_entity_id, frame_row.c.frame_number, literal(False)).where(
                visible(frame_row, version)
            )
        )
        parts.append(
            select(every.c.entity_id, null(), literal(False)).where(visible(every, version))
        )
    keys = union_all(*parts).subquery("keys")
    grouped = (
        select(keys.c.file_id, keys.c.frame, func.bool_or(keys.c.annotated).label("annotated"))
        .group_by(keys.c.file_id, keys.c.frame)
        .subquery("grouped")
    )
    file = KINDS[EntityType.FILE].table.alias("f")
    frame = KINDS[EntityType.FRAME].table.alias("fr")
    statement = (
        select(
            file.c.entity_id,
            file.c.name,
            file.c.media_type,
            file.c.width,
            file.c.height,
            file.c["metadata"],
            grouped.c.frame,
            grouped.c.annotated,
            frame.c["metadata"].label("frame_metadata"),
        )
        .join(file, and_(file.c.entity_id == grouped.c.file_id, visible(file, version)))
        .outerjoin(
            frame,
            and_(
                frame.c.file_entity_id == grouped.c.file_id,
                frame.c.frame_number == grouped.c.frame,
                visible(frame, version),
            ),
        )
        .order_by(file.c.entity_id, grouped.c.frame.nulls_first())
    )
    return sl.stream(statement)
