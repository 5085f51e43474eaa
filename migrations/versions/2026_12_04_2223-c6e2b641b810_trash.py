"""the trash

A deleted object's rows move here (`trash_item`) until it is restored, purged, or expired by
the workers; `trash_reservation` keeps its unique values (title, slug, name, a meta key within
its portfolio) from being taken meanwhile.

Revision ID: c6e2b641b810
Revises: f3aa0eda6503
Create Date: 2026-12-04 22:23:22.927986+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "c6e2b641b810"
down_revision: str | None = "f3aa0eda6503"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trash_item",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("repairs", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("deleted_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_by_id", sa.BigInteger(), nullable=True),
        sa.Column("deleted_by_username", sa.String(length=150), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trash_item")),
        sa.UniqueConstraint("kind", "object_id", name=op.f("uq_trash_item_kind_object_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("trash_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trash_item_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_trash_item_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "trash_reservation",
        sa.Column("table", sa.String(length=64), nullable=False),
        sa.Column("column", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "table", "column", "scope", "value", name=op.f("pk_trash_reservation")
        ),
    )
    with op.batch_alter_table("trash_reservation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trash_reservation_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trash_reservation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trash_reservation_item_id"))

    op.drop_table("trash_reservation")
    with op.batch_alter_table("trash_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trash_item_parent_id"))
        batch_op.drop_index(batch_op.f("ix_trash_item_deleted_at"))

    op.drop_table("trash_item")
