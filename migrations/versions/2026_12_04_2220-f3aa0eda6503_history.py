"""history of changes

One row per change made through the API, the CLI, the workers or the importer, written in the
transaction of the change; `actor_id` has no foreign key, so a deleted user's entries stay
readable with the name they had. History starts empty here.

Revision ID: f3aa0eda6503
Revises: 964b6b74b5dc
Create Date: 2026-12-04 22:20:19.764057+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "f3aa0eda6503"
down_revision: str | None = "964b6b74b5dc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_username", sa.String(length=150), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_history_actor_id_id"), ["actor_id", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_history_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_history_kind_object_id_id"), ["kind", "object_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_history_kind_object_id_id"))
        batch_op.drop_index(batch_op.f("ix_history_at"))
        batch_op.drop_index(batch_op.f("ix_history_actor_id_id"))

    op.drop_table("history")
