"""imported objects

`imported_object` records which local objects `import-original` brought in from an original
deployment, and a digest of each as the original showed it.

Revision ID: 7a41c0de9b52
Revises: 0929efc2181a
Create Date: 2026-12-05 22:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "7a41c0de9b52"
down_revision: str | None = "0929efc2181a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "imported_object",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("original_file", sa.String(length=600), nullable=True),
        sa.Column("imported_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "object_id", name=op.f("pk_imported_object")),
    )


def downgrade() -> None:
    op.drop_table("imported_object")
