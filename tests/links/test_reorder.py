"""`POST /api/portfolios/{portfolio_id}/links/reorder` (API.md, "Editorial safety"): the links
listed get `order` 0, 1, 2... in that sequence, with one event and one history entry; the
portfolio's other links and other portfolios' links are untouched; an unknown or repeated id,
or a link of another portfolio, changes nothing; a missing portfolio is 404."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.auth.permissions import Permission
from app.models import Event, HistoryEntry, Portfolio, PortfolioLink
from tests.conftest import make_client
from tests.factories import create_caller, create_row, create_staff

MISSING = 2**62
BEFORE = datetime(2024, 1, 1, tzinfo=UTC)


def reorder_path(portfolio_id):
    return f"/api/portfolios/{portfolio_id}/links/reorder"


@pytest.fixture
async def site(app, db_connection):
    return (await create_row(app, Portfolio, title="Site", slug="site")).id


@pytest.fixture
async def elsewhere(app, db_connection):
    return (await create_row(app, Portfolio, title="Elsewhere", slug="elsewhere")).id


@pytest.fixture
async def links(app, site, elsewhere):
    """Links `a`, `b`, `c` of `site` at orders 0, 1, 2, `rest` of `site` at 7 and `foreign` of
    `elsewhere` at 0, all last updated at `BEFORE`."""
    made = {}
    for name, portfolio_id, order in (
        ("a", site, 0),
        ("b", site, 1),
        ("c", site, 2),
        ("rest", site, 7),
        ("foreign", elsewhere, 0),
    ):
        link = await create_row(
            app,
            PortfolioLink,
            portfolio_id=portfolio_id,
            name=f"link {name}",
            order=order,
            created_at=BEFORE,
            updated_at=BEFORE,
        )
        made[name] = link.id
    return made


async def stored(db_connection):
    """`{id: (order, updated_at)}` of every link."""
    rows = await db_connection.execute(
        select(PortfolioLink.id, PortfolioLink.order, PortfolioLink.updated_at)
    )
    return {pk: (order, updated_at) for pk, order, updated_at in rows}


async def marks(db_connection):
    """The last event seq and history id so far."""
    seq = (await db_connection.execute(select(func.max(Event.seq)))).scalar_one() or 0
    entry = (await db_connection.execute(select(func.max(HistoryEntry.id)))).scalar_one() or 0
    return seq, entry


async def recorded_since(db_connection, mark):
    """The events (type and parsed body) and history entries recorded after `mark`."""
    seq, entry = mark
    found = await db_connection.execute(
        select(Event.type, Event.body).where(Event.seq > seq).order_by(Event.seq)
    )
    events = [(type, json.loads(body)) for type, body in found]
    entries = await db_connection.execute(
        select(
            HistoryEntry.action,
            HistoryEntry.kind,
            HistoryEntry.object_id,
            HistoryEntry.actor_id,
            HistoryEntry.changes,
        ).where(HistoryEntry.id > entry)
    )
    return events, entries.all()


async def test_the_ids_get_orders_in_sequence_and_the_rest_is_untouched(
    admin_client, db_connection, site, links
):
    a, b, c = links["a"], links["b"], links["c"]
    response = await admin_client.post(reorder_path(site), json={"ids": [c, b, a]})
    assert response.status_code == 204
    assert response.content == b""
    after = await stored(db_connection)
    assert {pk: order for pk, (order, _) in after.items()} == {
        c: 0,
        b: 1,
        a: 2,
        links["rest"]: 7,
        links["foreign"]: 0,
    }
    # `updated_at` moves on the links whose order changed, only.
    assert after[a][1] > BEFORE
    assert after[c][1] > BEFORE
    assert after[b][1] == BEFORE  # listed, but already at 1
    assert after[links["rest"]][1] == BEFORE
    assert after[links["foreign"]][1] == BEFORE


async def test_the_staff_list_ordered_by_order_shows_it_at_once(admin_client, site, links):
    a, b, c = links["a"], links["b"], links["c"]
    assert (await admin_client.post(reorder_path(site), json={"ids": [b, c, a]})).status_code == 204
    page = await admin_client.get(f"/api/portfolios/{site}/links/", params={"ordering": "order"})
    assert [(item["id"], item["order"]) for item in page.json()["results"]] == [
        (b, 0),
        (c, 1),
        (a, 2),
        (links["rest"], 7),
    ]
    portfolio = (await admin_client.get(f"/api/portfolios/{site}")).json()
    assert [link["id"] for link in portfolio["links_data"]] == [b, c, a, links["rest"]]


async def test_one_event_and_one_history_entry_per_call(app, db_connection, site, links):
    staff = await create_staff(app, Permission.LINK_UPDATE.value)
    ids = [links["c"], links["a"]]
    mark = await marks(db_connection)
    async with make_client(app) as api:
        response = await api.post(reorder_path(site), json={"ids": ids}, headers=staff.headers)
    assert response.status_code == 204
    events, entries = await recorded_since(db_connection, mark)
    assert [type for type, _ in events] == ["link.reordered"]
    body = events[0][1]
    assert body["data"] == {"ids": ids, "portfolio_id": site}
    assert body["actor"] == {"id": staff.user_id, "username": staff.username}
    assert "changed" not in body
    assert [tuple(entry) for entry in entries] == [
        ("reordered", "link", site, staff.user_id, {"ids": [None, ids]})
    ]


async def test_an_empty_list_changes_nothing(admin_client, db_connection, site, links):
    before = await stored(db_connection)
    mark = await marks(db_connection)
    assert (await admin_client.post(reorder_path(site), json={"ids": []})).status_code == 204
    assert await stored(db_connection) == before
    assert await recorded_since(db_connection, mark) == ([], [])


async def test_a_missing_portfolio_is_404(admin_client, db_connection, links):
    before = await stored(db_connection)
    mark = await marks(db_connection)
    for body in ({"ids": [links["a"]]}, {"ids": []}):
        response = await admin_client.post(reorder_path(MISSING), json=body)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    assert (await admin_client.post(reorder_path("x"), json={"ids": []})).status_code == 404
    assert await stored(db_connection) == before
    assert await recorded_since(db_connection, mark) == ([], [])


async def test_both_slash_forms_answer(admin_client, db_connection, site, links):
    a, b = links["a"], links["b"]
    for path, ids, expected in (
        (reorder_path(site), [b, a], 1),
        (reorder_path(site) + "/", [a, b], 0),
    ):
        response = await admin_client.post(path, json={"ids": ids})
        assert response.status_code == 204, (path, response.text)
        assert (await stored(db_connection))[a][0] == expected
    # Other methods on the path still reach the `{id}` routes, for which `reorder` is no id.
    for method in ("GET", "PATCH", "DELETE"):
        body = {} if method == "PATCH" else None
        response = await admin_client.request(method, reorder_path(site), json=body)
        assert response.status_code == 404, method


@pytest.mark.parametrize(
    ("ids", "errors"),
    [
        (["a", MISSING], [f'Invalid pk "{MISSING}" - object does not exist.']),
        (["a", "foreign"], ['Invalid pk "{foreign}" - object does not exist.']),
        (["a", "b", "a"], ["Duplicate id {a}."]),
        (
            ["foreign", "a", "a", "c"],
            ['Invalid pk "{foreign}" - object does not exist.', "Duplicate id {a}."],
        ),
    ],
    ids=["unknown", "of another portfolio", "repeated", "both"],
)
async def test_an_unknown_foreign_or_repeated_id_changes_nothing(
    admin_client, db_connection, site, links, ids, errors
):
    sent = [links[pk] if isinstance(pk, str) else pk for pk in ids]
    before = await stored(db_connection)
    mark = await marks(db_connection)
    response = await admin_client.post(reorder_path(site), json={"ids": sent})
    assert response.status_code == 400
    assert response.json() == {"ids": [error.format(**links) for error in errors]}
    assert await stored(db_connection) == before
    assert await recorded_since(db_connection, mark) == ([], [])


async def test_a_trashed_link_is_an_unknown_id(admin_client, db_connection, site, links):
    a, b = links["a"], links["b"]
    assert (await admin_client.delete(f"/api/portfolios/{site}/links/{b}")).status_code == 204
    response = await admin_client.post(reorder_path(site), json={"ids": [b, a]})
    assert response.status_code == 400
    assert response.json() == {"ids": [f'Invalid pk "{b}" - object does not exist.']}
    assert (await stored(db_connection))[a][0] == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, ["This field is required."]),
        ({"ids": {"a": 1}}, ['Expected a list of items but got type "dict".']),
        ({"ids": [None]}, ["This field may not be null."]),
        ({"ids": [1.5]}, ["Incorrect type. Expected pk value, received float."]),
    ],
)
async def test_the_body_is_validated(admin_client, site, links, body, errors):
    response = await admin_client.post(reorder_path(site), json=body)
    assert response.status_code == 400
    assert response.json() == {"ids": errors}


async def test_ids_beyond_32_bits(app, admin_client, db_connection, site, links):
    big = await create_row(app, PortfolioLink, id=2**40, portfolio_id=site, name="big", order=5)
    response = await admin_client.post(reorder_path(site), json={"ids": [big.id, links["a"]]})
    assert response.status_code == 204
    after = await stored(db_connection)
    assert (after[big.id][0], after[links["a"]][0]) == (0, 1)


async def test_it_takes_the_link_update_code(app, client, db_connection, site, links):
    path = reorder_path(site)
    body = {"ids": [links["b"], links["a"]]}
    assert (await client.post(path, json=body)).status_code == 401
    portfolio_editor = await create_staff(app, Permission.PORTFOLIO_UPDATE.value)
    assert (await client.post(path, json=body, headers=portfolio_editor.headers)).status_code == 403
    not_staff = await create_caller(app, permissions=[Permission.LINK_UPDATE.value])
    assert (await client.post(path, json=body, headers=not_staff.headers)).status_code == 403
    assert (await stored(db_connection))[links["a"]][0] == 0
    editor = await create_staff(app, Permission.LINK_UPDATE.value)
    assert (await client.post(path, json=body, headers=editor.headers)).status_code == 204
    assert (await stored(db_connection))[links["a"]][0] == 1


def test_openapi_documents_the_route(app):
    paths = app.openapi()["paths"]
    operation = paths["/api/portfolios/{portfolio_id}/links/reorder"]["post"]
    assert operation["operationId"] == "reorder_portfolio_links"
    assert set(operation["responses"]) == {"204", "400", "401", "403", "404", "413", "415", "503"}
    assert "4243" in operation["description"]
    assert [p["name"] for p in operation["parameters"]] == ["portfolio_id"]
