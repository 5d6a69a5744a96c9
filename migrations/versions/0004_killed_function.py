"""trainingdb_killed(): the kill test of row rule 5 as a function the planner costs as cheap.

Reads on a branch must skip rows a lineage branch killed. As a subquery (NOT EXISTS, or a
correlated count) the planner costs the test from kill statistics — which a new branch does not
have yet — and from the probe's full index cost per scanned row, and then picks plans that read
everything: a 10k-entity diff rescanned all kills per row (seconds), and a 100-row page on a
3-deep branch gave up its ordered index walk for a bitmap scan and sort (7 ms instead of 1.5).
A function declared `COST 1` hides both: the plan stays the one the filter alone would get, and
each call is one probe of the kill key `(dataset_id, row_id, branch_id)`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 00:35:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # p_branches / p_seqs: the lineage entries that can kill (all but the root), as parallel
    # arrays; a kill counts when its branch is one of them and it happened at or before that
    # entry's seq. A kill by any other branch yields NULL for the comparison: not counted.
    op.execute(
        """
        CREATE FUNCTION trainingdb_killed(
            p_dataset bigint, p_row bigint, p_branches bigint[], p_seqs bigint[]
        ) RETURNS boolean
        LANGUAGE plpgsql STABLE PARALLEL SAFE COST 1 AS $$
        BEGIN
            RETURN EXISTS (
                SELECT 1 FROM kill k
                WHERE k.dataset_id = p_dataset AND k.row_id = p_row
                  AND k.seq <= p_seqs[array_position(p_branches, k.branch_id)]
            );
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION trainingdb_killed(bigint, bigint, bigint[], bigint[])")
