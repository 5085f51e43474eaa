"""Portfolio links beyond the seeds: validation, filters, 404s, both slashes, fixed queries."""

from datetime import UTC, datetime, timedelta

import pytest

from app.models import Portfolio, PortfolioLink
from tests.factories import create_document, create_image, create_row

MISSING = 2**62


@pytest.fixture
async def portfolio(app, db_connection):
    return await create_row(app, Portfolio, title="Site", slug="site")


@pytest.fixture
async def other_portfolio(app, db_connection):
    return await create_row(app, Portfolio, title="Other", slug="other")


async def add_link(admin_client, portfolio, **fields):
    response = await admin_client.post(
        f"/api/portfolios/{portfolio.id}/links/", json={"name": "link", **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, {"name": ["This field is required."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": "x", "url": "ftp://example.com/file"}, {"url": ["Enter a valid URL."]}),
        ({"name": "x", "url": "not a url"}, {"url": ["Enter a valid URL."]}),
        (
            {"name": "x", "url": "https://example.com/" + "a" * 190},
            {"url": ["Ensure this field has no more than 200 characters."]},
        ),
        (
            {"name": "x", "image": 999999},
            {"image": ['Invalid pk "999999" - object does not exist.']},
        ),
        ({"name": "x", "order": "first"}, {"order": ["A valid integer is required."]}),
        ({"name": None}, {"name": ["This field may not be null."]}),
    ],
)
async def test_create_validation(admin_client, portfolio, fields, errors):
    response = await admin_client.post(f"/api/portfolios/{portfolio.id}/links/", json=fields)
    assert response.status_code == 400
    assert response.json() == errors


async def test_image_must_be_an_image(app, admin_client, portfolio):
    document = await create_document(app)
    response = await admin_client.post(
        f"/api/portfolios/{portfolio.id}/links/", json={"name": "x", "image": document.id}
    )
    assert response.json() == {"image": [f"File {document.id} is not an image."]}


async def test_url_and_description_may_be_null(admin_client, portfolio):
    link = await add_link(admin_client, portfolio, url=None, description=None)
    assert (link["url"], link["description"]) == (None, None)


async def test_missing_portfolio_is_404_on_every_method(admin_client):
    for method, path, body in [
        ("GET", f"/api/portfolios/{MISSING}/links/", None),
        ("POST", f"/api/portfolios/{MISSING}/links/", {"name": "x"}),
        ("GET", f"/api/portfolios/{MISSING}/links/1", None),
        ("PATCH", f"/api/portfolios/{MISSING}/links/1", {"name": "x"}),
        ("PUT", f"/api/portfolios/{MISSING}/links/1", {"name": "x"}),
        ("DELETE", f"/api/portfolios/{MISSING}/links/1", None),
    ]:
        response = await admin_client.request(method, path, json=body)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "Not found."}


async def test_link_of_another_portfolio_is_404_on_every_method(
    admin_client, portfolio, other_portfolio
):
    link = await add_link(admin_client, other_portfolio)
    path = f"/api/portfolios/{portfolio.id}/links/{link['id']}"
    for method, body in [
        ("GET", None),
        ("PATCH", {"name": "y"}),
        ("PUT", {"name": "y"}),
        ("DELETE", None),
    ]:
        response = await admin_client.request(method, path, json=body)
        assert response.status_code == 404, method
    still = await admin_client.get(f"/api/portfolios/{other_portfolio.id}/links/{link['id']}")
    assert still.json()["name"] == "link"


async def test_every_method_answers_both_slash_forms(admin_client, portfolio):
    base = f"/api/portfolios/{portfolio.id}/links"
    for suffix in ("", "/"):
        assert (await admin_client.get(base + suffix)).status_code == 200
        created = await admin_client.post(base + suffix, json={"name": "n"})
        assert created.status_code == 201
        item = f"{base}/{created.json()['id']}"
        assert (await admin_client.get(item + suffix)).status_code == 200
        assert (await admin_client.patch(item + suffix, json={"order": 2})).json()["order"] == 2
        assert (await admin_client.put(item + suffix, json={"name": "p"})).json()["name"] == "p"
        assert (await admin_client.delete(item + suffix)).status_code == 204


async def test_put_requires_name_and_keeps_absent_fields(admin_client, portfolio):
    link = await add_link(admin_client, portfolio, url="https://example.com", order=5)
    path = f"/api/portfolios/{portfolio.id}/links/{link['id']}"
    assert (await admin_client.put(path, json={"url": None})).json() == {
        "name": ["This field is required."]
    }
    replaced = (await admin_client.put(path, json={"name": "new"})).json()
    assert (replaced["name"], replaced["url"], replaced["order"]) == (
        "new",
        "https://example.com",
        5,
    )


async def insert_link(app, portfolio, name, created_at, **fields):
    return await create_row(
        app,
        PortfolioLink,
        portfolio_id=portfolio.id,
        name=name,
        created_at=created_at,
        updated_at=created_at,
        **fields,
    )


@pytest.fixture
async def filtered(app, admin_client, portfolio):
    image = await create_image(app)
    day = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)
    await insert_link(app, portfolio, "github", day, url="https://github.com/a", image_id=image.id)
    await insert_link(app, portfolio, "gitlab", day + timedelta(days=1), url="", description="کد")
    await insert_link(app, portfolio, "demo", day + timedelta(days=2), description="")
    return admin_client


async def names(client, portfolio, **params):
    response = await client.get(f"/api/portfolios/{portfolio.id}/links/", params=params)
    assert response.status_code == 200, response.text
    return sorted(link["name"] for link in response.json()["results"])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"has_image": "true"}, ["github"]),
        ({"has_image": "false"}, ["demo", "gitlab"]),
        ({"has_url": "true"}, ["github"]),
        ({"has_url": "false"}, ["demo", "gitlab"]),
        ({"has_description": "true"}, ["gitlab"]),
        ({"has_description": "0"}, ["demo", "github"]),
        ({"created_date": "2026-01-13"}, ["gitlab"]),
        ({"updated_date": "2026-01-14"}, ["demo"]),
        ({"created_from": "2026-01-13"}, ["demo", "gitlab"]),
        ({"created_to": "2026-01-13"}, ["github", "gitlab"]),
        ({"updated_from": "2026-01-13T16:00:00Z"}, ["demo"]),
        ({"updated_to": "2026-01-12T15:00:00Z"}, ["github"]),
        ({"search": "git"}, ["github", "gitlab"]),
        ({"search": "github.com"}, ["github"]),
        ({"search": "git", "has_url": "false"}, ["gitlab"]),
        ({"search": "git", "created_from": "2026-01-13", "has_description": "true"}, ["gitlab"]),
    ],
)
async def test_each_filter_alone_and_combined(filtered, portfolio, params, expected):
    assert await names(filtered, portfolio, **params) == expected


async def test_id_range_filter(filtered, portfolio):
    ids = sorted(
        link["id"]
        for link in (await filtered.get(f"/api/portfolios/{portfolio.id}/links/")).json()["results"]
    )
    assert await names(filtered, portfolio, id_min=ids[1], id_max=ids[2]) == ["demo", "gitlab"]
    assert await names(filtered, portfolio, search=str(ids[0])) == ["github"]


async def test_ordering(filtered, portfolio):
    response = await filtered.get(
        f"/api/portfolios/{portfolio.id}/links/", params={"ordering": "-name"}
    )
    assert [link["name"] for link in response.json()["results"]] == ["gitlab", "github", "demo"]


async def test_other_portfolios_links_never_appear(app, admin_client, portfolio, other_portfolio):
    await add_link(admin_client, other_portfolio, name="elsewhere")
    assert await names(admin_client, portfolio) == []


async def test_links_data_of_the_portfolio_follows_at_once(admin_client, portfolio):
    link = await add_link(admin_client, portfolio, name="first", url="https://a.example")
    shown = (await admin_client.get(f"/api/portfolios/{portfolio.id}")).json()["links_data"]
    assert shown == [
        {
            "id": link["id"],
            "name": "first",
            "url": "https://a.example",
            "description": None,
            "image_data": None,
        }
    ]
    await admin_client.patch(
        f"/api/portfolios/{portfolio.id}/links/{link['id']}", json={"name": "renamed"}
    )
    shown = (await admin_client.get(f"/api/portfolios/{portfolio.id}")).json()["links_data"]
    assert shown[0]["name"] == "renamed"
    await admin_client.delete(f"/api/portfolios/{portfolio.id}/links/{link['id']}")
    assert (await admin_client.get(f"/api/portfolios/{portfolio.id}")).json()["links_data"] == []


async def test_list_runs_a_fixed_number_of_statements(
    app, admin_client, portfolio, count_statements
):
    async def statements(limit):
        await admin_client.get("/api/auth/me")  # the token's last use is written once a minute
        count_statements.statements.clear()
        response = await admin_client.get(
            f"/api/portfolios/{portfolio.id}/links/", params={"limit": limit}
        )
        assert response.status_code == 200
        return count_statements.count

    image = await create_image(app)
    await add_link(admin_client, portfolio, image=image.id)
    one = await statements(1)
    for number in range(49):
        await add_link(
            admin_client, portfolio, name=f"l{number}", image=(await create_image(app)).id
        )
    assert await statements(50) == one
