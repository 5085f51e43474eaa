"""Variants end to end: an upload answers at once with `variants: []`, a worker then makes them
(in the storage the app uses, local or S3), `media.variants_ready` follows; the trash moves,
restores and purges them with the file; a file deleted before its job runs gets none."""

import asyncio
import io
import json

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.jobs.worker import Worker
from app.media import variant_jobs
from app.models import Event, Job, MediaVariant
from tests.factories import create_staff, create_superuser
from tests.media import samples
from tests.media.conftest import upload
from tests.webhooks.test_delivery import fast, until

BOXES = [64, 128, 512, 1080]
FORMATS = {"avif": "AVIF", "webp": "WEBP"}


@pytest.fixture
async def api(app, committing_client):
    """Commits for real: the worker reads what the requests wrote."""
    staff = await create_staff(app, 1101, 1102, 1103, 1104)
    committing_client.headers.update(staff.headers)
    return committing_client


@pytest.fixture
async def start_worker(app, settings):
    running: list[tuple[Worker, asyncio.Task]] = []

    def start() -> Worker:
        worker = Worker(app.state.engine, fast(settings))
        running.append((worker, asyncio.create_task(worker.run())))
        return worker

    yield start
    for worker, _task in running:
        worker.stop()
    await asyncio.gather(*(task for _worker, task in running))


async def variants_of(api, media_id: int, within: float = 30.0) -> dict:
    """The file once its variants are there."""
    found: dict = {}

    async def ready() -> bool:
        found.update((await api.get(f"/api/media/{media_id}")).json())
        return bool(found["variants"])

    await until(ready, within=within, every=0.1)
    return found


async def jobs_left(app) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Job))


def decoded(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


@pytest.mark.parametrize(
    ("content", "filename", "size", "mode"),
    [
        # Stored 1920x1080 with EXIF orientation 6 and a GPS position: upright it is 1080x1920.
        (samples.photo(orientation=6, gps=True), "rotated.jpg", (1080, 1920), "RGB"),
        (samples.transparent_png((300, 200)), "alpha.png", (300, 200), "RGBA"),
    ],
    ids=["rotated-jpeg", "alpha-png"],
)
async def test_variants_follow_the_upload_upright_with_alpha_and_no_metadata(
    app, api, media_store, start_worker, content, filename, size, mode
):
    created = await upload(api, content, filename)
    assert created.status_code == 201, created.text
    assert created.json()["variants"] == []
    start_worker()
    media = await variants_of(api, created.json()["id"])

    assert [(v["box"], v["format"]) for v in media["variants"]] == [
        (box, name) for box in BOXES for name in sorted(FORMATS)
    ]
    for variant in media["variants"]:
        fetched = await media_store.fetch(api, variant["f"])
        assert fetched.status_code == 200
        assert len(fetched.content) == variant["bytes"]
        image = decoded(fetched.content)
        assert image.format == FORMATS[variant["format"]]
        assert image.size == (variant["width"], variant["height"])
        box = variant["box"]
        assert max(image.size) == min(box, max(size))  # fitted upright, never enlarged
        assert (image.width > image.height) == (size[0] > size[1])
        assert image.mode == mode
        assert not image.getexif()
        assert "icc_profile" not in image.info
        assert "xmp" not in image.info
        assert f"_variant_{box}x{box}.{variant['format']}" in variant["f"]

    async with app.state.sessionmaker() as session:
        ready = await session.scalar(select(Event).where(Event.type == "media.variants_ready"))
    data = json.loads(ready.body)["data"]
    assert data["id"] == media["id"]
    assert [v["bytes"] for v in data["variants"]] == [v["bytes"] for v in media["variants"]]


async def test_a_file_deleted_before_its_job_runs_gets_no_variants(
    app, api, media_store, start_worker
):
    created = (await upload(api, samples.photo(), "gone.jpg")).json()
    assert (await api.delete(f"/api/media/{created['id']}")).status_code == 204
    before = await media_store.keys()
    start_worker()

    async def done() -> bool:
        return await jobs_left(app) == 0

    await until(done, within=30)
    assert await media_store.keys() == before  # nothing stored for it
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(MediaVariant)) == 0


async def test_the_trash_keeps_restores_and_purges_the_variants(
    app, api, media_store, start_worker
):
    start_worker()
    created = (await upload(api, samples.photo(), "kept.jpg")).json()
    media = await variants_of(api, created["id"])
    variant_keys = {media_store.key(v["f"]) for v in media["variants"]}
    assert len(variant_keys) == 8
    assert variant_keys <= await media_store.keys()

    assert (await api.delete(f"/api/media/{media['id']}")).status_code == 204
    assert variant_keys <= await media_store.keys()  # restorable: still stored
    restored = await api.post(f"/api/trash/media/{media['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["variants"] == media["variants"]

    assert (await api.delete(f"/api/media/{media['id']}")).status_code == 204
    superuser = await create_superuser(app)
    purged = await api.delete(f"/api/trash/media/{media['id']}", headers=superuser.headers)
    assert purged.status_code == 204

    async def files_gone() -> bool:
        return not (variant_keys & await media_store.keys())

    await until(files_gone, within=10)
    assert not {media_store.key(media["f"]), *variant_keys} & await media_store.keys()


async def test_a_file_deleted_while_its_variants_render_keeps_none_of_them(
    app, api, media_store, start_worker, monkeypatch
):
    created = (await upload(api, samples.photo(), "racing.jpg")).json()
    render = variant_jobs._render

    async def render_then_lose_the_file(*args):
        rendered = await render(*args)
        assert (await api.delete(f"/api/media/{created['id']}")).status_code == 204
        return rendered

    monkeypatch.setattr(variant_jobs, "_render", render_then_lose_the_file)
    before = await media_store.keys()
    start_worker()

    async def done() -> bool:
        return await jobs_left(app) == 0

    await until(done, within=30)
    assert await media_store.keys() == before  # the eight stored meanwhile were removed
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(MediaVariant)) == 0
