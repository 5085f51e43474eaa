"""Portfolio meta: keys unique per portfolio, files by id or by object, 404 across parents."""

import pytest

from app.models import Portfolio
from tests.factories import create_document, create_image, create_row


@pytest.fixture
async def portfolio(app, db_connection):
    return await create_row(app, Portfolio, title="Meta", slug="meta")


async def test_create_with_a_file_and_read_it_back(app, admin_client, portfolio):
    document = await create_document(app, "brochure")
    base = f"/api/portfolios/{portfolio.id}/meta"
    created = await admin_client.post(
        f"{base}/", json={"key": "brochure", "value_file": document.id}
    )
    assert created.status_code == 201
    body = created.json()
    assert list(body) == ["id", "key", "value_text", "value_file", "created_at", "updated_at"]
    assert list(body["value_file"]) == [
        "id", "type", "name", "size", "human_readable_size", "f",
        "mime_type", "alt", "created_at", "updated_at",
    ]  # fmt: skip
    assert body["value_file"]["type"] == "document"
    shown = (await admin_client.get(f"/api/portfolios/{portfolio.id}")).json()["meta"]
    assert shown == [{k: body[k] for k in ("id", "key", "value_text", "value_file")}]


async def test_value_file_may_be_the_object_an_spa_read(app, admin_client, portfolio):
    image = await create_image(app)
    base = f"/api/portfolios/{portfolio.id}/meta/"
    created = (await admin_client.post(base, json={"key": "logo", "value_file": image.id})).json()
    sent_back = await admin_client.patch(
        f"{base}{created['id']}", json={**created, "value_text": "the logo"}
    )
    assert sent_back.status_code == 200
    assert sent_back.json()["value_file"]["id"] == image.id
    assert sent_back.json()["value_text"] == "the logo"
    cleared = (await admin_client.patch(f"{base}{created['id']}", json={"value_file": None})).json()
    assert cleared["value_file"] is None


async def test_keys_are_unique_within_a_portfolio_only(app, admin_client, portfolio):
    other = await create_row(app, Portfolio, title="Other", slug="other")
    await admin_client.post(f"/api/portfolios/{portfolio.id}/meta/", json={"key": "color"})
    dup = await admin_client.post(f"/api/portfolios/{portfolio.id}/meta/", json={"key": "color"})
    assert dup.status_code == 400
    assert dup.json() == {"key": ["portfolio meta with this key already exists."]}
    elsewhere = await admin_client.post(f"/api/portfolios/{other.id}/meta/", json={"key": "color"})
    assert elsewhere.status_code == 201


async def test_meta_of_another_portfolio_is_not_found(app, admin_client, portfolio):
    other = await create_row(app, Portfolio, title="Other", slug="other")
    item = (await admin_client.post(f"/api/portfolios/{other.id}/meta/", json={"key": "k"})).json()
    for method in ("GET", "PATCH", "DELETE"):
        response = await admin_client.request(
            method,
            f"/api/portfolios/{portfolio.id}/meta/{item['id']}",
            json={} if method == "PATCH" else None,
        )
        assert response.status_code == 404
    assert (await admin_client.get(f"/api/portfolios/{2**62}/meta/")).status_code == 404


async def test_list_and_search(admin_client, portfolio):
    base = f"/api/portfolios/{portfolio.id}/meta/"
    await admin_client.post(base, json={"key": "color", "value_text": "آبی"})
    await admin_client.post(base, json={"key": "size", "value_text": "large"})
    body = (await admin_client.get(base, params={"search": "آبی"})).json()
    assert [m["key"] for m in body["results"]] == ["color"]
    assert (await admin_client.get(base, params={"ordering": "key"})).json()["count"] == 2
