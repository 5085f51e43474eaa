"""The link read model's forms agree: the Python builders with the Pydantic models (OpenAPI) and
with a portfolio's `links_data`; on PostgreSQL the JSON the database writes equals the Python
builder's on awkward data (Unicode names and file names, documents, no image), and the plain
page's single statement equals the filtered path."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.links.read_model import LinkData, LinkOut, link_data, link_payloads
from app.links.repository import COLUMNS, LINKS
from app.media.dependencies import MediaUrls
from app.media.repository import load_media
from app.models import Portfolio, PortfolioLink
from tests.factories import create_document, create_image, create_row


@pytest.fixture
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("JSON is written by the database on PostgreSQL only")


async def test_the_python_builders_match_the_models_and_the_portfolio(app, admin_client):
    """`link_payload` and `link_data` give the fields of `LinkOut` and `LinkData`, in their
    order; a portfolio's `links_data` (written by PostgreSQL there) is `link_data`."""
    portfolio = await create_row(app, Portfolio, title="shapes", slug="shapes")
    image = await create_image(app, "تصویر")
    for name, media_id, order in (("با تصویر", image.id, 1), ("none", None, 0)):
        await create_row(
            app, PortfolioLink, portfolio_id=portfolio.id, name=name, image_id=media_id,
            order=order, url="https://github.com/x",
        )  # fmt: skip
    portfolio_order = (LINKS.c.order, LINKS.c.created_at.desc(), LINKS.c.id.desc())
    async with app.state.read_sessionmaker() as session:
        rows = list(await session.execute(select(*COLUMNS).order_by(*portfolio_order)))
        urls = MediaUrls(app.state.storage, "http://testserver")
        payloads = await link_payloads(session, rows, urls)
        media = await load_media(session, [row.image_id for row in rows], urls)
    embedded = [link_data(row, media) for row in rows]
    for model, shapes in ((LinkOut, payloads), (LinkData, embedded)):
        for shape in shapes:
            assert list(shape) == list(model.model_fields)
            assert model.model_validate(shape).model_dump(mode="json", exclude_unset=True) == shape
    assert [shape["image_data"] is None for shape in embedded] == [True, False]
    full = (await admin_client.get(f"/api/portfolios/{portfolio.id}")).json()
    assert full["links_data"] == embedded


@pytest.mark.usefixtures("postgres_only")
async def test_link_page_matches_the_python_serialiser(app, admin_client):
    portfolio = await create_row(app, Portfolio, title="J", slug="j")
    image = await create_image(app, "پیک موتوری", size=1152)
    document = await create_document(app)
    stamp = datetime(2026, 1, 12, 16, 43, 37, tzinfo=UTC)
    for name, media_id in (("با تصویر", image.id), ("doc", document.id), ("none", None)):
        await create_row(
            app, PortfolioLink, portfolio_id=portfolio.id, name=name, image_id=media_id,
            url="https://github.com/x", description="", created_at=stamp, updated_at=stamp,
        )  # fmt: skip
    from_database = (await admin_client.get(f"/api/portfolios/{portfolio.id}/links/")).json()
    async with app.state.read_sessionmaker() as session:
        rows = list(await session.execute(select(*COLUMNS).order_by(PortfolioLink.id.desc())))
        urls = MediaUrls(app.state.storage, "http://testserver")
        from_python = await link_payloads(session, rows, urls)
    assert from_database["results"] == from_python
    assert from_database["results"][0]["image_data"] is None
    assert "%D9%BE" in from_database["results"][2]["image_data"]["f"]  # percent-encoded Persian


@pytest.mark.usefixtures("postgres_only")
async def test_the_plain_page_in_one_statement_equals_the_filtered_path(app, admin_client):
    image = await create_image(app, "پیوند")
    portfolio = await create_row(app, Portfolio, title="paged", slug="paged")
    for number in range(5):
        await create_row(
            app, PortfolioLink, portfolio_id=portfolio.id, name=f"link {number}",
            order=number % 2, image_id=image.id if number % 2 else None,
        )  # fmt: skip
    path = f"/api/portfolios/{portfolio.id}/links/"
    for limit, offset in ((2, 0), (2, 2), (10, 0), (2, 4), (2, 5), (2, 50)):
        plain = (await admin_client.get(path, params={"limit": limit, "offset": offset})).json()
        filtered = (
            await admin_client.get(path, params={"limit": limit, "offset": offset, "id_min": 0})
        ).json()
        assert plain["count"] == filtered["count"] == 5
        assert plain["results"] == filtered["results"]
        assert (plain["next"] is None) == (filtered["next"] is None)
        assert (plain["previous"] is None) == (filtered["previous"] is None)
    missing = await admin_client.get("/api/portfolios/999999/links/")
    assert missing.status_code == 404
