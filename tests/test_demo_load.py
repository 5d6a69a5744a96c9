"""The demo dataset: what `trainingdb demo` loads, written by the row rules, loaded once."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from trainingdb.server.blobs import LocalBlobStore
from trainingdb.server.demo.load import DemoSummary, load_demo


@pytest.fixture(scope="module")
def blob_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("blobs")


@pytest.fixture(scope="module")
def loaded(engine: Engine, blob_root: Path) -> DemoSummary:
    return load_demo(engine, LocalBlobStore(blob_root))


def scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.scalar(text(sql))


def test_summary(loaded: DemoSummary) -> None:
    assert loaded.created
    assert loaded.dataset == "street-scenes"
    assert loaded.files == 5
    assert loaded.instances > 30
    assert loaded.branches == ("main", "team-a")
    assert loaded.tags == ("v1",)


def test_every_blob_is_in_the_store_with_its_hash(
    engine: Engine, loaded: DemoSummary, blob_root: Path
) -> None:
    store = LocalBlobStore(blob_root)
    with engine.connect() as conn:
        blobs = conn.execute(text("SELECT sha256, size, mime FROM blob")).all()
    assert {mime for _, _, mime in blobs} == {"image/png", "video/mp4"}
    for sha, size, _ in blobs:
        with store.open(sha) as stream:
            data = stream.read()
        assert len(data) == size
        assert hashlib.sha256(data).hexdigest() == sha


def test_video_has_frame_level_instances_on_tracks(engine: Engine, loaded: DemoSummary) -> None:
    with engine.connect() as conn:
        frame_count, fps = conn.execute(
            text("SELECT frame_count, fps FROM file WHERE media_type = 'video'")
        ).one()
        tracks = conn.execute(
            text(
                "SELECT track_id, count(*), max(frame_number) FROM instance"
                " WHERE frame_number IS NOT NULL GROUP BY track_id ORDER BY track_id"
            )
        ).all()
        keyframes = conn.scalars(text("SELECT frame_number FROM frame ORDER BY 1")).all()
    assert len(tracks) == 2
    for _track, count, last in tracks:
        assert count > 1
        assert last < frame_count
    assert keyframes == list(range(0, frame_count, int(fps)))


def test_versions(engine: Engine, loaded: DemoSummary) -> None:
    # main: the root commit and two commits; v1 names the first.
    assert (
        scalar(
            engine,
            "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM commit c "
            "JOIN branch b ON b.id = c.branch_id WHERE b.name = 'main'",
        )
        == "0,1,2"
    )
    assert (
        scalar(
            engine,
            "SELECT b.name || '@' || t.seq FROM tag t "
            "JOIN branch b ON b.id = t.branch_id WHERE t.name = 'v1'",
        )
        == "main@1"
    )
    # main recoloured a label it owns: the old revision ends at 2, the new one starts there.
    assert (
        scalar(
            engine,
            "SELECT string_agg(color || ':' || seq_from || '-' || coalesce(seq_to::text, ''), ' '"
            " ORDER BY seq_from) FROM label WHERE name = 'traffic_light'",
        )
        == "#ffe119:1-2 #ff8c00:2-"
    )
    # team-a forked at main@1, hid one inherited box and wrote its replacement (same entity).
    assert scalar(engine, "SELECT fork_seq FROM branch WHERE name = 'team-a'") == 1
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM kill k JOIN instance old ON old.row_id = k.row_id"
            " JOIN instance new ON new.entity_id = old.entity_id AND new.branch_id = k.branch_id",
        )
        == 1
    )
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM instance i JOIN branch b ON b.id = i.branch_id"
            " WHERE b.name = 'team-a' AND i.model_run = 'detector-v2' AND i.score BETWEEN 0 AND 1",
        )
        > 0
    )


def test_loading_again_changes_nothing(
    engine: Engine, loaded: DemoSummary, blob_root: Path
) -> None:
    before = scalar(engine, "SELECT count(*) FROM instance")
    again = load_demo(engine, LocalBlobStore(blob_root))
    assert not again.created
    assert (again.files, again.instances, again.branches) == (
        loaded.files,
        loaded.instances,
        loaded.branches,
    )
    assert scalar(engine, "SELECT count(*) FROM instance") == before
