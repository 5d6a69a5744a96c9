"""Access control: protected branches name who may merge, jobs remember whom they act for, and
every change is written to an append-only audit trail.

- `branch.merge_role`: a protected branch takes changes only by merge, from this role up
  (NULL: editor);
- `job.principal`: the team, member or admin a job acts for, so the worker can check the
  submitter's rights again when it runs the job (jobs queued before this act as the operator);
- `audit_event`: who changed what, when, in which dataset and ref, appended in the same
  transaction as the change. The application never updates or deletes it: a trigger refuses
  UPDATE, DELETE and TRUNCATE, so even a bug cannot rewrite history (a database superuser can
  still drop the trigger; the trail guards against the application, not against the DBA).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLES = "'viewer', 'annotator', 'editor', 'admin'"


def upgrade() -> None:
    op.add_column("branch", sa.Column("merge_role", sa.String(length=16), nullable=True))
    op.create_check_constraint("merge_role", "branch", f"merge_role IN ({_ROLES})")
    op.add_column(
        "job",
        sa.Column(
            "principal",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("""'{"admin": true, "credential": "cli"}'::jsonb"""),
            nullable=False,
        ),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.String(length=401), nullable=False),
        sa.Column("credential", sa.String(length=200), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("dataset_id", sa.BigInteger(), nullable=True),
        sa.Column("dataset", sa.String(length=200), nullable=True),
        sa.Column("ref", sa.String(length=200), nullable=True),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "jsonb_typeof(detail) = 'object'", name=op.f("ck_audit_event_detail_object")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index(
        op.f("ix_audit_event_dataset_id_id"), "audit_event", ["dataset_id", "id"], unique=False
    )
    op.execute(
        """
        CREATE FUNCTION trainingdb_audit_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION trainingdb_audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION trainingdb_audit_append_only()"
    )


def downgrade() -> None:
    op.drop_table("audit_event")
    op.execute("DROP FUNCTION trainingdb_audit_append_only()")
    op.drop_column("job", "principal")
    op.drop_constraint("merge_role", "branch", type_="check")
    op.drop_column("branch", "merge_role")
