"""Regenerating a portfolio's slug (`"slug": ""` or `null` in a PATCH or PUT) leaves a slug
that is already the one its title gives as it is. It used to count the portfolio's own slug as
taken and flip between `probe` and `probe-2` on each such request, changing the public URL and
recording `"slug"` in `changed` each time (found by the outbox tests)."""

from tests.events.conftest import Outbox


async def test_regenerating_a_slug_keeps_the_portfolio_own_slug(api, outbox: Outbox):
    created = (await api.post("/api/portfolios/", json={"title": "Probe"})).json()
    assert created["slug"] == "probe"
    path = f"/api/portfolios/{created['id']}"
    for slug in ("", None, ""):
        mark = await outbox.mark()
        response = await api.patch(path, json={"slug": slug})
        assert response.status_code == 200, response.text
        recorded = await outbox.only(mark)
        assert recorded.changed == [], (slug, response.json()["slug"])
        assert response.json()["slug"] == "probe"
