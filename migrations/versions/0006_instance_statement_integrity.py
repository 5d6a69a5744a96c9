"""Instance rows checked per statement, not per row: the row-level foreign keys go.

A foreign key checks each inserted row with its own query; on `instance`, the table that grows to
hundreds of millions of rows through bulk imports, the two keys (to `branch` and to `dataset`)
were a third of the insert's time: 200k rows took 4.06 s with them and 2.73 s without
(`benchmarks/ingest_bench.py`, docs/BENCHMARKS.md). The same guarantees hold with statement-level
triggers, whose cost is one set-based query per statement:

- insert: every (dataset_id, branch_id) pair the statement wrote names an existing branch, which
  is locked FOR KEY SHARE as a foreign key would (a concurrent delete of it waits);
- update: a revision never moves to another branch or dataset (row rule 2), stronger than a key;
- branch delete: a branch that still has instance rows cannot go, unless its dataset is being
  deleted, and then its rows go with it (what ON DELETE CASCADE on dataset did).

Errors are foreign_key_violation (SQLSTATE 23503) naming `fk_instance_branch`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 14:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RAISE = "USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'fk_instance_branch'"


def upgrade() -> None:
    op.drop_constraint("fk_instance_dataset_id_branch_id_branch", "instance", type_="foreignkey")
    op.drop_constraint("fk_instance_dataset_id_dataset", "instance", type_="foreignkey")
    op.execute(
        f"""
        CREATE FUNCTION trainingdb_instance_inserted() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            missing record;
        BEGIN
            PERFORM 1 FROM branch b
              JOIN (SELECT DISTINCT dataset_id, branch_id FROM new_rows) n
                ON b.dataset_id = n.dataset_id AND b.id = n.branch_id
              FOR KEY SHARE OF b;
            SELECT n.dataset_id, n.branch_id INTO missing
              FROM (SELECT DISTINCT dataset_id, branch_id FROM new_rows) n
             WHERE NOT EXISTS (
                   SELECT 1 FROM branch b WHERE b.dataset_id = n.dataset_id AND b.id = n.branch_id)
             LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'fk_instance_branch: instance rows name branch % of dataset %, '
                    'which does not exist', missing.branch_id, missing.dataset_id {_RAISE};
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER instance_inserted AFTER INSERT ON instance "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION trainingdb_instance_inserted()"
    )
    op.execute(
        f"""
        CREATE FUNCTION trainingdb_instance_moved() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'fk_instance_branch: instance row % belongs to branch % of dataset %; '
                'a revision cannot move to another branch or dataset',
                OLD.row_id, OLD.branch_id, OLD.dataset_id {_RAISE};
        END $$
        """
    )
    # WHEN is evaluated in C for each updated row: the function runs only for a bad update.
    op.execute(
        "CREATE TRIGGER instance_moved BEFORE UPDATE OF dataset_id, branch_id ON instance "
        "FOR EACH ROW WHEN (OLD.dataset_id IS DISTINCT FROM NEW.dataset_id "
        "OR OLD.branch_id IS DISTINCT FROM NEW.branch_id) "
        "EXECUTE FUNCTION trainingdb_instance_moved()"
    )
    op.execute(
        f"""
        CREATE FUNCTION trainingdb_branch_deleted() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            kept record;
        BEGIN
            DELETE FROM instance i USING old_rows o
             WHERE i.dataset_id = o.dataset_id AND i.branch_id = o.id
               AND NOT EXISTS (SELECT 1 FROM dataset d WHERE d.id = o.dataset_id);
            SELECT i.dataset_id, i.branch_id INTO kept
              FROM old_rows o JOIN instance i ON i.dataset_id = o.dataset_id AND i.branch_id = o.id
             LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'fk_instance_branch: branch % of dataset % still has instance rows',
                    kept.branch_id, kept.dataset_id {_RAISE};
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER branch_deleted AFTER DELETE ON branch "
        "REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION trainingdb_branch_deleted()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER branch_deleted ON branch")
    op.execute("DROP TRIGGER instance_moved ON instance")
    op.execute("DROP TRIGGER instance_inserted ON instance")
    for function in ("branch_deleted", "instance_moved", "instance_inserted"):
        op.execute(f"DROP FUNCTION trainingdb_{function}()")
    op.create_foreign_key(
        "fk_instance_dataset_id_dataset",
        "instance",
        "dataset",
        ["dataset_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        "fk_instance_dataset_id_branch_id_branch",
        "instance",
        "branch",
        ["dataset_id", "branch_id"],
        ["dataset_id", "id"],
    )
