"""url-encoded storage paths

Revision ID: 95049d54a2d4
Revises: 81785e5fc024
Create Date: 2026-11-23 13:19:00+00:00
"""

from collections.abc import Sequence
from urllib.parse import quote

import sqlalchemy as sa
from alembic import op

revision: str = "95049d54a2d4"
down_revision: str | None = "81785e5fc024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("media_file", "media_thumbnail")


def upgrade() -> None:
    connection = op.get_bind()
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("url_path", sa.String(length=1500), nullable=False, server_default="")
            )
        table = sa.table(
            name, sa.column("id", sa.BigInteger), sa.column("path"), sa.column("url_path")
        )
        rows = connection.execute(sa.select(table.c.id, table.c.path)).all()
        for row in rows:
            connection.execute(
                table.update().where(table.c.id == row.id).values(url_path=quote(row.path))
            )
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column("url_path", server_default=None)


def downgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("url_path")
