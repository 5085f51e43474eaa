"""login failures by digest, and used media names

Failed logins are counted per username, per client address and per both, each stored as a
SHA-256 digest: a username of 150 characters can lower-case to more (`İ` becomes two), and an
address taken from `X-Forwarded-For` can be any length. The failures of the old shape expire
within the window anyway, so they are dropped rather than converted.

`media_used_name` remembers every storage key ever given to an upload, so that a deleted file's
URL never serves other bytes. It starts with the keys of the files and thumbnails stored today;
the names of files deleted before this revision are not known.

Revision ID: 3b7d2c9e41f0
Revises: 6414e52b2ef4
Create Date: 2026-12-04 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "3b7d2c9e41f0"
down_revision: str | None = "6414e52b2ef4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.drop_table("auth_login_failure")
    op.create_table(
        "auth_login_failure",
        sa.Column("id", ID, nullable=False),
        sa.Column("username_digest", sa.String(length=64), nullable=False),
        sa.Column("address_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_login_failure")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_auth_login_failure_username_digest_address_digest_created_at"),
        "auth_login_failure",
        ["username_digest", "address_digest", "created_at"],
    )
    op.create_index(
        op.f("ix_auth_login_failure_address_digest_created_at"),
        "auth_login_failure",
        ["address_digest", "created_at"],
    )
    op.create_table(
        "media_used_name",
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_media_used_name")),
    )
    op.execute(
        "INSERT INTO media_used_name (path)"
        " SELECT path FROM media_file UNION SELECT path FROM media_thumbnail"
    )


def downgrade() -> None:
    op.drop_table("media_used_name")
    op.drop_table("auth_login_failure")
    op.create_table(
        "auth_login_failure",
        sa.Column("id", ID, nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_login_failure")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_auth_login_failure_client_address_created_at"),
        "auth_login_failure",
        ["client_address", "created_at"],
    )
    op.create_index(
        op.f("ix_auth_login_failure_username_created_at"),
        "auth_login_failure",
        ["username", "created_at"],
    )
