"""media storage backend

Revision ID: ee035fe8c5ca
Revises: 95049d54a2d4
Create Date: 2026-11-23 14:43:43+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ee035fe8c5ca"
down_revision: str | None = "95049d54a2d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every file stored so far is on the local disk.
    with op.batch_alter_table("media_file", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("storage", sa.String(length=16), nullable=False, server_default="local")
        )


def downgrade() -> None:
    with op.batch_alter_table("media_file", schema=None) as batch_op:
        batch_op.drop_column("storage")
