"""sqlite ids are never reused

On SQLite an INTEGER PRIMARY KEY without AUTOINCREMENT gives a new row the largest id plus one:
deleting the newest object handed its id to the next one created, so a retried DELETE (or a
stale link) reached an unrelated object. AUTOINCREMENT never reuses an id, as Django declares
its SQLite ids. The tables are rebuilt with it; PostgreSQL's sequences never reused one.

Revision ID: 6414e52b2ef4
Revises: ee035fe8c5ca
Create Date: 2026-11-23 14:49:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "6414e52b2ef4"
down_revision: str | None = "ee035fe8c5ca"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table whose `id` is its own (the ordered link tables have composite keys).
TABLES = (
    "auth_user",
    "auth_token",
    "auth_login_failure",
    "media_file",
    "media_thumbnail",
    "portfolio_employer",
    "portfolio_tag",
    "portfolio",
    "portfolio_link",
    "portfolio_meta",
)


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
