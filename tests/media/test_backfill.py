"""`portfolio-api media variants [--missing] [--format F]`: variants for images that have none
(uploaded before variants existed), through the `media.variants` jobs; resumable, idempotent,
with a progress bar; and `media migrate-storage` moves the variants with their files."""

import asyncio
import io

import pytest
from sqlalchemy import delete, func, select

from app.cli import main
from app.media.backfill import make_variants_for_existing
from app.models import Event, Job, MediaVariant
from app.settings import get_settings
from tests.factories import create_staff
from tests.media import samples
from tests.media.conftest import upload


@pytest.fixture
async def api(app, committing_client):
    staff = await create_staff(app, 1101, 1102, 1103, 1104)
    committing_client.headers.update(staff.headers)
    return committing_client


@pytest.fixture
async def older_images(app, api):
    """Three images and a document uploaded "before variants existed": their jobs never ran."""
    ids = []
    for n in range(3):
        created = await upload(api, samples.photo((400, 300)), f"old{n}.jpg")
        ids.append(created.json()["id"])
    await upload(api, samples.PDF, "report.pdf")
    async with app.state.engine.begin() as connection:
        await connection.execute(delete(Job))
    return ids


async def variants(app) -> dict[int, dict[tuple[int, str], str]]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(select(MediaVariant))
        found: dict[int, dict[tuple[int, str], str]] = {}
        for (variant,) in rows:
            found.setdefault(variant.file_id, {})[(variant.box, variant.format)] = variant.path
        return found


async def test_missing_variants_are_made_once_with_a_progress_bar(app, settings, older_images):
    progress = io.StringIO()
    report = await make_variants_for_existing(settings, missing=True, progress_stream=progress)
    assert (report.images, report.done, report.failed) == (3, 3, 0)
    assert "making variants [####################] 3/3" in progress.getvalue()
    made = await variants(app)
    assert sorted(made) == older_images
    assert all(len(each) == 8 for each in made.values())
    async with app.state.sessionmaker() as session:
        ready = await session.scalar(
            select(func.count()).where(Event.type == "media.variants_ready")
        )
        assert ready == 3
        assert await session.scalar(select(func.count()).select_from(Job)) == 0

    again = await make_variants_for_existing(settings, missing=True)
    assert (again.images, again.done) == (0, 0)  # idempotent: nothing left to make
    assert await variants(app) == made


async def test_an_interrupted_run_resumes_with_missing(app, settings, older_images):
    first = await make_variants_for_existing(settings, missing=True, formats=["webp"])
    assert first.done == 3
    async with app.state.engine.begin() as connection:  # one image's run was cut short
        await connection.execute(
            delete(MediaVariant).where(
                MediaVariant.file_id == older_images[1], MediaVariant.box == 1080
            )
        )
    resumed = await make_variants_for_existing(settings, missing=True, formats=["webp"])
    assert (resumed.images, resumed.done) == (1, 1)
    made = await variants(app)
    assert all(len(each) == 4 for each in made.values())  # webp only, every box


async def test_without_missing_a_format_is_made_afresh_and_the_old_files_go(
    app, settings, older_images, media_store
):
    await make_variants_for_existing(settings, missing=True)
    before = await variants(app)
    report = await make_variants_for_existing(settings, missing=False, formats=["avif"])
    assert report.done == 3
    after = await variants(app)
    for media_id in older_images:
        for (box, name), path in after[media_id].items():
            if name == "webp":
                assert path == before[media_id][(box, name)]
            else:  # a new name: the old URL may be cached for a year as immutable
                assert path != before[media_id][(box, name)]
    stored = await media_store.keys()
    old_avif = {p for each in before.values() for (_b, n), p in each.items() if n == "avif"}
    assert not old_avif & stored
    assert {p for each in after.values() for p in each.values()} <= stored


async def test_the_command_line(app, settings, older_images, cli_settings, capsys):
    status = await asyncio.to_thread(main, ["media", "variants", "--missing", "--format", "avif"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "3 of 3 images have their variants" in captured.out
    assert "3/3" in captured.err
    assert {name for each in (await variants(app)).values() for _box, name in each} == {"avif"}
    get_settings.cache_clear()
