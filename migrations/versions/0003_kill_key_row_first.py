"""Kill primary key ordered (dataset, row, branch): reads probe kills by row.

A read on a branch asks, for each candidate row, whether a branch of its lineage killed it
(row rule 5). With the branch first in the key that probe was a skip scan across branches; with
the row first it is one index search, and history's "who killed this row" is too.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 00:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _primary_key(*columns: str) -> None:
    op.drop_constraint("pk_kill", "kill", type_="primary")
    op.create_primary_key("pk_kill", "kill", list(columns))


def upgrade() -> None:
    _primary_key("dataset_id", "row_id", "branch_id")


def downgrade() -> None:
    _primary_key("dataset_id", "branch_id", "row_id")
