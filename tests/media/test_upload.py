"""Uploads: the seeds' image shape, thumbnails, location stripping and every refusal."""

import asyncio
import base64
import io
import re
import threading
from datetime import UTC, datetime

import pytest
from PIL import Image

from app.common.workers import BoundedPool
from app.media.storage import NewObject, StorageError
from app.media.storage.local import LocalStorage
from tests.media import samples
from tests.media.conftest import upload

SEED_IMAGE_KEYS = [
    "id", "type", "name", "size", "human_readable_size", "f",
    "width", "height", "mode", "thumbnails", "focal_point", "placeholder", "variants",
    "mime_type", "alt", "created_at", "updated_at",
]  # fmt: skip
IMAGE_ONLY = ("width", "height", "mode", "thumbnails", "focal_point", "placeholder", "variants")
FILE_KEYS = [k for k in SEED_IMAGE_KEYS if k not in IMAGE_ONLY]


@pytest.fixture
def fetch(media_store):
    """GET a file's URL (the app's /media/ or the bucket), expecting it there."""

    async def fetch(client, url):
        response = await media_store.fetch(client, url)
        assert response.status_code == 200, url
        return response

    return fetch


async def test_jpeg_upload_has_the_seed_shape(media_client, media_store):
    content = samples.photo()
    response = await upload(media_client, content, "technology.jpg")
    assert response.status_code == 201, response.text
    body = response.json()
    assert list(body) == SEED_IMAGE_KEYS
    assert body["type"] == "image"
    assert body["mime_type"] == "image/jpeg"
    assert body["name"] == "technology"
    assert body["size"] == len(content)
    assert (body["width"], body["height"], body["mode"]) == (1920, 1080, "RGB")
    assert body["alt"] == ""
    # Painted before the image loads; the variants come from a job after the upload commits.
    assert (body["focal_point"], body["variants"]) == (None, [])
    assert len(base64.b64decode(body["placeholder"], validate=True)) > 5
    today = datetime.now(UTC).strftime("%Y/%m/%d")
    base = media_store.base  # http://testserver/media/, or the bucket's URL and key prefix
    assert body["f"] == f"{base}core_media/{today}/technology.jpg"
    assert [t["size"] for t in body["thumbnails"]] == [64, 128, 512, 1080]
    stored = await media_store.keys()
    for thumbnail in body["thumbnails"]:
        assert list(thumbnail) == ["id", "f", "size"]
        box = thumbnail["size"]
        assert thumbnail["f"] == (
            f"{base}core_media/{today}/thumbnails/technology_thumbnail_{box}x{box}.jpg"
        )
        assert media_store.key(thumbnail["f"]) in stored
    assert len({t["id"] for t in body["thumbnails"]}) == 4


async def test_files_are_served_with_their_type_and_long_caching(media_client, fetch):
    body = (await upload(media_client, samples.photo((400, 300)), "served.jpg")).json()
    for url in (body["f"], body["thumbnails"][0]["f"]):
        response = await fetch(media_client, url)
        assert response.headers["content-type"] == "image/jpeg"
        assert "max-age=31536000" in response.headers["cache-control"]
        assert "content-disposition" not in response.headers  # images show inline


async def test_local_files_are_served_with_nosniff(media_client, media_store, fetch):
    if media_store.backend != "local":
        pytest.skip("a bucket cannot add the header: the CDN in front of it should")
    body = (await upload(media_client, samples.photo((400, 300)), "served.jpg")).json()
    response = await fetch(media_client, body["f"])
    assert response.headers["x-content-type-options"] == "nosniff"
    missing = await media_client.get("/media/core_media/none.jpg")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not found."}


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.fixture
def thumbnail_images(fetch):
    async def thumbnail_images(client, body):
        return {
            t["size"]: opened((await fetch(client, t["f"])).content) for t in body["thumbnails"]
        }

    return thumbnail_images


async def test_thumbnails_fit_their_boxes_and_are_never_enlarged(media_client, thumbnail_images):
    body = (await upload(media_client, samples.photo((700, 350)), "small.jpg")).json()
    sizes = {box: image.size for box, image in (await thumbnail_images(media_client, body)).items()}
    assert sizes == {64: (64, 32), 128: (128, 64), 512: (512, 256), 1080: (700, 350)}


async def test_thumbnails_apply_exif_orientation_and_drop_metadata(media_client, thumbnail_images):
    content = samples.photo((800, 400), orientation=6, gps=True)
    body = (await upload(media_client, content, "turned.jpg")).json()
    assert (body["width"], body["height"]) == (800, 400)  # the stored pixels, as Django reports
    images = await thumbnail_images(media_client, body)
    assert images[512].size == (256, 512)  # displayed upright: portrait
    for image in images.values():
        assert image.format == "JPEG"
        assert not image.getexif()


async def test_location_is_removed_from_the_original_without_recompressing(media_client, fetch):
    content = samples.photo((640, 480), orientation=3, gps=True)
    assert samples.GPS_IFD in opened(content).getexif()
    body = (await upload(media_client, content, "where.jpg")).json()
    stored = (await fetch(media_client, body["f"])).content
    exif = opened(stored).getexif()
    assert samples.GPS_IFD not in exif
    assert exif[samples.ORIENTATION] == 3  # the rest of the EXIF stays
    scan = content.index(b"\xff\xda")
    assert stored[stored.index(b"\xff\xda") :] == content[scan:]  # identical compressed pixels
    assert body["size"] == len(stored)


@pytest.mark.parametrize(
    ("content", "mime_type", "extension", "mode"),
    [
        (samples.transparent_png(), "image/png", "png", "RGBA"),
        (samples.palette_png(), "image/png", "png", "P"),
        (samples.animated_gif(), "image/gif", "gif", "P"),
        (samples.simple("WEBP"), "image/webp", "webp", "RGB"),
        (samples.simple("BMP"), "image/bmp", "bmp", "RGB"),
        (samples.simple("TIFF"), "image/tiff", "tif", "RGB"),
    ],
)
async def test_every_image_format_keeps_its_format(
    media_client, thumbnail_images, content, mime_type, extension, mode
):
    body = (await upload(media_client, content, "picture.dat")).json()
    assert body["mime_type"] == mime_type
    assert body["mode"] == mode
    assert body["f"].endswith(f".{extension}")
    for image in (await thumbnail_images(media_client, body)).values():
        assert image.format == opened(content).format
        assert getattr(image, "n_frames", 1) == 1


async def test_transparency_survives_in_thumbnails(media_client, thumbnail_images):
    for content in (samples.transparent_png(), samples.palette_png()):
        body = (await upload(media_client, content, "clear.png")).json()
        thumbnail = (await thumbnail_images(media_client, body))[128].convert("RGBA")
        assert thumbnail.getpixel((0, 0))[3] == 0


async def test_seed_sized_palette_png(media_client):
    body = (await upload(media_client, samples.palette_png(), "technology.png")).json()
    assert (body["width"], body["height"], body["mode"]) == (225, 225, "P")
    assert re.fullmatch(r"\d+\.\d\d (B|KB)", body["human_readable_size"])


@pytest.mark.parametrize(
    ("content", "filename", "kind", "mime_type", "extension"),
    [
        (b"just some text, not a picture", "fake.jpg", "document", "text/plain", "txt"),
        (samples.PDF, "report.pdf", "document", "application/pdf", "pdf"),
        (b"\x00\x01\x02binary", "blob.exe", "file", "application/octet-stream", "bin"),
    ],
)
async def test_non_images_are_plain_files(
    media_client, content, filename, kind, mime_type, extension
):
    response = await upload(media_client, content, filename)
    assert response.status_code == 201
    body = response.json()
    assert list(body) == FILE_KEYS
    assert (body["type"], body["mime_type"]) == (kind, mime_type)
    assert body["f"].endswith(f".{extension}")


@pytest.mark.parametrize(
    ("content", "mime_type"),
    [(samples.SVG_WITH_SCRIPT, "image/svg+xml"), (samples.HTML_PAGE, "text/html")],
)
async def test_active_content_is_refused(media_client, media_store, content, mime_type):
    before = await media_store.keys()
    response = await upload(media_client, content, "innocent.png")
    assert response.status_code == 415
    assert mime_type in response.json()["detail"]
    assert await media_store.keys() == before
    assert (await media_client.get("/api/media/")).json()["count"] == 0


@pytest.mark.parametrize(
    "content",
    [samples.photo((800, 600))[:5000], b"\x89PNG\r\n\x1a\n" + b"garbage" * 20],
    ids=["truncated jpeg", "broken png"],
)
async def test_corrupt_images_are_refused(media_client, media_store, content):
    before = await media_store.keys()
    response = await upload(media_client, content, "broken.jpg")
    assert response.status_code == 400
    assert response.json() == {
        "file": [
            "Upload a valid image. The file you uploaded was either not an image "
            "or a corrupted image."
        ]
    }
    assert await media_store.keys() == before


async def test_decompression_bomb_is_refused(media_client, media_store):
    before = await media_store.keys()
    response = await upload(media_client, samples.png_declaring(20000, 20000), "bomb.png")
    assert response.status_code == 400
    assert response.json() == {
        "file": ["Image is too large: 400000000 pixels, the limit is 40000000."]
    }
    assert await media_store.keys() == before


async def test_empty_and_missing_files(media_client):
    empty = await upload(media_client, b"", "empty.txt")
    assert empty.status_code == 400
    assert empty.json() == {"file": ["The submitted file is empty."]}
    missing = await media_client.post("/api/media/", data={"name": "x"}, files={})
    assert missing.status_code == 400
    assert missing.json() == {"file": ["This field is required."]}


async def test_json_where_an_upload_is_expected_is_415(media_client):
    response = await media_client.post("/api/media/", json={"file": "x"})
    assert response.status_code == 415
    assert response.json() == {"detail": 'Unsupported media type "application/json" in request.'}


async def test_unicode_names_are_kept_and_paths_are_safe(media_client, media_store, fetch):
    body = (await upload(media_client, samples.photo((200, 100)), "پیک موتوری.jpg")).json()
    assert body["name"] == "پیک موتوری"
    assert media_store.key(body["f"]).endswith("/پیک_موتوری.jpg")
    await fetch(media_client, body["f"])


async def test_path_traversal_in_file_names_stays_inside(media_client, media_store):
    body = (await upload(media_client, b"text", "../../../etc/passwd")).json()
    assert body["name"] == "passwd"
    assert media_store.key(body["f"]).startswith("core_media/")
    assert media_store.key(body["f"]) in await media_store.keys()


async def test_name_and_alt_fields(media_client):
    response = await upload(
        media_client, samples.photo((100, 100)), "x.jpg", name="پیک موتوری", alt="a courier"
    )
    assert (response.json()["name"], response.json()["alt"]) == ("پیک موتوری", "a courier")
    bad = await upload(media_client, b"text", "x.txt", name="a\x00b", alt="y" * 1001)
    assert bad.status_code == 400
    assert bad.json() == {
        "name": ["Null characters are not allowed."],
        "alt": ["Ensure this field has no more than 1000 characters."],
    }


async def test_a_taken_name_gets_a_random_suffix(media_client):
    first = (await upload(media_client, samples.photo((100, 80)), "twin.jpg")).json()
    second = (await upload(media_client, samples.photo((100, 80)), "twin.jpg")).json()
    assert first["f"].endswith("/twin.jpg")
    assert re.search(r"/twin_[A-Za-z0-9]{7}\.jpg$", second["f"])
    assert re.search(
        r"/thumbnails/twin_[A-Za-z0-9]{7}_thumbnail_64x64\.jpg$", second["thumbnails"][0]["f"]
    )


async def test_a_database_failure_leaves_no_files(media_client, media_store, monkeypatch):
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.ext.asyncio import AsyncSession

    original_flush = AsyncSession.flush

    async def failing_flush(self, *args, **kwargs):
        if any(type(obj).__name__ == "MediaFile" for obj in self.new):
            raise OperationalError("INSERT", {}, Exception("connection lost"))
        return await original_flush(self, *args, **kwargs)

    monkeypatch.setattr(AsyncSession, "flush", failing_flush)
    before = await media_store.keys()
    response = await upload(media_client, samples.photo((300, 200)), "doomed.jpg")
    assert response.status_code == 503
    assert await media_store.keys() == before


@pytest.mark.parametrize(("after", "mode"), [(0, "error"), (1, "error"), (3, "drop")])
async def test_a_storage_failure_is_503_and_leaves_no_row_and_no_file(
    media_client, media_store, after, mode
):
    """The disk fills up, or the bucket answers 500 or hangs up, after `after` writes: the
    original, then the thumbnails."""
    name = f"unlucky_{after}_{mode}.jpg"
    before = await media_store.keys()
    async with media_store.failing(after, mode):
        response = await upload(media_client, samples.photo((300, 200)), name)
    assert response.status_code == 503
    assert response.json() == {"detail": "File storage temporarily unavailable, try again later."}
    assert await media_store.keys() == before
    assert (await media_client.get("/api/media/")).json()["count"] == 0
    retried = await upload(media_client, samples.photo((300, 200)), name)
    assert retried.status_code == 201
    assert retried.json()["f"].endswith(f"/{name}")  # the failed upload kept no name


async def test_a_batch_of_writes_is_stored_whole_or_not_at_all(app, media_store):
    """What the thumbnails of an upload are stored with: a failing third write takes the two
    before it away again, and a later batch of the same keys gets them unchanged."""
    batch = [
        NewObject(f"batch/{n}.png", samples.simple("PNG", (n, n)), "image/png") for n in (1, 2, 3)
    ]
    before = await media_store.keys()
    async with media_store.failing(2, "error"):
        with pytest.raises(StorageError):
            await app.state.storage.save_all(batch)
    assert await media_store.keys() == before
    assert await app.state.storage.save_all(batch) == ["batch/1.png", "batch/2.png", "batch/3.png"]


async def test_a_deleted_files_name_never_serves_other_bytes(media_client, media_store):
    """Media is served as immutable for a year: a cache holding the deleted picture under its
    URL must never be right about a different one."""
    first = (await upload(media_client, samples.photo((120, 90)), "image.jpg")).json()
    assert (await media_client.delete(f"/api/media/{first['id']}")).status_code == 204
    second = (await upload(media_client, samples.photo((90, 120)), "image.jpg")).json()
    assert first["f"].endswith("/image.jpg")
    assert re.search(r"/image_[A-Za-z0-9]{7}\.jpg$", second["f"])
    old_thumbnails = {thumbnail["f"] for thumbnail in first["thumbnails"]}
    assert not old_thumbnails & {thumbnail["f"] for thumbnail in second["thumbnails"]}
    # The deleted file waits in the trash with its bytes, under its own name, for a restore.
    assert media_store.key(first["f"]) in await media_store.keys()


async def test_a_full_image_queue_is_503_at_once_and_keeps_nothing(app, media_client, media_store):
    pool = BoundedPool("image-test", threads=1, queue=0)
    release = threading.Event()
    occupied = asyncio.ensure_future(pool.run(release.wait, 10))
    await asyncio.sleep(0.05)
    before = await media_store.keys()
    # Not monkeypatch: it would delete the attribute afterwards (State keeps no `__dict__` entry).
    original, app.state.image_pool = app.state.image_pool, pool
    try:
        refused = await upload(media_client, samples.photo((300, 200)), "queued.jpg")
    finally:
        app.state.image_pool = original
        release.set()
        await occupied
        pool.shutdown()
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "2"
    assert refused.json() == {"detail": "Server busy, try again later."}
    assert await media_store.keys() == before
    assert (await media_client.get("/api/media/")).json()["count"] == 0
    retried = await upload(media_client, samples.photo((300, 200)), "queued.jpg")
    assert retried.status_code == 201
    assert retried.json()["f"].endswith("/queued.jpg")


def test_the_upload_route_documents_the_503s_and_retry_after(app):
    responses = app.openapi()["paths"]["/api/media/"]["post"]["responses"]
    assert responses["503"]["description"] == (
        "Busy with other images, or database or file storage unreachable"
    )
    assert responses["503"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}


async def test_f_uses_the_configured_media_base_url(app, media_client, media_store):
    if media_store.backend != "local":
        pytest.skip("S3_PUBLIC_BASE_URL has its own test (test_s3.py)")
    storage = app.state.storage
    original = storage.base_url
    storage.base_url = "https://cdn.example.com"
    try:
        body = (await upload(media_client, b"text", "notes.txt")).json()
    finally:
        storage.base_url = original
    assert body["f"].startswith("https://cdn.example.com/media/core_media/")


def test_a_local_key_cannot_lead_out_of_the_media_root(tmp_path):
    storage = LocalStorage(tmp_path / "media", "/media/", None)
    for key in ("../secret.txt", "core_media/../../secret.txt", "/etc/passwd"):
        with pytest.raises(ValueError, match="outside the media root"):
            storage.path(key)
    assert storage.path("core_media/../a.txt") == (tmp_path / "media" / "a.txt").resolve()
