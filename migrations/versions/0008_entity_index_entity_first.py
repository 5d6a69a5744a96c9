"""The entity indexes lead with the entity id: an id alone finds its rows in one probe.

`ix_{label,file,frame,instance}_entity` were `(dataset_id, entity_id)`. Federation's `_entities`
gets ids without their dataset; with the dataset first PostgreSQL 18 answers by skip scan, whose
cost grows with the number of datasets (1,000 ids at 2M rows: 19 ms at 10 datasets, 168 ms at
300), against about 5 ms with the entity id first whatever the count. The other readers of
these indexes keep their plans: an entity's history (`dataset_id = ? AND entity_id = ?`) and a
bulk import's range probe (`entity_id BETWEEN ? AND ?` in one dataset). Same size, same write
cost.

The indexes are rebuilt in the migration's transaction: on large tables that holds off writes
to each table (not reads) while its index builds, so upgrade a large install in a quiet hour.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("label", "file", "frame", "instance")


def _rebuild(columns: list[str]) -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_entity", table_name=table)
        op.create_index(f"ix_{table}_entity", table, columns, unique=False)


def upgrade() -> None:
    _rebuild(["entity_id", "dataset_id"])


def downgrade() -> None:
    _rebuild(["dataset_id", "entity_id"])
