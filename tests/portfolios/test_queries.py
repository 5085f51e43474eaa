"""Every portfolio response is built in a fixed number of statements, whatever its size."""

import pytest

from app.models import (
    Employer,
    Portfolio,
    PortfolioLink,
    PortfolioMeta,
    Tag,
    portfolio_images,
    portfolio_tags,
)
from tests.factories import create_image, create_row


async def rich_portfolio(app, number, image_ids, tag_ids, employer_id, links=2):
    portfolio = await create_row(
        app,
        Portfolio,
        title=f"P{number}",
        slug=f"p{number}",
        image_id=image_ids[0],
        employer_id=employer_id,
    )
    async with app.state.sessionmaker() as session:
        await session.execute(
            portfolio_tags.insert(),
            [
                {"portfolio_id": portfolio.id, "tag_id": t, "position": i}
                for i, t in enumerate(tag_ids)
            ],
        )
        await session.execute(
            portfolio_images.insert(),
            [
                {"portfolio_id": portfolio.id, "media_id": m, "position": i}
                for i, m in enumerate(image_ids)
            ],
        )
        for index in range(links):
            session.add(
                PortfolioLink(portfolio_id=portfolio.id, name=f"l{index}", image_id=image_ids[-1])
            )
        session.add(PortfolioMeta(portfolio_id=portfolio.id, key="k", value_file_id=image_ids[0]))
        await session.commit()
    return portfolio


@pytest.fixture
async def world(app, db_connection):
    images = [(await create_image(app, f"i{n}")).id for n in range(4)]
    employer = await create_row(app, Employer, name="e", image_id=images[1])
    tags = [(await create_row(app, Tag, name=f"t{n}", image_id=images[n])).id for n in range(3)]
    return images, tags, employer.id


async def count_for(client, counter, path, **params):
    # Once first: the token's last-used time is written on a caller's first request only.
    await client.get("/api/auth/me")
    counter.statements.clear()
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return counter.count, response.json()


async def test_list_pages_of_1_and_50_take_the_same_statements(
    app, admin_client, world, count_statements
):
    images, tags, employer = world
    await rich_portfolio(app, 0, images, tags, employer)
    one, body = await count_for(admin_client, count_statements, "/api/portfolios/", limit=1)
    assert len(body["results"]) == 1
    for number in range(1, 50):
        await rich_portfolio(app, number, images[number % 2 :], tags[: 1 + number % 3], employer)
    fifty, body = await count_for(admin_client, count_statements, "/api/portfolios/", limit=50)
    assert len(body["results"]) == 50
    assert all(len(p["links_data"]) == 2 and p["meta"] for p in body["results"])
    assert fifty == one


async def test_one_portfolio_with_50_links_takes_the_same_statements(
    app, admin_client, world, count_statements
):
    images, tags, employer = world
    few = await rich_portfolio(app, 1, images, tags, employer, links=1)
    many = await rich_portfolio(app, 2, images, tags, employer, links=50)
    baseline, _ = await count_for(admin_client, count_statements, f"/api/portfolios/{few.id}")
    loaded, body = await count_for(admin_client, count_statements, f"/api/portfolios/{many.id}")
    assert len(body["links_data"]) == 50
    assert loaded == baseline
