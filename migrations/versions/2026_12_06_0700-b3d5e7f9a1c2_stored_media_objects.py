"""each media file keeps its file object, written by PostgreSQL as its renditions change

Links, portfolios and the public pages show a media file as a nested object (thumbnails,
variants, formatted size and times). PostgreSQL built each one again on every read, most of
the cost of a nested read. `media_file.object_json` now holds it, without the URLs' prefix,
written by a trigger whenever the file or one of its thumbnails or variants changes; a read
only puts the request's prefix in (`app.common.json_sql.media_object_sql`). On SQLite the
column stays empty: the Python builders serve those reads.

`portfolio_api_media_object` must give what `app.common.json_sql.built_media_object_sql` builds;
tests/media/test_stored_objects.py holds the two equal, so a change to the object's shape needs
a migration that replaces this function.

Revision ID: b3d5e7f9a1c2
Revises: 7a41c0de9b52
Create Date: 2026-12-06 07:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b3d5e7f9a1c2"
down_revision: str | None = "7a41c0de9b52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The key/value arguments that every file object has, first and last (`file_json`,
# `file_extras`), for `media` (a media_file row).
FILE_FIELDS = """\
        'id', media.id,
        'type', media.kind,
        'name', media.name,
        'size', media.size,
        'human_readable_size', portfolio_api_human_size(media.size),
        'f', media.url_path,"""
FILE_EXTRAS = """\
        'mime_type', media.mime_type,
        'alt', media.alt,
        'created_at', portfolio_api_drf_time(media.created_at),
        'updated_at', portfolio_api_drf_time(media.updated_at)"""

FUNCTIONS = [
    # `drf_datetime`: UTC, `Z`, microseconds only when not zero.
    """
CREATE FUNCTION portfolio_api_drf_time(moment timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_char(timezone('UTC', moment), 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN date_trunc('second', moment) = moment THEN ''
                ELSE to_char(timezone('UTC', moment), '.US') END
        || 'Z'
$$
""",
    # `human_readable_size`: /1024 per unit, two decimals, ties to even (round() on float8).
    """
CREATE FUNCTION portfolio_api_human_size(size bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(round(size::float8 / 1024.0 ^ unit * 100) / 100.0, 'FM999999999990.00')
        || ' ' || (ARRAY['B', 'KB', 'MB', 'GB', 'TB'])[unit + 1]
    FROM (
        SELECT CASE WHEN size < 1024 THEN 0 WHEN size < 1048576 THEN 1
                    WHEN size < 1073741824 THEN 2 WHEN size < 1099511627776 THEN 3
                    ELSE 4 END AS unit
    ) AS chosen
$$
""",
    # `media_payload` with an empty URL prefix: an image object for images, a file object
    # for anything else (the same fields, without the image's).
    f"""
CREATE FUNCTION portfolio_api_media_object(media media_file) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN media.kind = 'image' THEN json_build_object(
{FILE_FIELDS}
        'width', media.width,
        'height', media.height,
        'mode', media.mode,
        'thumbnails', (
            SELECT coalesce(json_agg(
                json_build_object('id', t.id, 'f', t.url_path, 'size', t.box) ORDER BY t.box
            ), '[]')
            FROM media_thumbnail AS t WHERE t.file_id = media.id
        ),
        'focal_point', CASE WHEN media.focal_x IS NOT NULL
                            THEN json_build_object('x', media.focal_x, 'y', media.focal_y) END,
        'placeholder', media.placeholder,
        'variants', (
            SELECT coalesce(json_agg(
                json_build_object(
                    'box', v.box, 'format', v.format, 'width', v.width, 'height', v.height,
                    'f', v.url_path, 'bytes', v.size
                ) ORDER BY v.box, v.format
            ), '[]')
            FROM media_variant AS v WHERE v.file_id = media.id
        ),
{FILE_EXTRAS}
    ) ELSE json_build_object(
{FILE_FIELDS}
{FILE_EXTRAS}
    ) END::text
$$
""",
    # Each statement of a PL/pgSQL function takes a new snapshot: a file whose row lock was
    # waited for is written with what the transaction holding it committed.
    """
CREATE FUNCTION portfolio_api_keep_media_object() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.object_json := portfolio_api_media_object(NEW);
    RETURN NEW;
END
$$
""",
    # A thumbnail or variant changed: its file's row is written again, so its own trigger runs.
    """
CREATE FUNCTION portfolio_api_rendition_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE media_file SET object_json = NULL WHERE id IN (OLD.file_id, NEW.file_id);
    RETURN NULL;
END
$$
""",
]
RENDITION_TABLES = ("media_thumbnail", "media_variant")


def upgrade() -> None:
    with op.batch_alter_table("media_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("object_json", sa.Text(), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    for function in FUNCTIONS:
        op.execute(function)
    op.execute(
        "CREATE TRIGGER media_file_keeps_its_object BEFORE INSERT OR UPDATE ON media_file"
        " FOR EACH ROW EXECUTE FUNCTION portfolio_api_keep_media_object()"
    )
    for table in RENDITION_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_rewrites_its_file AFTER INSERT OR UPDATE OR DELETE"
            f" ON {table} FOR EACH ROW EXECUTE FUNCTION portfolio_api_rendition_changed()"
        )
    op.execute("UPDATE media_file SET object_json = NULL")  # the trigger writes each


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in RENDITION_TABLES:
            op.execute(f"DROP TRIGGER {table}_rewrites_its_file ON {table}")
        op.execute("DROP TRIGGER media_file_keeps_its_object ON media_file")
        for name in (
            "portfolio_api_rendition_changed()",
            "portfolio_api_keep_media_object()",
            "portfolio_api_media_object(media_file)",
            "portfolio_api_human_size(bigint)",
            "portfolio_api_drf_time(timestamptz)",
        ):
            op.execute(f"DROP FUNCTION {name}")
    with op.batch_alter_table("media_file", schema=None) as batch_op:
        batch_op.drop_column("object_json")
