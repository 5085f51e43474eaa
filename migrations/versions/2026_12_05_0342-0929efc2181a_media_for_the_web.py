"""media for the web

Images gain a ThumbHash placeholder and a focal point; `media_variant` holds the WebP and AVIF
renderings of each thumbnail box, made by a job after the upload.

Revision ID: 0929efc2181a
Revises: 5e1f0c2a9b7d
Create Date: 2026-12-05 03:42:12.340257+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0929efc2181a"
down_revision: str | None = "5e1f0c2a9b7d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_variant",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("box", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("url_path", sa.String(length=1500), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["media_file.id"],
            name=op.f("fk_media_variant_file_id_media_file"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_variant")),
        sa.UniqueConstraint("path", name=op.f("uq_media_variant_path")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("media_variant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_media_variant_file_id_box_format"),
            ["file_id", "box", "format"],
            unique=True,
        )

    with op.batch_alter_table("media_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("placeholder", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("focal_x", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("focal_y", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("media_file", schema=None) as batch_op:
        batch_op.drop_column("focal_y")
        batch_op.drop_column("focal_x")
        batch_op.drop_column("placeholder")

    with op.batch_alter_table("media_variant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_variant_file_id_box_format"))

    op.drop_table("media_variant")
