"""`GET /api/history/`: filters, pages newest first, and the kinds each caller may see
(API.md, "Editorial safety", History)."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from app.auth.dependencies import Principal
from app.auth.permissions import Permission
from app.errors import PermissionDenied, ValidationFailed
from app.events.outbox import KINDS
from app.history.kinds import DELETE_CODES, VIEW_CODES, ObjectKind, viewable_kinds
from app.history.read_model import HistoryEntryOut
from tests.factories import ALL_CODES, Caller, create_caller, create_staff
from tests.history.conftest import add_entry, client_for, entries

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ids(results):
    return [entry["id"] for entry in results]


@pytest.fixture
async def one_of_each(app: FastAPI, staff: Caller) -> dict[str, int]:
    """An entry of each kind, the id of each by kind (made in the order of `ObjectKind`)."""
    return {kind: await add_entry(app, kind=kind, actor=staff) for kind in ObjectKind}


# Who sees what.


async def test_a_superuser_sees_every_kind(admin_client, one_of_each):
    assert ids(await entries(admin_client)) == sorted(one_of_each.values(), reverse=True)


async def test_a_staff_user_sees_only_the_kinds_whose_view_code_they_hold(app, one_of_each):
    links_only = await create_staff(app, Permission.LINK_VIEW)
    async with client_for(app, links_only) as http:
        assert ids(await entries(http)) == [one_of_each["link"]]
        assert ids(await entries(http, kind="link")) == [one_of_each["link"]]
        refused = await http.get("/api/history/", params={"kind": "tag"})
        assert refused.status_code == 403
        assert refused.json() == {"detail": "You do not have permission to perform this action."}
    # Other codes of a kind (create, delete) do not show its history.
    creator = await create_staff(app, Permission.TAG_CREATE, Permission.TAG_DELETE)
    async with client_for(app, creator) as http:
        assert await entries(http) == []
        assert (await http.get("/api/history/", params={"kind": "tag"})).status_code == 403


async def test_a_staff_user_without_codes_sees_an_empty_page(app, one_of_each):
    nobody = await create_staff(app)
    async with client_for(app, nobody) as http:
        response = await http.get("/api/history/")
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


async def test_who_may_not_list_history(app, one_of_each):
    async with client_for(app) as http:
        response = await http.get("/api/history/")
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}
        response = await http.get("/api/history/", headers={"Authorization": "Token nope"})
        assert response.status_code == 401
    not_staff = await create_caller(app, permissions=ALL_CODES)
    async with client_for(app, not_staff) as http:
        response = await http.get("/api/history/", params={"kind": "bogus"})
    assert response.status_code == 403  # who you are before what you asked


def test_viewable_kinds():
    def principal(*codes: int, staff: bool = True, superuser: bool = False) -> Principal:
        return Principal(1, "someone", staff, superuser, frozenset(codes), 1)

    assert viewable_kinds(principal(superuser=True)) == list(KINDS)
    assert viewable_kinds(principal(superuser=True, staff=False), "media") == ["media"]
    assert viewable_kinds(principal(4242, 1102)) == ["link", "media"]
    assert viewable_kinds(principal(4242, 1102), "link") == ["link"]
    assert viewable_kinds(principal()) == []
    assert viewable_kinds(principal(4242, staff=False)) == []
    with pytest.raises(PermissionDenied):
        viewable_kinds(principal(4242), "tag")
    with pytest.raises(ValidationFailed) as refused:
        viewable_kinds(principal(superuser=True), "user")
    assert refused.value.errors == {
        "kind": ["Select a valid choice. user is not one of the available choices."]
    }
    assert set(VIEW_CODES) == set(DELETE_CODES) == set(KINDS)
    assert all(code.name.endswith("_VIEW") for code in VIEW_CODES.values())
    assert all(code.name.endswith("_DELETE") for code in DELETE_CODES.values())
    assert [code.name.split("_")[0].lower() for code in DELETE_CODES.values()] == list(KINDS)


# Filters.


async def test_filter_by_kind_object_user_and_action(app, admin_client, staff):
    other = await create_staff(app)
    tag_update = await add_entry(app, kind="tag", object_id=5, actor=staff)
    tag_create = await add_entry(app, kind="tag", object_id=5, action="created", actor=other)
    link_update = await add_entry(app, kind="link", object_id=5, actor=staff)
    other_tag = await add_entry(app, kind="tag", object_id=6, action="deleted", actor=staff)

    assert ids(await entries(admin_client, kind="tag")) == [other_tag, tag_create, tag_update]
    assert ids(await entries(admin_client, id=5)) == [link_update, tag_create, tag_update]
    assert ids(await entries(admin_client, kind="tag", id=5)) == [tag_create, tag_update]
    assert ids(await entries(admin_client, user=other.user_id)) == [tag_create]
    assert ids(await entries(admin_client, action="updated")) == [link_update, tag_update]
    assert ids(await entries(admin_client, action="deleted", kind="tag")) == [other_tag]
    assert await entries(admin_client, action="purged") == []
    assert await entries(admin_client, user=2**62) == []
    # Empty values are not filters.
    assert len(await entries(admin_client, kind="", action="", id="", user="")) == 4


async def test_from_and_to_are_inclusive_bounds(app, admin_client):
    times = [NOON - timedelta(days=1), NOON, NOON + timedelta(seconds=1), NOON + timedelta(days=1)]
    day_before, noon, just_after, day_after = [await add_entry(app, at=at) for at in times]

    assert ids(await entries(admin_client, **{"from": "2026-03-01T12:00:00Z"})) == [
        day_after,
        just_after,
        noon,
    ]
    assert ids(await entries(admin_client, to="2026-03-01T12:00:00Z")) == [noon, day_before]
    both = {"from": "2026-03-01T12:00:00Z", "to": "2026-03-01T12:00:01Z"}
    assert ids(await entries(admin_client, **both)) == [just_after, noon]
    # Another offset names the same moment; a date is its whole day (in TIME_ZONE, UTC here).
    assert ids(await entries(admin_client, to="2026-03-01T14:00:00+02:00")) == [noon, day_before]
    assert ids(await entries(admin_client, **{"from": "2026-03-01", "to": "2026-03-01"})) == [
        just_after,
        noon,
    ]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"kind": "user"},
            {"kind": ["Select a valid choice. user is not one of the available choices."]},
        ),
        (
            {"action": "renamed"},
            {"action": ["Select a valid choice. renamed is not one of the available choices."]},
        ),
        ({"id": "seven"}, {"id": ["A valid integer is required."]}),
        ({"user": "admin"}, {"user": ["A valid integer is required."]}),
        ({"from": "yesterday"}, {"from": ["Enter a valid date/time."]}),
        ({"to": "2026-02-30"}, {"to": ["Enter a valid date/time."]}),
        ({"limit": "0"}, {"limit": ["Ensure this value is greater than or equal to 1."]}),
    ],
)
async def test_bad_filters_are_400(admin_client, params, errors):
    response = await admin_client.get("/api/history/", params=params)
    assert response.status_code == 400, response.text
    assert response.json() == errors


@pytest.mark.parametrize("action", ["created", "updated", "deleted", "restored", "purged",
                                    "reordered", "imported"])  # fmt: skip
async def test_every_action_is_a_filter(app, admin_client, action):
    wanted = await add_entry(app, action=action)
    await add_entry(app, action="updated" if action != "updated" else "created")
    assert ids(await entries(admin_client, action=action)) == [wanted]


# Pages and shapes.


async def test_pages_run_newest_first(app, admin_client):
    made = [await add_entry(app, object_id=n) for n in range(5)]
    response = await admin_client.get("/api/history/", params={"limit": 2})
    body = response.json()
    assert body["count"] == 5
    assert ids(body["results"]) == [made[4], made[3]]
    assert body["previous"] is None
    assert body["next"] == "http://testserver/api/history/?limit=2&offset=2"
    body = (await admin_client.get(body["next"])).json()
    assert ids(body["results"]) == [made[2], made[1]]
    assert body["previous"] == "http://testserver/api/history/?limit=2"
    body = (await admin_client.get(body["next"])).json()
    assert ids(body["results"]) == [made[0]]
    assert body["next"] is None
    past_the_end = (await admin_client.get("/api/history/?offset=50")).json()
    assert past_the_end["count"] == 5
    assert past_the_end["results"] == []


async def test_newest_first_is_by_id_not_by_time(app, admin_client):
    """Two changes in one clock tick, or a clock that stepped back: the later entry is first."""
    first = await add_entry(app, at=NOON)
    second = await add_entry(app, at=NOON - timedelta(minutes=5))
    assert ids(await entries(admin_client)) == [second, first]


async def test_the_shape_matches_its_openapi_model(app, admin_client, staff):
    await add_entry(app, kind="portfolio", at=NOON, actor=staff,
                    changes={"tags": [[1], [2, 1]], "title": ["a", "b"]})  # fmt: skip
    await add_entry(app, kind="portfolio", action="reordered", object_id=None,
                    changes={"ids": [None, [3, 1]]})  # fmt: skip
    await add_entry(app, kind="media", action="deleted", via="import", changes={})
    results = await entries(admin_client)
    for payload in results:
        assert list(payload) == [
            "id", "at", "actor", "via", "action", "kind", "object_id", "changes",
        ]  # fmt: skip
        assert HistoryEntryOut.model_validate(payload).model_dump(mode="json") == payload
    deleted, reordered, updated = results
    assert updated["at"] == "2026-03-01T12:00:00Z"
    assert updated["actor"] == {"id": staff.user_id, "username": staff.username}
    assert updated["changes"] == {"tags": [[1], [2, 1]], "title": ["a", "b"]}
    assert reordered["object_id"] is None
    assert reordered["actor"] is None
    assert reordered["via"] == "cli"
    assert deleted["via"] == "import"


async def test_a_page_takes_the_same_statements_whatever_its_size(
    app, admin_client: httpx.AsyncClient, count_statements
):
    for n in range(25):
        await add_entry(app, kind=list(ObjectKind)[n % 6], object_id=n)
    await admin_client.get("/api/auth/me")  # the token's last use is written once, first
    counts = {}
    for limit in (1, 20):
        count_statements.statements.clear()
        response = await admin_client.get("/api/history/", params={"limit": limit})
        assert response.status_code == 200, response.text
        assert len(response.json()["results"]) == limit
        counts[limit] = count_statements.count
    assert counts[1] == counts[20] <= 2, count_statements.statements
