"""Commit ordinal (a total order for merge bases) and an index of merge commits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 20:03:10.052561
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "commit", sa.Column("ordinal", sa.BigInteger(), sa.Identity(always=False), nullable=False)
    )
    op.create_index(
        "ix_commit_merges",
        "commit",
        ["dataset_id", "branch_id", "seq"],
        unique=False,
        postgresql_where=sa.text("merged_branch_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_commit_merges",
        table_name="commit",
        postgresql_where=sa.text("merged_branch_id IS NOT NULL"),
    )
    op.drop_column("commit", "ordinal")
