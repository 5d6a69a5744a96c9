"""Migration 0009 builds the commit graph of data written before it: root commits, parents
from forks and recorded merges, generations, and commit rows an old gc had removed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import URL, Connection, Engine, create_engine, text

import trainingdb.migrations as migrations
from trainingdb import versioning as v


@pytest.fixture
def old_engine(empty_database_url: URL) -> Iterator[Engine]:
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        migrations.upgrade(conn, "0008")
    yield engine
    engine.dispose()


def _branch(
    conn: Connection, ds: int, name: str, parent: int | None, fork: int | None, head: int
) -> int:
    found: int = conn.execute(
        text(
            "INSERT INTO branch (dataset_id, name, parent_branch_id, fork_seq, head_seq)"
            " VALUES (:ds, :name, :parent, :fork, :head) RETURNING id"
        ),
        {"ds": ds, "name": name, "parent": parent, "fork": fork, "head": head},
    ).scalar_one()
    return found


def _commit(
    conn: Connection, ds: int, branch: int, seq: int, merged: tuple[int, int] | None = None
) -> uuid.UUID:
    found: uuid.UUID = conn.execute(
        text(
            "INSERT INTO commit (dataset_id, branch_id, seq, message, merged_branch_id, merged_seq)"
            " VALUES (:ds, :b, :s, :m, :mb, :ms) RETURNING id"
        ),
        {
            "ds": ds,
            "b": branch,
            "s": seq,
            "m": f"{branch}@{seq}",
            "mb": merged[0] if merged else None,
            "ms": merged[1] if merged else None,
        },
    ).scalar_one()
    return found


def _graph(
    conn: Connection, ds: int
) -> dict[tuple[int, int], tuple[int, list[tuple[int, int]], str]]:
    """(branch, seq) -> (generation, parents as (branch, seq), message)."""
    rows = conn.execute(
        text(
            "SELECT c.branch_id, c.seq, c.generation, c.message,"
            " coalesce(array_agg(p.branch_id || '@' || p.seq ORDER BY e.position)"
            "          FILTER (WHERE e.position IS NOT NULL), '{}') AS parents"
            " FROM commit c"
            " LEFT JOIN commit_parent e ON e.dataset_id = c.dataset_id AND e.commit_id = c.id"
            " LEFT JOIN commit p ON p.dataset_id = e.dataset_id AND p.id = e.parent_id"
            " WHERE c.dataset_id = :ds GROUP BY c.branch_id, c.seq, c.generation, c.message"
        ),
        {"ds": ds},
    )
    return {
        (r.branch_id, r.seq): (
            r.generation,
            [(int(b), int(s)) for b, s in (p.split("@") for p in r.parents)],
            r.message,
        )
        for r in rows
    }


def test_upgrade_links_forks_merges_and_restores_removed_commits(old_engine: Engine) -> None:
    with old_engine.begin() as conn:
        ds = conn.execute(
            text("INSERT INTO dataset (name, default_branch) VALUES ('old', 'main') RETURNING id")
        ).scalar_one()
        main = _branch(conn, ds, "main", None, None, 3)
        a = _branch(conn, ds, "a", main, 1, 2)
        b = _branch(conn, ds, "b", a, 0, 1)  # made from a fresh branch: from main@1
        gone = _branch(conn, ds, "gone", main, 2, 2)
        conn.execute(text("UPDATE branch SET deleted_at = now() WHERE id = :g"), {"g": gone})
        _commit(conn, ds, main, 1)
        _commit(conn, ds, main, 2)
        _commit(conn, ds, a, 1)
        _commit(conn, ds, a, 2, merged=(main, 2))
        _commit(conn, ds, b, 1)
        # gone@1 and gone@2 were removed by the old gc; main merged gone@2.
        _commit(conn, ds, main, 3, merged=(gone, 2))
        other = conn.execute(
            text("INSERT INTO dataset (name, default_branch) VALUES ('empty', 'main') RETURNING id")
        ).scalar_one()
        lone = _branch(conn, other, "main", None, None, 0)
    with old_engine.begin() as conn:
        migrations.upgrade(conn)
        graph = _graph(conn, ds)
        restored = graph.pop((gone, 2))
        assert restored[:2] == (3, [(main, 2)])
        assert "restored by migration 0009" in restored[2]
        assert {k: g[:2] for k, g in graph.items()} == {
            (main, 0): (0, []),
            (main, 1): (1, [(main, 0)]),
            (main, 2): (2, [(main, 1)]),
            (main, 3): (4, [(main, 2), (gone, 2)]),
            (a, 1): (2, [(main, 1)]),
            (a, 2): (3, [(a, 1), (main, 2)]),
            (b, 1): (2, [(main, 1)]),
        }
        assert _graph(conn, other) == {(lone, 0): (0, [], "Dataset created")}
        # The engine works on the migrated graph.
        assert (v.merge_base(conn, ds, "a", "main").branch_id, 2) == (main, 2)
        assert v.merge_base(conn, ds, "b", "a").seq == 1
        assert len(v.log(conn, ds, "main")) == 5
        made = v.commit(conn, ds, "b", "after")
        assert made.generation == 3
    with old_engine.begin() as conn:
        migrations.downgrade(conn, "0008")
        merged = conn.execute(
            text(
                "SELECT merged_branch_id, merged_seq FROM commit WHERE branch_id = :a AND seq = 2"
            ),
            {"a": a},
        ).one()
        assert tuple(merged) == (main, 2)
        assert conn.scalar(text("SELECT count(*) FROM commit WHERE seq = 0")) == 0
