"""On PostgreSQL each media file keeps its file object (`media_file.object_json`), written by
triggers: it is, byte for byte, the object built from the file's row and renditions, after
every kind of change, and a read puts any prefix in front of its URLs as JSON text must."""

import asyncio
import json

import pytest
from sqlalchemy import Text, literal, select, text

from app.common.json_sql import as_text, built_media_object_sql, media_object_sql
from app.models import MediaFile, MediaThumbnail, MediaVariant
from tests.conftest import empty_tables
from tests.factories import create_document, create_image
from tests.media.conftest import upload
from tests.media.samples import simple


@pytest.fixture(autouse=True)
def _postgresql_only(backend):
    if backend != "postgresql":
        pytest.skip("the triggers are PostgreSQL's; SQLite reads are built in Python")


async def stored_and_built(app) -> list[tuple[str, str]]:
    """Every file's kept object and the object built now, as text."""
    built = as_text(built_media_object_sql(MediaFile, literal("", Text)))
    statement = select(MediaFile.object_json, built).order_by(MediaFile.id)
    async with app.state.read_sessionmaker() as session:
        return [tuple(row) for row in await session.execute(statement)]


async def assert_kept(app) -> None:
    pairs = await stored_and_built(app)
    assert pairs
    for stored, built in pairs:
        assert stored == built


async def test_the_kept_object_follows_every_change_of_a_file_and_its_renditions(
    app, media_client, db_connection
):
    async def execute(sql: str, **params) -> None:
        await db_connection.execute(text(sql), params)

    image = await create_image(app, "تصویر", focal_x=0.25, focal_y=0.7)
    await create_image(app, "bare", variants=False, placeholder=None)
    document = await create_document(app, "گزارش")
    uploaded = (await upload(media_client, simple("PNG"), "a.png")).json()
    await assert_kept(app)

    patched = {"name": "renamed", "alt": 'a "quoted" alt', "focal_point": {"x": 0.5, "y": 0.1}}
    assert (await media_client.patch(f"/api/media/{image.id}", json=patched)).status_code == 200
    await assert_kept(app)
    renditions = "WHERE file_id = :id AND box = :box"
    await execute(f"DELETE FROM media_variant {renditions}", id=image.id, box=64)
    await execute(f"DELETE FROM media_thumbnail {renditions}", id=image.id, box=1080)
    await execute(f"UPDATE media_thumbnail SET box = 96 {renditions}", id=image.id, box=128)
    await assert_kept(app)
    for size in (5, 1023, 73062, 5_000_000, 3 * 1024**3 + 17, 2 * 1024**4):  # every unit
        await execute(
            "UPDATE media_file SET size = :size WHERE id = :id", size=size, id=document.id
        )
        await assert_kept(app)
    await execute("UPDATE media_file SET created_at = date_trunc('second', created_at)")
    await assert_kept(app)

    assert (await media_client.delete(f"/api/media/{uploaded['id']}")).status_code == 204
    await assert_kept(app)
    async with app.state.read_sessionmaker() as session:
        for table in (MediaThumbnail, MediaVariant):
            orphans = select(table.id).where(table.file_id == uploaded["id"])
            assert (await session.execute(orphans)).all() == []


async def test_a_prefix_is_put_in_front_of_every_url_as_json_text(app, db_connection):
    image = await create_image(app, "prefixed")
    prefix = 'https://cdn.example/a "b" \\ c/'
    shown = as_text(media_object_sql(MediaFile, literal(prefix, Text)))
    async with app.state.read_sessionmaker() as session:
        found = json.loads(await session.scalar(select(shown).where(MediaFile.id == image.id)))
    urls = [found["f"]] + [item["f"] for item in found["thumbnails"] + found["variants"]]
    assert len(urls) == 1 + 4 + 8
    assert all(url.startswith(prefix + "core_media/") for url in urls)
    assert found["name"] == "prefixed"


async def test_a_rendition_committed_while_the_file_was_locked_is_in_its_object(app):
    """A job adds a variant while an editor changes the alt text: whichever commits second
    waited for the first's row lock, and writes the object with both changes."""
    image = await create_image(app, "contended", variants=False)
    try:
        await add_a_variant_while_the_alt_changes(app, image.id)
        async with app.state.read_sessionmaker() as session:
            found = select(MediaFile.object_json).where(MediaFile.id == image.id)
            kept = json.loads(await session.scalar(found))
        assert kept["alt"] == "edited"
        assert [variant["f"] for variant in kept["variants"]] == ["v.webp"]
        await assert_kept(app)
    finally:
        await empty_tables(app)  # committed for real, on connections of their own


async def add_a_variant_while_the_alt_changes(app, media_id: int) -> None:
    async with app.state.engine.connect() as job, app.state.engine.connect() as editor:
        await job.begin()
        await job.execute(
            text(
                "INSERT INTO media_variant (file_id, box, format, width, height, size, path,"
                " url_path) VALUES (:id, 64, 'webp', 64, 64, 100, 'v.webp', 'v.webp')"
            ),
            {"id": media_id},
        )
        await editor.begin()
        editing = asyncio.create_task(
            editor.execute(
                text("UPDATE media_file SET alt = 'edited' WHERE id = :id"), {"id": media_id}
            )
        )
        await asyncio.sleep(0.3)
        assert not editing.done()  # waiting for the job's lock on the file
        await job.commit()
        await editing
        await editor.commit()
