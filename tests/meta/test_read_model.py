"""The meta item's read model: the Python builder against the Pydantic models, keys in the
seeds' order, and on PostgreSQL against the JSON the database writes in a portfolio's `meta`."""

import json

import pytest
from sqlalchemy import select

from app.media.dependencies import MediaUrls
from app.media.repository import load_files
from app.meta.read_model import MetaItemOut, MetaOut, meta_payload, meta_payloads
from app.meta.repository import COLUMNS
from app.models import Portfolio, PortfolioMeta
from app.portfolios.read_model import portfolio_json
from tests.factories import create_document, create_image, create_row

# The API seed's "Meta Data Structure" and "Meta value_file data structure" tables, then what
# API.md adds to a file object and to a resource's own endpoint.
META_KEYS = ["id", "key", "value_text", "value_file"]
FILE_KEYS = ["id", "type", "name", "size", "human_readable_size", "f"]
FILE_EXTRAS = ["mime_type", "alt", "created_at", "updated_at"]
TIMESTAMPS = ["created_at", "updated_at"]


@pytest.fixture
async def portfolio_id(app, db_connection):
    """A portfolio whose meta items hold a document, an image (shown as a plain file), no file
    with a Persian key, and nothing at all."""
    portfolio = await create_row(app, Portfolio, title="read model", slug="read-model")
    document = await create_document(app, "بروشور")
    image = await create_image(app, "logo", size=1152)
    for key, text, file_id in (
        ("brochure", "", document.id),
        ("logo", "the logo", image.id),
        ("کلید", "مقدار", None),
        ("empty", None, None),
    ):
        await create_row(
            app, PortfolioMeta, portfolio_id=portfolio.id, key=key, value_text=text,
            value_file_id=file_id,
        )  # fmt: skip
    return portfolio.id


def _urls(app):
    return MediaUrls(app.state.storage, "http://testserver")


async def _rows(app, portfolio_id):
    async with app.state.read_sessionmaker() as session:
        statement = select(*COLUMNS).where(PortfolioMeta.portfolio_id == portfolio_id)
        return list(await session.execute(statement.order_by(PortfolioMeta.id)))


async def test_item_payloads_validate_against_the_out_model_in_seed_order(app, portfolio_id):
    rows = await _rows(app, portfolio_id)
    async with app.state.read_sessionmaker() as session:
        payloads = await meta_payloads(session, rows, _urls(app))
    assert len(payloads) == 4
    for payload in payloads:
        assert list(payload) == list(MetaItemOut.model_fields) == META_KEYS + TIMESTAMPS
        assert MetaItemOut.model_validate(payload).model_dump(mode="json") == payload
    files = [payload["value_file"] for payload in payloads]
    assert [file is None for file in files] == [False, False, True, True]
    for file in files[:2]:
        assert list(file) == FILE_KEYS + FILE_EXTRAS
    assert files[1]["type"] == "image"
    assert "thumbnails" not in files[1]


async def test_embedded_payloads_validate_against_the_out_model(app, portfolio_id):
    rows = await _rows(app, portfolio_id)
    async with app.state.read_sessionmaker() as session:
        files = await load_files(session, [row.value_file_id for row in rows], _urls(app))
    for row in rows:
        payload = meta_payload(row, files)
        assert list(payload) == list(MetaOut.model_fields) == META_KEYS
        assert MetaOut.model_validate(payload).model_dump(mode="json") == payload


async def test_database_json_matches_the_python_builder(app, backend, portfolio_id):
    if backend != "postgresql":
        pytest.skip("JSON is written by the database on PostgreSQL only")
    urls = _urls(app)
    assert urls.prefix is not None
    rows = await _rows(app, portfolio_id)
    async with app.state.read_sessionmaker() as session:
        files = await load_files(session, [row.value_file_id for row in rows], urls)
        written = await portfolio_json(session, portfolio_id, urls.prefix)
    assert written is not None
    from_database = json.loads(written)["meta"]
    assert from_database == [meta_payload(row, files) for row in rows]
    assert [list(item) for item in from_database] == [META_KEYS] * 4
    assert list(from_database[0]["value_file"]) == FILE_KEYS + FILE_EXTRAS
