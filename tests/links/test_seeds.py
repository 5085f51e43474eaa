"""The link seeds replayed: every documented request works as written, shapes match."""

import pytest

from app.models import Portfolio
from tests.factories import create_image, create_row
from tests.shapes import assert_same_shape, seed


@pytest.fixture
async def portfolio(app, db_connection):
    return await create_row(app, Portfolio, title="Wordpress site", slug="wordpress-site")


async def test_create_link_seed(app, admin_client, portfolio):
    image = await create_image(app)
    response = await admin_client.post(
        f"/api/portfolios/{portfolio.id}/links/",
        json={
            "name": "github",
            "image": image.id,
            "url": "https://www.github.com/repo_name",
            "description": "Link to the project code",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert_same_shape(body, seed("create_link"), link_resource=True)
    assert (body["name"], body["url"], body["description"]) == (
        "github",
        "https://www.github.com/repo_name",
        "Link to the project code",
    )
    assert body["image_data"]["id"] == image.id
    assert [t["size"] for t in body["image_data"]["thumbnails"]] == [64, 128, 512, 1080]
    assert body["order"] == 0


async def test_create_without_the_trailing_slash_creates(admin_client, portfolio):
    response = await admin_client.post(
        f"/api/portfolios/{portfolio.id}/links", json={"name": "no slash"}
    )
    assert response.status_code == 201
    assert response.json()["name"] == "no slash"


async def test_update_link_seed_requests(app, admin_client, portfolio):
    first, second = await create_image(app), await create_image(app, "technology 2")
    link = (
        await admin_client.post(f"/api/portfolios/{portfolio.id}/links/", json={"name": "دمو"})
    ).json()
    path = f"/api/portfolios/{portfolio.id}/links/{link['id']}"

    renamed = await admin_client.patch(path, json={"name": "طراحی سایت وردپرسی", "image": first.id})
    assert renamed.status_code == 200
    assert_same_shape(renamed.json(), seed("update_link"), link_resource=True)
    assert renamed.json()["name"] == "طراحی سایت وردپرسی"
    assert renamed.json()["image_data"]["id"] == first.id

    image_only = (await admin_client.patch(path, json={"image": second.id})).json()
    assert image_only["name"] == "طراحی سایت وردپرسی"
    assert image_only["image_data"]["id"] == second.id

    cleared = (await admin_client.patch(path, json={"image": None})).json()
    assert cleared["image_data"] is None
    assert cleared["name"] == "طراحی سایت وردپرسی"


async def test_retrieve_link_seed_and_its_alias(app, admin_client, portfolio):
    image = await create_image(app)
    created = (
        await admin_client.post(
            f"/api/portfolios/{portfolio.id}/links/",
            json={
                "name": "دمو پروژه",
                "url": "https://moeinsoft.com/demo",
                "image": image.id,
                "description": "لینک مشاهده دمو",
            },
        )
    ).json()
    canonical = await admin_client.get(f"/api/portfolios/{portfolio.id}/links/{created['id']}")
    alias = await admin_client.get(f"/api/portfolios/links/{created['id']}")
    assert canonical.status_code == alias.status_code == 200
    assert canonical.json() == alias.json() == created
    assert_same_shape(alias.json(), seed("retrieve_link"), link_resource=True)
    expected = seed("retrieve_link")
    for field in ("name", "url", "description"):
        assert alias.json()[field] == expected[field]


async def test_list_links_seed_requests(app, admin_client, portfolio):
    image = await create_image(app, "پیک موتوری", size=808754, width=1920, height=1080, mode="RGB")
    base = f"/api/portfolios/{portfolio.id}/links"
    await admin_client.post(
        f"{base}/",
        json={
            "name": "github",
            "url": "https://github.com/somewhere",
            "description": "این لینک پروژه است",
        },
    )
    await admin_client.post(
        f"{base}/",
        json={
            "name": "github",
            "url": "https://github.com/somewhere2",
            "image": image.id,
            "description": "",
        },
    )
    listing = await admin_client.get(f"{base}/")
    assert listing.status_code == 200
    body = listing.json()
    assert_same_shape(body, seed("list_links"), link_resource=True)
    assert body["count"] == 2
    assert [link["url"] for link in body["results"]] == [
        "https://github.com/somewhere2",
        "https://github.com/somewhere",
    ]  # order, then newest first, as in the seed
    assert body["results"][0]["image_data"]["human_readable_size"] == "789.80 KB"

    searched = await admin_client.get(
        base, params={"search": "github", "has_image": True, "limit": 20}
    )
    assert searched.status_code == 200  # directly: no redirect
    results = searched.json()["results"]
    assert [link["url"] for link in results] == ["https://github.com/somewhere2"]
