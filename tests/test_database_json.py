"""On PostgreSQL, hot pages are written as JSON by the database: byte-equal values to the
Python serialisers, checked here on awkward data (ties in sizes, microseconds, Unicode)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import BigInteger, literal, select

from app.common.json_sql import drf_datetime_sql, human_size_sql
from app.common.schemas import drf_datetime
from app.media.naming import human_readable_size
from app.models import Portfolio, PortfolioLink
from tests.factories import create_row

pytestmark = pytest.mark.usefixtures("postgres_only")


@pytest.fixture
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("JSON is written by the database on PostgreSQL only")


SIZES = [0, 1, 512, 1023, 1024, 1152, 1160, 5123, 11740, 73062, 808754, 1048575, 1048576,
         2621440, 1073741824 + 5 * 1048576, 3 * 1024**4 + 7, 5 * 1024**5]  # fmt: skip


async def test_human_sizes_match_python(db_connection):
    query = select(*(human_size_sql(literal(size, BigInteger)) for size in SIZES))
    from_sql = list((await db_connection.execute(query)).one())
    assert from_sql == [human_readable_size(size) for size in SIZES]


async def test_datetimes_match_python(db_connection):
    values = [
        datetime(2024, 12, 14, tzinfo=UTC),
        datetime(2026, 1, 13, 10, 5, 43, 296270, tzinfo=UTC),
        datetime(2026, 1, 13, 10, 5, 43, 1, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    query = select(*(drf_datetime_sql(literal(value)) for value in values))
    assert list((await db_connection.execute(query)).one()) == [drf_datetime(v) for v in values]


async def test_statements_run_straight_on_asyncpg_are_still_seen_by_cursor_events(
    app, admin_client, count_statements
):
    portfolio = await create_row(app, Portfolio, title="counted", slug="counted")
    await create_row(app, PortfolioLink, portfolio_id=portfolio.id, name="one")
    await admin_client.get("/api/auth/me")  # the token's last-used time is written once
    count_statements.statements.clear()
    response = await admin_client.get(f"/api/portfolios/{portfolio.id}/links/")
    assert response.json()["count"] == 1
    statements = " ".join(count_statements.statements)
    assert count_statements.count == 2  # the token; the page's count and JSON together
    assert "FROM auth_token" in statements
    assert "json_build_object" in statements
