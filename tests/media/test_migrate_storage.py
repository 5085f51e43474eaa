"""`portfolio-api media migrate-storage --to s3`: local files into a bucket, row by row,
resumable, the local files left in place unless asked."""

import asyncio
import io
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from app.cli import main
from app.media import service
from app.media.backfill import make_variants_for_existing
from app.media.storage.local import LocalStorage
from app.models import MediaFile, MediaVariant
from app.settings import get_settings
from tests.factories import create_staff
from tests.media import samples
from tests.object_storage import bucket_name


@pytest.fixture
def local_storage(settings):
    return LocalStorage(settings.media_root, settings.media_url, None)


@pytest.fixture
def create_local(app, settings, local_storage, committing_client):
    """Committed rows whose files are on the local disk, as an app on local storage made them
    (`committing_client` empties the tables afterwards)."""

    async def create(content: bytes, filename: str) -> tuple[int, list[str]]:
        upload = service.Upload(io.BytesIO(content), filename, len(content), None, None)
        async with app.state.sessionmaker() as session:
            media = await service.create_media(
                session, local_storage, app.state.image_pool, settings, upload, datetime.now(UTC)
            )
            await session.commit()
            thumbnails = media.thumbnails if media.kind == "image" else []
            keys = [media.path, *(thumbnail.path for thumbnail in thumbnails)]
            return media.id, keys

    return create


@pytest.fixture
async def target(s3_server, settings, monkeypatch):
    """The bucket the command copies into, configured the way an operator would."""
    name = bucket_name()
    await s3_server.create_bucket(name)
    options = s3_server.storage_settings(name, s3_key_prefix="moved/", media_storage="local")
    for option, value in {**options, "s3_max_attempts": 1}.items():
        monkeypatch.setenv(option.upper(), str(value))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MEDIA_ROOT", str(settings.media_root))
    get_settings.cache_clear()
    storage = s3_server.storage(name, key_prefix="moved/")
    yield storage
    get_settings.cache_clear()
    await storage.aclose()
    await s3_server.remove_bucket(name)


@pytest.fixture
def migrate(capsys):
    async def migrate(*options: str) -> tuple[int, str, str]:
        status = await asyncio.to_thread(main, ["media", "migrate-storage", "--to", "s3", *options])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return migrate


async def backends(app, ids):
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            select(MediaFile.id, MediaFile.storage).where(MediaFile.id.in_(ids))
        )
        return dict(rows.all())


async def bucket_keys(storage):
    return {stored.key async for stored in storage.list_objects("")}


async def test_files_are_copied_and_rows_switched(
    app, create_local, local_storage, target, migrate, committing_client
):
    image, image_keys = await create_local(samples.photo((300, 200)), "moved.jpg")
    document, document_keys = await create_local(samples.PDF, "report.pdf")
    status, out, err = await migrate()
    assert status == 0, err
    assert "2 files moved to s3 (6 objects with thumbnails and variants)" in out
    assert "0 files were already there" in out
    assert "copying media to s3 [" in err
    assert "2/2" in err
    assert await backends(app, [image, document]) == {image: "s3", document: "s3"}
    assert await bucket_keys(target) == {*image_keys, *document_keys}
    async with httpx.AsyncClient() as http:
        for key in [*image_keys, *document_keys]:
            response = await http.get(target.url(key, ""))
            assert response.content == local_storage.path(key).read_bytes()  # left in place
        pdf = await http.get(target.url(document_keys[0], ""))
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")

    # An app on S3 serves the rows from the bucket.
    committing_client.headers.update((await create_staff(app, 1102)).headers)
    original = app.state.storage
    app.state.storage = target
    try:
        body = (await committing_client.get(f"/api/media/{image}")).json()
    finally:
        app.state.storage = original
    assert body["f"] == target.url(image_keys[0], "")
    assert [thumbnail["f"] for thumbnail in body["thumbnails"]] == [
        target.url(key, "") for key in image_keys[1:]
    ]

    status, out, _err = await migrate()
    assert status == 0
    assert "0 files moved" in out
    assert "2 files were already there" in out


async def test_an_interrupted_run_resumes_where_it_stopped(
    app, s3_server, create_local, target, migrate
):
    rows = [await create_local(samples.photo((200, 150)), f"resumed{n}.jpg") for n in range(3)]
    ids = [media_id for media_id, _keys in rows]
    await s3_server.break_puts(after=7)  # the first image (5 objects), 2 of the second
    try:
        status, out, err = await migrate()
    finally:
        await s3_server.heal()
    assert status == 1
    assert "InternalError" in err
    assert "run the command again" in err
    assert await backends(app, ids) == {ids[0]: "s3", ids[1]: "local", ids[2]: "local"}

    status, out, err = await migrate()
    assert status == 0, err
    assert "2 files moved to s3 (10 objects with thumbnails and variants)" in out
    assert "1 files were already there" in out
    assert set((await backends(app, ids)).values()) == {"s3"}
    assert await bucket_keys(target) == {key for _id, keys in rows for key in keys}


async def test_local_files_are_removed_only_when_asked_and_missing_ones_block_a_row(
    app, create_local, local_storage, target, migrate
):
    first, first_keys = await create_local(samples.photo((120, 90)), "first.jpg")
    status, _out, _err = await migrate()  # files stay
    assert status == 0
    assert all(local_storage.path(key).exists() for key in first_keys)

    broken, broken_keys = await create_local(samples.photo((120, 90)), "broken.jpg")
    local_storage.path(broken_keys[2]).unlink()  # a thumbnail lost on disk
    status, out, err = await migrate("--delete-local")
    assert status == 1
    assert f"file {broken} not moved, missing locally: {broken_keys[2]}" in err
    assert "5 local files removed" in out  # those of the row moved by the first run
    assert not any(local_storage.path(key).exists() for key in first_keys)
    assert await backends(app, [first, broken]) == {first: "s3", broken: "local"}
    assert local_storage.path(broken_keys[0]).exists()  # a row not moved keeps its files
    assert await bucket_keys(target) == set(first_keys)


async def test_variants_move_with_their_file_under_their_own_types(
    app, settings, create_local, target, migrate
):
    image, keys = await create_local(samples.photo((300, 200)), "varied.jpg")
    local = settings.model_copy(update={"media_storage": "local"})
    assert (await make_variants_for_existing(local, missing=True)).done == 1
    async with app.state.sessionmaker() as session:
        variant_keys = list(
            await session.scalars(select(MediaVariant.path).where(MediaVariant.file_id == image))
        )
    assert len(variant_keys) == 8
    status, out, err = await migrate()
    assert status == 0, err
    assert "1 files moved to s3 (13 objects with thumbnails and variants)" in out
    assert await bucket_keys(target) == {*keys, *variant_keys}
    async with httpx.AsyncClient() as http:
        for key in variant_keys:
            response = await http.get(target.url(key, ""))
            assert response.headers["content-type"] == f"image/{key.rsplit('.', 1)[1]}"
