"""Source fields an import keeps for its export: `label.metadata`, `instance.extra` and the
`source_document` table.

A COCO file carries fields the tables had no column for: a category's id and supercategory, an
annotation's id, area, iscrowd and whatever other keys its producer added, the file's `info`
and `licenses`. Dropping them made an import → export round trip lose what the user put in.

- `label.metadata` (a JSON object, `{}` by default; a COCO category's `{"coco": {"id",
  "supercategory", ...}}`, a YOLO class's `{"yolo": {"index"}}`) and `instance.extra` (a JSON
  object, NULL when the record had nothing beyond the columns) are content fields: versioned,
  diffed and merged like the others.
- `source_document` holds the document-level keys of an import once per content (keyed by the
  sha256 of its canonical JSON); files name their document in their versioned metadata, so
  documents themselves need no versioning (as blobs need none).

Both columns are added with constant defaults, so PostgreSQL writes no table rows (the default
lives in the catalog); the check constraints scan each table once.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "label",
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_label_metadata_object"), "label", "jsonb_typeof(metadata) = 'object'"
    )
    op.add_column(
        "instance", sa.Column("extra", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_instance_extra_object"),
        "instance",
        "extra IS NULL OR jsonb_typeof(extra) = 'object'",
    )
    op.create_table(
        "source_document",
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column(
            "content",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("digest ~ '^[0-9a-f]{64}$'", name=op.f("ck_source_document_digest_hex")),
        sa.CheckConstraint(
            "jsonb_typeof(content) = 'object'", name=op.f("ck_source_document_content_object")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_source_document_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "digest", name=op.f("pk_source_document")),
    )


def downgrade() -> None:
    op.drop_table("source_document")
    op.drop_constraint(op.f("ck_instance_extra_object"), "instance", type_="check")
    op.drop_column("instance", "extra")
    op.drop_constraint(op.f("ck_label_metadata_object"), "label", type_="check")
    op.drop_column("label", "metadata")
