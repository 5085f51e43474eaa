"""The portfolio read model's forms agree: the Python builder with the Pydantic model (OpenAPI),
and on PostgreSQL the JSON the database writes (a page and one portfolio) with the Python
builder's, on awkward data (Unicode, ties in sizes, a document in meta, a bare portfolio)."""

import pytest
from sqlalchemy import select

from app.media.dependencies import MediaUrls
from app.models import Employer, Portfolio, PortfolioMeta, Tag
from app.portfolios.read_model import PortfolioOut, portfolio_payloads
from app.portfolios.repository import COLUMNS
from tests.factories import create_document, create_image, create_row


@pytest.fixture
async def portfolio_id(app, admin_client):
    """A portfolio with everything nested (made through the API), and a bare one after it."""
    image = await create_image(app, "گالری", size=73062, mode="RGB")
    second = await create_image(app, "second", size=1160)
    document = await create_document(app, "brochure")
    employer = await create_row(app, Employer, name="digikala", description=None, image_id=image.id)
    tags = [await create_row(app, Tag, name=name, image_id=image.id) for name in ("b", "a")]
    created = await admin_client.post(
        "/api/portfolios/",
        json={
            "title": "طراحی سایت", "excerpt": "e", "image": second.id, "employer": employer.id,
            "tags": [tags[0].id, tags[1].id], "images": [second.id, image.id],
            "completed_at": "2024-12-14T00:00:00Z", "description": "d",
        },
    )  # fmt: skip
    created_id: int = created.json()["id"]
    await admin_client.post(
        f"/api/portfolios/{created_id}/links/", json={"name": "l", "image": image.id}
    )
    await create_row(
        app, PortfolioMeta, portfolio_id=created_id, key="k", value_file_id=document.id
    )
    await create_row(app, Portfolio, title="bare", slug="bare")
    return created_id


async def _from_python(app):
    async with app.state.read_sessionmaker() as session:
        rows = list(await session.execute(select(*COLUMNS).order_by(Portfolio.id)))
        return await portfolio_payloads(
            session, rows, MediaUrls(app.state.storage, "http://testserver")
        )


async def test_the_python_builder_matches_the_model(app, portfolio_id):
    """`portfolio_payloads` gives the fields of `PortfolioOut`, in its order."""
    payloads = await _from_python(app)
    assert [payload["id"] for payload in payloads] == [portfolio_id, payloads[1]["id"]]
    for payload in payloads:
        assert list(payload) == list(PortfolioOut.model_fields)
        dumped = PortfolioOut.model_validate(payload).model_dump(mode="json", exclude_unset=True)
        assert dumped == payload
    assert payloads[1]["image_data"] is None
    assert payloads[1]["tags_data"] == []


async def test_portfolio_json_matches_the_python_serialiser(
    app, admin_client, backend, portfolio_id
):
    if backend != "postgresql":
        pytest.skip("JSON is written by the database on PostgreSQL only")
    from_database = (await admin_client.get("/api/portfolios/", params={"ordering": "id"})).json()
    from_python = await _from_python(app)
    assert from_database["results"] == from_python
    single = (await admin_client.get(f"/api/portfolios/{portfolio_id}")).json()
    assert single == from_python[0]


async def test_the_plain_page_in_one_statement_matches_the_filtered_one(
    app, admin_client, backend, portfolio_id, count_statements
):
    """The page most requests ask for is one statement on PostgreSQL: the same page, count and
    order as a filter that keeps every portfolio (which takes the general path)."""
    if backend != "postgresql":
        pytest.skip("JSON is written by the database on PostgreSQL only")
    for page in ({"limit": 1}, {"limit": 1, "offset": 1}, {"limit": 5}):
        count_statements.statements.clear()
        plain = (await admin_client.get("/api/portfolios/", params=page)).json()
        assert count_statements.count == 2  # the token, then the page
        kept = await admin_client.get("/api/portfolios/", params={**page, "is_active": "true"})
        assert (plain["count"], plain["results"]) == (kept.json()["count"], kept.json()["results"])
    whole = (await admin_client.get("/api/portfolios/")).json()
    assert sorted(whole["results"], key=lambda p: p["id"]) == await _from_python(app)
