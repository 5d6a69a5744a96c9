"""Initial schema: the whole data model of DESIGN.md section 2.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 19:28:17.948926
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Autogenerate does not see sequences; every versioned table draws row_id from this one.
    op.execute(sa.schema.CreateSequence(sa.Sequence("revision_row_id_seq")))
    op.create_table(
        "team",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("name <> ''", name=op.f("ck_team_name_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("name", name=op.f("uq_team_name")),
    )
    op.create_table(
        "dataset",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(), server_default=sa.text("''"), nullable=False),
        sa.Column("owner_team_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "default_branch",
            sa.String(length=200),
            server_default=sa.text("'main'"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "name ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$'", name=op.f("ck_dataset_name_format")
        ),
        sa.ForeignKeyConstraint(
            ["owner_team_id"],
            ["team.id"],
            name=op.f("fk_dataset_owner_team_id_team"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
        sa.UniqueConstraint("name", name=op.f("uq_dataset_name")),
    )
    op.create_table(
        "member",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("name <> ''", name=op.f("ck_member_name_not_empty")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_member_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("team_id", "name", name=op.f("uq_member_team_id_name")),
    )
    op.create_table(
        "api_key",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=True),
        sa.Column("member_id", sa.BigInteger(), nullable=True),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "is_admin OR team_id IS NOT NULL", name=op.f("ck_api_key_team_or_admin")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_api_key_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_api_key_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    op.create_table(
        "blob",
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mime", sa.String(length=255), nullable=False),
        sa.Column("storage_key", sa.String(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_blob_sha256_hex")),
        sa.CheckConstraint("size >= 0", name=op.f("ck_blob_size_non_negative")),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_blob_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "sha256", name=op.f("pk_blob")),
    )
    op.create_table(
        "branch",
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_branch_id", sa.BigInteger(), nullable=True),
        sa.Column("fork_seq", sa.BigInteger(), nullable=True),
        sa.Column("head_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("protected", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("owner_team_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(), server_default=sa.text("''"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "name ~ '^[A-Za-z0-9][A-Za-z0-9._/-]*$'", name=op.f("ck_branch_name_format")
        ),
        sa.CheckConstraint(
            "(parent_branch_id IS NULL) = (fork_seq IS NULL)", name=op.f("ck_branch_fork_point")
        ),
        sa.CheckConstraint(
            "fork_seq >= 0 AND head_seq >= 0", name=op.f("ck_branch_seq_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id", "parent_branch_id"],
            ["branch.dataset_id", "branch.id"],
            name=op.f("fk_branch_dataset_id_parent_branch_id_branch"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_branch_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_team_id"],
            ["team.id"],
            name=op.f("fk_branch_owner_team_id_team"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "id", name=op.f("pk_branch")),
    )
    op.create_index(
        "uq_branch_live_name",
        "branch",
        ["dataset_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "dataset_grant",
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("refs", sa.String(length=200), server_default=sa.text("'*'"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('viewer', 'annotator', 'editor', 'admin')", name=op.f("ck_dataset_grant_role")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_grant_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_dataset_grant_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dataset_id", "id", name=op.f("pk_dataset_grant")),
        sa.UniqueConstraint(
            "dataset_id", "team_id", "refs", name=op.f("uq_dataset_grant_dataset_id_team_id_refs")
        ),
    )
    op.create_index(op.f("ix_dataset_grant_team_id"), "dataset_grant", ["team_id"], unique=False)
    op.create_table(
        "commit",
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("branch_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.String(), server_default=sa.text("''"), nullable=False),
        sa.Column("author", sa.String(), server_default=sa.text("''"), nullable=False),
        sa.Column("merged_branch_id", sa.BigInteger(), nullable=True),
        sa.Column("merged_seq", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(merged_branch_id IS NULL) = (merged_seq IS NULL)", name=op.f("ck_commit_merge_source")
        ),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_commit_seq_positive")),
        sa.ForeignKeyConstraint(
            ["dataset_id", "branch_id"],
            ["branch.dataset_id", "branch.id"],
            name=op.f("fk_commit_dataset_id_branch_id_branch"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id", "merged_branch_id"],
            ["branch.dataset_id", "branch.id"],
            name=op.f("fk_commit_dataset_id_merged_branch_id_branch"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_commit_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "id", name=op.f("pk_commit")),
        sa.UniqueConstraint(
            "dataset_id", "branch_id", "seq", name=op.f("uq_commit_dataset_id_branch_id_seq")
        ),
    )
    op.create_table(
        "file",
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "row_id",
            sa.BigInteger(),
            server_default=sa.text("nextval('revision_row_id_seq')"),
            nullable=False,
        ),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.BigInteger(), nullable=False),
        sa.Column("seq_from", sa.BigInteger(), nullable=False),
        sa.Column("seq_to", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("fps", sa.Double(), nullable=True),
        sa.Column("frame_count", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Double(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("author", sa.String(), server_default=sa.text("''"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(metadata) = 'object'", name=op.f("ck_file_metadata_object")
        ),
        sa.CheckConstraint(
            "media_type <> 'video' OR (fps IS NOT NULL AND frame_count IS NOT NULL)",
            name=op.f("ck_file_video_timing"),
        ),
        sa.CheckConstraint(
            "media_type IN ('image', 'video', 'text', 'audio', 'pointcloud', 'document')",
            name=op.f("ck_file_media_type"),
        ),
        sa.CheckConstraint("name <> ''", name=op.f("ck_file_name_not_empty")),
        sa.CheckConstraint("fps > 0", name=op.f("ck_file_fps_positive")),
        sa.CheckConstraint(
            "frame_count >= 0 AND duration >= 0", name=op.f("ck_file_length_non_negative")
        ),
        sa.CheckConstraint("seq_from >= 1", name=op.f("ck_file_seq_from_positive")),
        sa.CheckConstraint("seq_to IS NULL OR seq_to > seq_from", name=op.f("ck_file_seq_range")),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_file_size_positive")),
        sa.ForeignKeyConstraint(
            ["dataset_id", "blob_sha256"],
            ["blob.dataset_id", "blob.sha256"],
            name=op.f("fk_file_dataset_id_blob_sha256_blob"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id", "branch_id"],
            ["branch.dataset_id", "branch.id"],
            name=op.f("fk_file_dataset_id_branch_id_branch"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_file_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "row_id", name=op.f("pk_file")),
    )
    op.create_index("ix_file_blob", "file", ["dataset_id", "blob_sha256"], unique=False)
    op.create_index(
        "ix_file_ended",
        "file",
        ["dataset_id", "branch_id", "seq_to"],
        unique=False,
        postgresql_where=sa.text("seq_to IS NOT NULL"),
    )
    op.create_index("ix_file_entity", "file", ["dataset_id", "entity_id"], unique=False)
    op.create_index(
        "ix_file_written", "file", ["dataset_id", "branch_id", "seq_from"], unique=False
    )
    op.create_index(
        "uq_file_alive_entity",
        "file",
        ["dataset_id", "branch_id", "entity_id"],
        unique=True,
        postgresql_where=sa.text("seq_to IS NULL"),
    )
    op.create_index(
        "uq_file_alive_name",
        "file",
        ["dataset_id", "branch_id", "name"],
        unique=True,
        postgresql_where=sa.text("seq_to IS NULL"),
    )
    op.create_table(
        "frame",
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "row_id",
            sa.BigInteger(),
            server_default=sa.text("nextval('revision_row_id_seq')"),
            nullable=False,
        ),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.BigInteger(), nullable=False),
        sa.Column("seq_from", sa.BigInteger(), nullable=False),
        sa.Column("seq_to", sa.BigInteger(), nullable=True),
        sa.Column("file_entity_id", sa.Uuid(), nullable=False),
        sa.Column("frame_number", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.Double(), nullable=True),
        sa.Column("image_sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "metadata",
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
        sa.CheckConstraint(
            "jsonb_typeof(metadata) = 'object'", name=op.f("ck_frame_metadata_object")
        ),
        sa.CheckConstraint("frame_number >= 0", name=op.f("ck_frame_frame_number_non_negative")),
        sa.CheckConstraint("seq_from >= 1", name=op.f("ck_frame_seq_from_positive")),
        sa.CheckConstraint("seq_to IS NULL OR seq_to > seq_from", name=op.f("ck_frame_seq_range")),
        sa.CheckConstraint("timestamp >= 0", name=op.f("ck_frame_timestamp_non_negative")),
        sa.ForeignKeyConstraint(
            ["dataset_id", "branch_id"],
            ["branch.dataset_id", "branch.id"],
            name=op.f("fk_frame_dataset_id_branch_id_branch"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id", "image_sha256"],
            ["blob.dataset_id", "blob.sha256"],
            name=op.f("fk_frame_dataset_id_image_sha256_blob"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_frame_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "row_id", name=op.f("pk_frame")),
    )
    op.create_index(
        "ix_frame_ended",
        "frame",
        ["dataset_id", "branch_id", "seq_to"],
        unique=False,
        postgresql_where=sa.text("seq_to IS NOT NULL"),
    )
    op.create_index("ix_frame_entity", "frame", ["dataset_id", "entity_id"], unique=False)
    op.create_index(
        "ix_frame_written", "frame", ["dataset_id", "branch_id", "seq_from"], unique=False
    )
    op.create_index(
        "uq_frame_alive_entity",
        "frame",
        ["dataset_id", "branch_id", "entity_id"],
        unique=True,
        postgresql_where=sa.text("seq_to IS NULL"),
    )
    op.create_index(
        "uq_frame_alive_number",
        "frame",
        ["dataset_id", "branch_id", "file_entity_id", "frame_number"],
        unique=True,
        postgresql_where=sa.text("seq_to IS NULL"),
    )
    op.create_table(
        "instance",
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "row_id",
            sa.BigInteger(),
            server_default=sa.text("nextval('revision_row_id_seq')"),
            nullable=False,
        ),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.BigInteger(), nullable=False),
        sa.Column("seq_from", sa.BigInteger(), nullable=False),
        sa.Column("seq_to", sa.BigInteger(), nullable=True),
        sa.Column("file_entity_id", sa.Uuid(), nullable=False),
        sa.Column("frame_number", sa.Integer(), nullable=True),
        sa.Column("label_entity_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("x", sa.Double(), nullable=True),
        sa.Column("y", sa.Double(), nullable=True),
        sa.Column("w", sa.Double(), nullable=True),
        sa.Column("h", sa.Double(), nullable=True),
        sa.Column("area", sa.Double(), sa.Computed("w * h", persisted=True), nullable=True),
        sa.Column("points", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("text_start", sa.Integer(), nullable=True),
        sa.Column("text_end", sa.Integer(), nullable=True),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column(
            "source", sa.String(length=16), server_default=sa.text("'human'"), nullable=False
        ),
        sa.Column("model_run", sa.String(length=200), nullable=True),
        sa.Column("track_id", sa.String(length=200), nullable=True),
        sa.Column("author", sa.String(), server_default=sa.text("''"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(attributes) = 'object'", name=op.f("ck_instance_attributes_object")
        ),
        sa.CheckConstraint(
            "kind <> 'text_span' OR (text_start IS NOT NULL AND text_end IS NOT NULL)",
            name=op.f("ck_instance_text_span_offsets"),
        ),
        sa.CheckConstraint(
            "kind IN ('box', 'polygon', 'polyline', 'point', 'keypoints', 'cuboid', 'classification', 'text_span', 'segment')",
            name=op.f("ck_instance_kind"),
        ),
        sa.CheckConstraint(
            "kind NOT IN ('box', 'cuboid', 'keypoints', 'point', 'polygon', 'polyline', 'segment') OR (x IS NOT NULL AND y IS NOT NULL AND w IS NOT NULL AND h IS NOT NULL)",
            name=op.f("ck_instance_spatial_bbox"),
        ),
        sa.CheckConstraint(
            "model_run IS NULL OR source = 'model'", name=op.f("ck_instance_model_run_source")
        ),
        sa.CheckConstraint("source IN ('human', 'model')", name=op.f("ck_instance_source")),
        sa.CheckConstraint("frame_number >= 0", name=op.f("ck_instance_frame_number_non_negative")),
        sa.CheckConstraint(
            "score >= 0 AND score <= 1", name=op.f("ck_instance_score_unit_interval")
        ),
        sa.CheckConstraint("seq_from >= 1", name=op.f("ck_instance_seq_from_positive")),
        sa.CheckConstraint(
            "seq_to IS NULL OR seq_to > seq_from", name=op.f("ck_instance_seq_range")
        ),
        sa.CheckConstraint(
            "text_start >= 0 AND text_end >= text_start", name=op.f("ck_instance_text_offsets")
        ),
        sa.CheckConstraint("w >= 0 AND h >= 0", name=op.f("ck_instance_extent_non_negative")),
        sa.ForeignKeyConstraint(
            ["dataset_id", "branch_id"],
            ["branch.dataset_id", "branch.id"],
            name=op.f("fk_instance_dataset_id_branch_id_branch"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_instance_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "row_id", name=op.f("pk_instance")),
    )
    op.create_index(
        "ix_instance_alive_file",
        "instance",
        ["dataset_id", "branch_id", "file_entity_id", "frame_number"],
        unique=False,
        postgresql_where=sa.text("seq_to IS NULL"),
    )
    op.create_index(
        "ix_instance_alive_label",
        "instance",
        ["dataset_id", "branch_id", "label_entity_id", "score"],
        unique=False,
        postgresql_where=sa.text("seq_to IS NULL"),
    )
    op.create_index(
        "ix_instance_ended",
        "instance",
        ["dataset_id", "branch_id", "seq_to"],
        unique=False,
        postgresql_where=sa.text("seq_to IS NOT NULL"),
    )
    op.create_index("ix_instance_entity", "instance", ["dataset_id", "entity_id"], unique=False)
    op.create_index(
        "ix_instance_written", "instance", ["dataset_id", "branch_id", "seq_from"], unique=False
    )
    op.create_index(
        "uq_instance_alive_entity",
        "instance",
        ["dataset_id", "branch_id", "entity_id"],
        unique=True,
        postgresql_where=sa.text("seq_to IS NULL"),
    )
    op.create_table(
        "kill",
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column("branch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "entity_type IN ('label', 'file', 'frame', 'instance')",
            name=op.f("ck_kill_entity_type"),
        ),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_kill_seq_positive")),
        sa.ForeignKeyConstraint(
            ["dataset_id", "branch_id"],
            ["branch.dataset_id", "branch.id"],
            name=op.f("fk_kill_dataset_id_branch_id_branch"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_kill_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "branch_id", "row_id", name=op.f("pk_kill")),
    )
    op.create_index("ix_kill_written", "kill", ["dataset_id", "branch_id", "seq"], unique=False)
    op.create_table(
        "label",
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "row_id",
            sa.BigInteger(),
            server_default=sa.text("nextval('revision_row_id_seq')"),
            nullable=False,
        ),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.BigInteger(), nullable=False),
        sa.Column("seq_from", sa.BigInteger(), nullable=False),
        sa.Column("seq_to", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "color", sa.String(length=7), server_default=sa.text("'#888888'"), nullable=False
        ),
        sa.Column("description", sa.String(), server_default=sa.text("''"), nullable=False),
        sa.Column(
            "attribute_schema",
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
        sa.CheckConstraint("color ~ '^#[0-9a-fA-F]{6}$'", name=op.f("ck_label_color_hex")),
        sa.CheckConstraint("name <> ''", name=op.f("ck_label_name_not_empty")),
        sa.CheckConstraint("seq_from >= 1", name=op.f("ck_label_seq_from_positive")),
        sa.CheckConstraint("seq_to IS NULL OR seq_to > seq_from", name=op.f("ck_label_seq_range")),
        sa.ForeignKeyConstraint(
            ["dataset_id", "branch_id"],
            ["branch.dataset_id", "branch.id"],
            name=op.f("fk_label_dataset_id_branch_id_branch"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_label_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "row_id", name=op.f("pk_label")),
    )
    op.create_index(
        "ix_label_ended",
        "label",
        ["dataset_id", "branch_id", "seq_to"],
        unique=False,
        postgresql_where=sa.text("seq_to IS NOT NULL"),
    )
    op.create_index("ix_label_entity", "label", ["dataset_id", "entity_id"], unique=False)
    op.create_index(
        "ix_label_written", "label", ["dataset_id", "branch_id", "seq_from"], unique=False
    )
    op.create_index(
        "uq_label_alive_entity",
        "label",
        ["dataset_id", "branch_id", "entity_id"],
        unique=True,
        postgresql_where=sa.text("seq_to IS NULL"),
    )
    op.create_index(
        "uq_label_alive_name",
        "label",
        ["dataset_id", "branch_id", "name"],
        unique=True,
        postgresql_where=sa.text("seq_to IS NULL"),
    )
    op.create_table(
        "tag",
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("branch_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.String(), server_default=sa.text("''"), nullable=False),
        sa.Column("created_by", sa.String(), server_default=sa.text("''"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "name ~ '^[A-Za-z0-9][A-Za-z0-9._/-]*$'", name=op.f("ck_tag_name_format")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id", "branch_id", "seq"],
            ["commit.dataset_id", "commit.branch_id", "commit.seq"],
            name=op.f("fk_tag_dataset_id_branch_id_seq_commit"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_tag_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "id", name=op.f("pk_tag")),
        sa.UniqueConstraint("dataset_id", "name", name=op.f("uq_tag_dataset_id_name")),
    )


def downgrade() -> None:
    # Indexes and constraints go with their tables.
    for table in (
        "tag",
        "label",
        "kill",
        "instance",
        "frame",
        "file",
        "commit",
        "dataset_grant",
        "branch",
        "blob",
        "api_key",
        "member",
        "dataset",
        "team",
    ):
        op.drop_table(table)
    op.execute(sa.schema.DropSequence(sa.Sequence("revision_row_id_seq")))
