"""The Alembic revisions build exactly the schema the models describe, and undo cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import URL, Engine, create_engine, inspect, text

import trainingdb.migrations as migrations
from trainingdb.versioning.models import Base


@pytest.fixture
def empty_engine(empty_database_url: URL) -> Iterator[Engine]:
    engine = create_engine(empty_database_url)
    yield engine
    engine.dispose()


def schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_head_matches_the_models(empty_engine: Engine) -> None:
    with empty_engine.begin() as conn:
        migrations.upgrade(conn)
    assert schema_diff(empty_engine) == []
    with empty_engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == migrations.head_revision()


def test_primary_keys_keep_the_models_column_order(empty_engine: Engine) -> None:
    """Autogenerate ignores key column order, which decides what a key's index can serve."""
    with empty_engine.begin() as conn:
        migrations.upgrade(conn)
    inspector = inspect(empty_engine)
    for table in Base.metadata.sorted_tables:
        in_database = inspector.get_pk_constraint(table.name)["constrained_columns"]
        assert in_database == [c.name for c in table.primary_key.columns], table.name


def test_kill_key_revision_downgrades_to_the_old_order(empty_engine: Engine) -> None:
    with empty_engine.begin() as conn:
        migrations.upgrade(conn)
        migrations.downgrade(conn, "0002")
    key = inspect(empty_engine).get_pk_constraint("kill")["constrained_columns"]
    assert key == ["dataset_id", "branch_id", "row_id"]


def test_the_comparison_sees_drift(empty_engine: Engine) -> None:
    """The no-difference check can fail: drop an index and it is reported."""
    with empty_engine.begin() as conn:
        migrations.upgrade(conn)
        conn.execute(text("DROP INDEX ix_instance_alive_label"))
    diff = schema_diff(empty_engine)
    assert [d[0] for d in diff if isinstance(d, tuple)] == ["add_index"]


def test_downgrade_base_then_upgrade_head(empty_engine: Engine) -> None:
    with empty_engine.begin() as conn:
        migrations.upgrade(conn)
    with empty_engine.begin() as conn:
        migrations.downgrade(conn, "base")
    tables = set(inspect(empty_engine).get_table_names())
    assert tables <= {"alembic_version"}
    with empty_engine.connect() as conn:
        sequences = conn.scalars(text("SELECT relname FROM pg_class WHERE relkind = 'S'")).all()
    assert "revision_row_id_seq" not in sequences
    with empty_engine.begin() as conn:
        migrations.upgrade(conn)
    assert schema_diff(empty_engine) == []


def test_upgrade_twice_is_a_no_op(empty_engine: Engine) -> None:
    with empty_engine.begin() as conn:
        migrations.upgrade(conn)
    with empty_engine.begin() as conn:
        migrations.upgrade(conn)
    assert schema_diff(empty_engine) == []
