"""The media file's read model: the Python builders against the Pydantic models (OpenAPI), with
the keys in the seeds' order (the link seeds' "Image Data Structure", then what API.md adds to a
file object); the list's rows and a loaded file give the same object; and on PostgreSQL the JSON
the database writes inside links and portfolios equals the Python builders'."""

import json

import pytest
from pydantic import ValidationError
from sqlalchemy import literal, select

from app.common.json_sql import MEDIA_PREFIX, as_text, embedded_media_sql, file_by_id_sql
from app.media import repository
from app.media.dependencies import MediaUrls
from app.media.read_model import (
    FileOut,
    ImageOut,
    MediaFileOut,
    OtherFileOut,
    file_payload,
    loaded_payload,
    media_payload,
)
from app.models import MediaFile
from tests.factories import create_document, create_image
from tests.media.conftest import upload
from tests.media.samples import PDF, simple
from tests.shapes import assert_same_shape, seed

IMAGE_SEED = seed("retrieve_link")["image_data"]
IMAGE_KEYS = list(IMAGE_SEED)
FILE_KEYS = IMAGE_KEYS[: IMAGE_KEYS.index("width")]  # a file object: no image fields
FILE_SEED = {key: IMAGE_SEED[key] for key in FILE_KEYS}
FILE_EXTRAS = ["mime_type", "alt", "created_at", "updated_at"]
WEB_FIELDS = ["focal_point", "placeholder", "variants"]  # API.md, "Media for the web"


@pytest.fixture
async def files(app, db_connection):
    """An image (with its four thumbnails, their variants and a focal point) and a document,
    both with Persian names."""
    image = await create_image(
        app, "تصویر آزمایشی", size=73062, mode="RGB", focal_x=0.25, focal_y=0.7
    )
    document = await create_document(app, "گزارش سالانه")
    return [image.id, document.id]


def _urls(app):
    return MediaUrls(app.state.storage, "http://testserver")


async def _rows(session, ids):
    statement = repository.select_files().where(MediaFile.id.in_(ids)).order_by(MediaFile.id)
    return list(await session.execute(statement))


def _validates(model, payload):
    return model.model_validate(payload).model_dump(mode="json", exclude_unset=True) == payload


async def test_the_python_builders_match_the_models_in_seed_order(app, files):
    async with app.state.read_sessionmaker() as session:
        rows = await _rows(session, files)
        renditions = await repository.renditions_by_file(session, files)
    image_row, document_row = rows
    image = repository.image_payload(image_row, renditions[image_row.id], _urls(app))
    document = media_payload(document_row, (), _urls(app))

    assert list(image) == IMAGE_KEYS + WEB_FIELDS + FILE_EXTRAS
    assert image["focal_point"] == {"x": 0.25, "y": 0.7}
    assert [(v["box"], v["format"]) for v in image["variants"]] == [
        (box, image_format) for box in (64, 128, 512, 1080) for image_format in ("avif", "webp")
    ]
    assert image["variants"][0]["f"].endswith("_variant_64x64.avif")
    assert _validates(MediaFileOut, image)
    assert_same_shape(image, IMAGE_SEED)
    assert [thumbnail["size"] for thumbnail in image["thumbnails"]] == [
        thumbnail["size"] for thumbnail in IMAGE_SEED["thumbnails"]
    ]
    assert list(document) == FILE_KEYS + FILE_EXTRAS
    assert _validates(MediaFileOut, document)
    assert_same_shape(document, FILE_SEED)
    for row in rows:  # meta `value_file`: a plain file object, images too
        plain = file_payload(row, _urls(app))
        assert list(plain) == list(FileOut.model_fields) == FILE_KEYS + FILE_EXTRAS
        assert _validates(FileOut, plain)


async def test_a_list_row_and_a_loaded_file_give_the_same_object(app, media_client, files):
    async with app.state.read_sessionmaker() as session:
        rows = await _rows(session, files)
        listed = await repository.payloads_for_rows(session, rows, _urls(app))
        loaded = [
            loaded_payload(await repository.get_with_renditions(session, media_id), _urls(app))
            for media_id in files
        ]
    assert loaded == listed
    assert [list(payload) for payload in loaded] == [list(payload) for payload in listed]
    page = (await media_client.get("/api/media/", params={"ordering": "id"})).json()
    assert page["results"] == listed
    for media_id, payload in zip(files, listed, strict=True):
        assert (await media_client.get(f"/api/media/{media_id}")).json() == payload


async def test_database_json_matches_the_python_builders(app, backend, files):
    if backend != "postgresql":
        pytest.skip("JSON is written by the database on PostgreSQL only")
    urls = _urls(app)
    if urls.prefix is None:
        pytest.skip("this storage's URLs are not a prefix and the key: no database JSON")
    media, media_object = embedded_media_sql(MEDIA_PREFIX)
    objects = select(as_text(media_object)).where(media.id.in_(files)).order_by(media.id)
    plain = [select(as_text(file_by_id_sql(literal(media_id), MEDIA_PREFIX))) for media_id in files]
    params = {"media_prefix": urls.prefix}
    async with app.state.read_sessionmaker() as session:
        written = [json.loads(text) for text in await session.scalars(objects, params)]
        written_plain = [json.loads(await session.scalar(s, params)) for s in plain]
        rows = await _rows(session, files)
        built = await repository.payloads_for_rows(session, rows, urls)
    assert written == built
    assert [list(payload) for payload in written] == [list(payload) for payload in built]
    built_plain = [file_payload(row, urls) for row in rows]
    assert written_plain == built_plain
    assert [list(payload) for payload in written_plain] == [FILE_KEYS + FILE_EXTRAS] * 2


async def test_file_objects_are_told_apart_by_type_as_the_document_says(media_client):
    """An image validates as `ImageOut` (its image fields required), any other file as
    `OtherFileOut`; `MediaFileOut` picks by `type`, as generated clients narrow."""
    image = (await upload(media_client, simple("PNG"), "a.png")).json()
    document = (await upload(media_client, PDF, "a.pdf")).json()
    assert isinstance(MediaFileOut.model_validate(image).root, ImageOut)
    assert isinstance(MediaFileOut.model_validate(document).root, OtherFileOut)
    with pytest.raises(ValidationError):
        ImageOut.model_validate(document)
    listed = (await media_client.get("/api/media/")).json()["results"]
    assert {type(MediaFileOut.model_validate(item).root) for item in listed} == {
        ImageOut,
        OtherFileOut,
    }
