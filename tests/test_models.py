"""The schema enforces what a database can: value ranges, vocabularies, one alive revision per
entity per branch, references to blobs and commits — and has the indexes head reads need."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, Table, insert, text
from sqlalchemy.exc import IntegrityError

from trainingdb.versioning.models import (
    Base,
    Blob,
    Branch,
    Commit,
    Dataset,
    File,
    Instance,
    Kill,
    Label,
    Tag,
)

SHA = "a" * 64
VERSIONED = ("label", "file", "frame", "instance")


@pytest.fixture
def world(conn: Connection) -> dict[str, Any]:
    """A dataset with a branch, a blob, a label and an image, inside the test's transaction."""
    dataset = conn.scalar(insert(Dataset).values(name="ds").returning(Dataset.id))
    branch = conn.scalar(
        insert(Branch).values(dataset_id=dataset, name="main").returning(Branch.id)
    )
    conn.execute(
        insert(Blob).values(
            dataset_id=dataset, sha256=SHA, size=10, mime="image/png", storage_key="k"
        )
    )
    label, file = uuid.uuid4(), uuid.uuid4()
    base = {"dataset_id": dataset, "branch_id": branch, "seq_from": 1}
    conn.execute(insert(Label).values(**base, entity_id=label, name="car"))
    conn.execute(
        insert(File).values(
            **base,
            entity_id=file,
            name="a.png",
            blob_sha256=SHA,
            media_type="image",
            width=4,
            height=3,
        )
    )
    return {"base": base, "label": label, "file": file, "dataset": dataset, "branch": branch}


def box(world: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    row = {
        **world["base"],
        "entity_id": uuid.uuid4(),
        "file_entity_id": world["file"],
        "label_entity_id": world["label"],
        "kind": "box",
        "x": 0.0,
        "y": 0.0,
        "w": 2.0,
        "h": 1.0,
    }
    row.update(overrides)
    return row


def rejects(conn: Connection, statement: Callable[[], Any], constraint: str) -> None:
    """`statement` fails on `constraint`, and the test's transaction stays usable."""
    savepoint = conn.begin_nested()
    with pytest.raises(IntegrityError, match=constraint):
        conn.execute(statement())
    savepoint.rollback()


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"score": 1.5}, "ck_instance_score_unit_interval"),
        ({"score": -0.1}, "ck_instance_score_unit_interval"),
        ({"frame_number": -1}, "ck_instance_frame_number_non_negative"),
        ({"kind": "blob"}, "ck_instance_kind"),
        ({"source": "oracle"}, "ck_instance_source"),
        ({"w": -1.0}, "ck_instance_extent_non_negative"),
        ({"x": None}, "ck_instance_spatial_bbox"),
        ({"kind": "text_span"}, "ck_instance_text_span_offsets"),
        ({"text_start": 5, "text_end": 2}, "ck_instance_text_offsets"),
        ({"model_run": "m1"}, "ck_instance_model_run_source"),
        ({"attributes": [1, 2]}, "ck_instance_attributes_object"),
        ({"seq_from": 0}, "ck_instance_seq_from_positive"),
        ({"seq_to": 1}, "ck_instance_seq_range"),
        ({"branch_id": 999_999}, "fk_instance_branch"),
    ],
)
def test_instance_constraints(
    conn: Connection, world: dict[str, Any], overrides: dict[str, Any], constraint: str
) -> None:
    rejects(conn, lambda: insert(Instance).values(**box(world, **overrides)), constraint)


def test_instance_rows_keep_their_branch(conn: Connection, world: dict[str, Any]) -> None:
    """Migration 0006's triggers hold what the foreign keys held, a statement at a time."""
    other = conn.scalar(insert(Dataset).values(name="other").returning(Dataset.id))
    rejects(
        conn, lambda: insert(Instance).values(**box(world, dataset_id=other)), "fk_instance_branch"
    )
    many = [box(world) for _ in range(3)] + [box(world, branch_id=world["branch"] + 1)]
    rejects(conn, lambda: insert(Instance).values(many), "fk_instance_branch")
    row = box(world)
    conn.execute(insert(Instance).values(**row))
    twin = conn.scalar(
        insert(Branch).values(dataset_id=world["dataset"], name="twin").returning(Branch.id)
    )
    moved = text("UPDATE instance SET branch_id = :b WHERE entity_id = :e")
    rejects(conn, lambda: moved.bindparams(b=twin, e=row["entity_id"]), "fk_instance_branch")
    on_twin = box(world, branch_id=twin)
    conn.execute(insert(Instance).values(**on_twin))
    deleted = text("DELETE FROM branch WHERE id = :b").bindparams(b=twin)
    rejects(conn, lambda: deleted, "fk_instance_branch")
    conn.execute(text("DELETE FROM instance WHERE entity_id = :e"), {"e": on_twin["entity_id"]})
    conn.execute(deleted)


def test_deleting_a_dataset_deletes_its_instances(conn: Connection, world: dict[str, Any]) -> None:
    conn.execute(insert(Instance).values([box(world) for _ in range(3)]))
    other = conn.scalar(insert(Dataset).values(name="other").returning(Dataset.id))
    kept = conn.scalar(insert(Branch).values(dataset_id=other, name="main").returning(Branch.id))
    conn.execute(insert(Instance).values(box(world, dataset_id=other, branch_id=kept)))
    conn.execute(text("DELETE FROM dataset WHERE id = :d"), {"d": world["dataset"]})
    left = conn.execute(text("SELECT dataset_id, count(*) FROM instance GROUP BY 1")).all()
    assert left == [(other, 1)]


def test_valid_instances_are_accepted(conn: Connection, world: dict[str, Any]) -> None:
    conn.execute(insert(Instance).values(**box(world, score=0.9, source="model", model_run="m1")))
    conn.execute(
        insert(Instance).values(**box(world, kind="classification", x=None, y=None, w=None, h=None))
    )
    conn.execute(
        insert(Instance).values(
            **box(world, kind="text_span", x=None, y=None, w=None, h=None, text_start=0, text_end=4)
        )
    )
    areas = conn.scalars(text("SELECT area FROM instance ORDER BY area NULLS LAST")).all()
    assert areas == [2.0, None, None]


def test_one_alive_revision_per_entity_and_branch(conn: Connection, world: dict[str, Any]) -> None:
    row = box(world)
    conn.execute(insert(Instance).values(**row))
    rejects(
        conn, lambda: insert(Instance).values(**{**row, "seq_from": 2}), "uq_instance_alive_entity"
    )
    # Ending the first revision makes room for the next one.
    conn.execute(
        text("UPDATE instance SET seq_to = 2 WHERE entity_id = :e"), {"e": row["entity_id"]}
    )
    conn.execute(insert(Instance).values(**{**row, "seq_from": 2}))


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"media_type": "hologram"}, "ck_file_media_type"),
        ({"width": 0}, "ck_file_size_positive"),
        ({"fps": 0.0}, "ck_file_fps_positive"),
        ({"frame_count": -2}, "ck_file_length_non_negative"),
        ({"media_type": "video"}, "ck_file_video_timing"),
        ({"blob_sha256": "b" * 64}, "fk_file_dataset_id_blob_sha256_blob"),
        ({"name": "a.png"}, "uq_file_alive_name"),
    ],
)
def test_file_constraints(
    conn: Connection, world: dict[str, Any], overrides: dict[str, Any], constraint: str
) -> None:
    row = {
        **world["base"],
        "entity_id": uuid.uuid4(),
        "name": "b.png",
        "blob_sha256": SHA,
        "media_type": "image",
        "width": 4,
        "height": 3,
    }
    row.update(overrides)
    rejects(conn, lambda: insert(File).values(**row), constraint)


def test_blob_constraints(conn: Connection, world: dict[str, Any]) -> None:
    blob = {"dataset_id": world["dataset"], "mime": "x", "storage_key": "k"}
    rejects(
        conn, lambda: insert(Blob).values(**blob, sha256="../etc", size=1), "ck_blob_sha256_hex"
    )
    rejects(
        conn,
        lambda: insert(Blob).values(**blob, sha256="c" * 64, size=-1),
        "ck_blob_size_non_negative",
    )


def test_refs_constraints(conn: Connection, world: dict[str, Any]) -> None:
    dataset, branch = world["dataset"], world["branch"]
    rejects(
        conn,
        lambda: insert(Branch).values(dataset_id=dataset, name="main"),
        "uq_branch_live_name",
    )
    rejects(
        conn,
        lambda: insert(Branch).values(dataset_id=dataset, name="child", parent_branch_id=branch),
        "ck_branch_fork_point",
    )
    rejects(
        conn,
        lambda: insert(Branch).values(dataset_id=dataset, name="bad name"),
        "ck_branch_name_format",
    )
    # A tag can only name a state that was committed.
    rejects(
        conn,
        lambda: insert(Tag).values(dataset_id=dataset, name="v1", branch_id=branch, seq=1),
        "fk_tag_dataset_id_branch_id_seq_commit",
    )
    conn.execute(insert(Commit).values(dataset_id=dataset, branch_id=branch, seq=1, generation=1))
    conn.execute(insert(Tag).values(dataset_id=dataset, name="v1", branch_id=branch, seq=1))
    rejects(
        conn,
        lambda: insert(Commit).values(dataset_id=dataset, branch_id=branch, seq=1, generation=1),
        "uq_commit_dataset_id_branch_id_seq",
    )
    # Only a root commit (seq 0) has generation 0.
    rejects(
        conn,
        lambda: insert(Commit).values(dataset_id=dataset, branch_id=branch, seq=2, generation=0),
        "ck_commit_root_commit",
    )
    rejects(
        conn,
        lambda: insert(Kill).values(
            dataset_id=dataset, branch_id=branch, row_id=1, seq=1, entity_type="tag"
        ),
        "ck_kill_entity_type",
    )
    rejects(
        conn,
        lambda: insert(Dataset).values(name="has space"),
        "ck_dataset_name_format",
    )


def test_row_ids_are_unique_across_versioned_tables(
    conn: Connection, world: dict[str, Any]
) -> None:
    conn.execute(insert(Instance).values(**box(world)))
    ids = conn.scalars(
        text(
            "SELECT row_id FROM label UNION ALL SELECT row_id FROM file"
            " UNION ALL SELECT row_id FROM instance"
        )
    ).all()
    assert len(ids) == len(set(ids)) == 3


def test_every_large_table_leads_its_primary_key_with_dataset_id() -> None:
    # audit_event stays on the coordinator under Citus: many of its rows name no dataset.
    small = {"team", "member", "api_key", "dataset", "audit_event"}
    for table in Base.metadata.sorted_tables:
        if table.name not in small:
            assert table.primary_key.columns.keys()[0] == "dataset_id", table.name


@pytest.mark.parametrize("table", VERSIONED)
def test_head_reads_have_partial_indexes(conn: Connection, table: str) -> None:
    indexes = conn.execute(
        text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t"), {"t": table}
    ).all()
    alive = {name for name, definition in indexes if definition.endswith("WHERE (seq_to IS NULL)")}
    assert f"uq_{table}_alive_entity" in alive


def test_versioned_tables_share_the_revision_columns() -> None:
    for name in VERSIONED:
        table: Table = Base.metadata.tables[name]
        assert table.columns.keys()[:6] == [
            "dataset_id",
            "row_id",
            "entity_id",
            "branch_id",
            "seq_from",
            "seq_to",
        ]
