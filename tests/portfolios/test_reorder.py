"""`POST /api/portfolios/reorder` (API.md, "Editorial safety"): the ids listed get `order` 0, 1,
2... in that sequence, in one transaction, with one event and one history entry; the other
portfolios are untouched; an unknown or repeated id changes nothing."""

import asyncio
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.auth.permissions import Permission
from app.models import Event, HistoryEntry, Portfolio
from tests.conftest import make_client
from tests.factories import create_caller, create_row, create_staff, create_superuser

MISSING = 2**62
PATH = "/api/portfolios/reorder"
BEFORE = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
async def portfolios(app, db_connection):
    """`a`, `b`, `c` at orders 0, 1, 2 and `other` at 7, all last updated at `BEFORE`."""
    made = {}
    for name, order in (("a", 0), ("b", 1), ("c", 2), ("other", 7)):
        made[name] = await create_row(
            app,
            Portfolio,
            title=f"Site {name}",
            slug=f"site-{name}",
            order=order,
            created_at=BEFORE,
            updated_at=BEFORE,
        )
    return {name: portfolio.id for name, portfolio in made.items()}


async def stored(db_connection):
    """`{id: (order, updated_at)}` of every portfolio."""
    rows = await db_connection.execute(select(Portfolio.id, Portfolio.order, Portfolio.updated_at))
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
            HistoryEntry.via,
            HistoryEntry.actor_id,
            HistoryEntry.actor_username,
            HistoryEntry.changes,
        ).where(HistoryEntry.id > entry)
    )
    return events, entries.all()


async def test_the_ids_get_orders_in_sequence_and_the_rest_is_untouched(
    admin_client, db_connection, portfolios
):
    a, b, c, other = (portfolios[name] for name in ("a", "b", "c", "other"))
    response = await admin_client.post(PATH, json={"ids": [c, b, a]})
    assert response.status_code == 204
    assert response.content == b""
    after = await stored(db_connection)
    assert {pk: order for pk, (order, _) in after.items()} == {c: 0, b: 1, a: 2, other: 7}
    # `updated_at` moves on the portfolios whose order changed, only.
    assert after[a][1] > BEFORE
    assert after[c][1] > BEFORE
    assert after[b][1] == BEFORE  # listed, but already at 1
    assert after[other][1] == BEFORE


async def test_the_rows_are_locked_then_written_in_one_statement(
    app, admin_client, portfolios, count_statements
):
    more = [
        (await create_row(app, Portfolio, title=f"More {n}", slug=f"more-{n}", order=9)).id
        for n in range(5)
    ]
    ids = [*more, portfolios["c"], portfolios["b"], portfolios["a"]]
    assert (await admin_client.post(PATH, json={"ids": ids})).status_code == 204
    statements = [" ".join(s.split()) for s in count_statements.statements]
    reads = [s for s in statements if s.startswith('SELECT portfolio.id, portfolio."order"')]
    writes = [s for s in statements if s.startswith("UPDATE portfolio ")]
    assert len(reads) == len(writes) == 1, statements
    if app.state.engine.dialect.name == "postgresql":
        assert reads[0].endswith("FOR NO KEY UPDATE")


async def test_the_staff_list_ordered_by_order_shows_it_at_once(admin_client, portfolios):
    a, b, c, other = (portfolios[name] for name in ("a", "b", "c", "other"))
    assert (await admin_client.post(PATH, json={"ids": [b, c, a]})).status_code == 204
    page = (await admin_client.get("/api/portfolios/", params={"ordering": "order"})).json()
    assert [(item["id"], item["order"]) for item in page["results"]] == [
        (b, 0),
        (c, 1),
        (a, 2),
        (other, 7),
    ]
    retrieved = (await admin_client.get(f"/api/portfolios/{a}")).json()
    assert retrieved["order"] == 2


async def test_one_event_and_one_history_entry_per_call(app, db_connection, portfolios):
    staff = await create_staff(app, Permission.PORTFOLIO_UPDATE.value)
    ids = [portfolios["c"], portfolios["a"]]
    mark = await marks(db_connection)
    async with make_client(app) as api:
        response = await api.post(PATH, json={"ids": ids}, headers=staff.headers)
    assert response.status_code == 204
    events, entries = await recorded_since(db_connection, mark)
    assert [type for type, _ in events] == ["portfolio.reordered"]
    body = events[0][1]
    assert body["data"] == {"ids": ids}
    assert body["actor"] == {"id": staff.user_id, "username": staff.username}
    assert body["via"] == "api"
    assert "changed" not in body
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.action, entry.kind, entry.object_id, entry.via) == (
        "reordered",
        "portfolio",
        None,
        "api",
    )
    assert (entry.actor_id, entry.actor_username) == (staff.user_id, staff.username)
    assert entry.changes == {"ids": [None, ids]}


async def test_a_reorder_that_changes_no_order_still_records_it(
    admin_client, db_connection, portfolios
):
    ids = [portfolios["a"], portfolios["b"], portfolios["c"]]
    before = await stored(db_connection)
    mark = await marks(db_connection)
    assert (await admin_client.post(PATH, json={"ids": ids})).status_code == 204
    assert await stored(db_connection) == before  # no order moved: nothing written
    events, entries = await recorded_since(db_connection, mark)
    assert [type for type, _ in events] == ["portfolio.reordered"]
    assert len(entries) == 1


async def test_an_empty_list_changes_nothing(admin_client, db_connection, portfolios):
    before = await stored(db_connection)
    mark = await marks(db_connection)
    response = await admin_client.post(PATH, json={"ids": []})
    assert response.status_code == 204
    assert await stored(db_connection) == before
    assert await recorded_since(db_connection, mark) == ([], [])


async def test_both_slash_forms_answer_and_the_item_routes_do_not_take_the_path(
    admin_client, db_connection, portfolios
):
    a, b = portfolios["a"], portfolios["b"]
    for path, ids, expected in ((PATH, [b, a], 1), (PATH + "/", [a, b], 0)):
        response = await admin_client.post(path, json={"ids": ids})
        assert response.status_code == 204, (path, response.text)
        assert (await stored(db_connection))[a][0] == expected
    # Other methods on the path still reach the `{id}` routes, for which `reorder` is no id.
    for method in ("GET", "PATCH", "DELETE"):
        response = await admin_client.request(method, PATH, json={} if method == "PATCH" else None)
        assert response.status_code == 404, method


@pytest.mark.parametrize(
    ("ids", "errors"),
    [
        (["a", MISSING], [f'Invalid pk "{MISSING}" - object does not exist.']),
        (["a", "b", "a"], ["Duplicate id {a}."]),
        (
            [MISSING, "a", "c", "a", "a", MISSING],
            [
                f'Invalid pk "{MISSING}" - object does not exist.',
                "Duplicate id {a}.",
                f"Duplicate id {MISSING}.",
            ],
        ),
    ],
    ids=["unknown", "repeated", "both, each once"],
)
async def test_an_unknown_or_repeated_id_changes_nothing(
    admin_client, db_connection, portfolios, ids, errors
):
    sent = [portfolios.get(pk, pk) if isinstance(pk, str) else pk for pk in ids]
    before = await stored(db_connection)
    mark = await marks(db_connection)
    response = await admin_client.post(PATH, json={"ids": sent})
    assert response.status_code == 400
    assert response.json() == {"ids": [error.format(**portfolios) for error in errors]}
    assert await stored(db_connection) == before
    assert await recorded_since(db_connection, mark) == ([], [])


async def test_a_trashed_portfolio_is_an_unknown_id(admin_client, db_connection, portfolios):
    a, b = portfolios["a"], portfolios["b"]
    assert (await admin_client.delete(f"/api/portfolios/{b}")).status_code == 204
    response = await admin_client.post(PATH, json={"ids": [b, a]})
    assert response.status_code == 400
    assert response.json() == {"ids": [f'Invalid pk "{b}" - object does not exist.']}
    assert (await stored(db_connection))[a][0] == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, ["This field is required."]),
        ({"ids": None}, ["This field may not be null."]),
        ({"ids": "1,2"}, ['Expected a list of items but got type "str".']),
        ({"ids": ["x"]}, ['Invalid pk "x" - object does not exist.']),
        ({"ids": [True]}, ["Incorrect type. Expected pk value, received bool."]),
        ({"ids": [2**63]}, [f'Invalid pk "{2**63}" - object does not exist.']),
        ({"ids": list(range(1, 1002))}, ["Ensure this field has no more than 1000 elements."]),
    ],
)
async def test_the_body_is_validated(admin_client, db_connection, portfolios, body, errors):
    before = await stored(db_connection)
    response = await admin_client.post(PATH, json=body)
    assert response.status_code == 400
    assert response.json() == {"ids": errors}
    assert await stored(db_connection) == before


async def test_ids_may_be_numeric_strings_or_the_objects_read(
    admin_client, db_connection, portfolios
):
    a, b = portfolios["a"], portfolios["b"]
    response = await admin_client.post(PATH, json={"ids": [str(b), {"id": a, "title": "x"}]})
    assert response.status_code == 204
    after = await stored(db_connection)
    assert (after[b][0], after[a][0]) == (0, 1)


async def test_ids_beyond_32_bits(app, admin_client, db_connection, portfolios):
    big = await create_row(app, Portfolio, id=2**40, title="Big", slug="big", order=5)
    response = await admin_client.post(PATH, json={"ids": [big.id, portfolios["a"]]})
    assert response.status_code == 204
    after = await stored(db_connection)
    assert (after[big.id][0], after[portfolios["a"]][0]) == (0, 1)


async def test_it_takes_the_update_code(app, client, db_connection, portfolios):
    body = {"ids": [portfolios["b"], portfolios["a"]]}
    assert (await client.post(PATH, json=body)).status_code == 401
    viewer = await create_staff(app, Permission.PORTFOLIO_VIEW.value)
    refused = await client.post(PATH, json=body, headers=viewer.headers)
    assert refused.status_code == 403
    not_staff = await create_caller(app, permissions=[Permission.PORTFOLIO_UPDATE.value])
    assert (await client.post(PATH, json=body, headers=not_staff.headers)).status_code == 403
    assert (await stored(db_connection))[portfolios["a"]][0] == 0
    editor = await create_staff(app, Permission.PORTFOLIO_UPDATE.value)
    assert (await client.post(PATH, json=body, headers=editor.headers)).status_code == 204
    assert (await stored(db_connection))[portfolios["a"]][0] == 1


def test_openapi_documents_the_route(app):
    operation = app.openapi()["paths"]["/api/portfolios/reorder"]["post"]
    assert operation["operationId"] == "reorder_portfolios"
    assert set(operation["responses"]) == {"204", "400", "401", "403", "413", "415", "503"}
    assert "4203" in operation["description"]


async def test_concurrent_reorders_of_the_same_rows_both_finish(app, committing_client):
    """Each locks its rows in id order: opposite sequences queue rather than deadlock."""
    committing_client.headers.update((await create_superuser(app)).headers)
    ids = []
    for n in range(6):
        created = await committing_client.post("/api/portfolios/", json={"title": f"Race {n}"})
        ids.append(created.json()["id"])
    for _round in range(5):
        responses = await asyncio.gather(
            committing_client.post(PATH, json={"ids": ids}),
            committing_client.post(PATH, json={"ids": ids[::-1]}),
        )
        assert [r.status_code for r in responses] == [204, 204]
        async with app.state.engine.connect() as connection:
            rows = await connection.execute(select(Portfolio.id, Portfolio.order))
            orders = dict(rows.all())
        assert [orders[pk] for pk in ids] in (list(range(6)), list(range(5, -1, -1)))
