"""Every create, update and delete made through the API leaves one history entry, in the
transaction of the change: who made it (named as they were then), via what, and each changed
field's old and new values (API.md, "Editorial safety", History)."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.history import recorder
from app.models import Portfolio
from tests.factories import Caller, create_image, create_row, create_staff, create_superuser
from tests.history.conftest import client_for, entries
from tests.media import samples
from tests.media.conftest import upload


@dataclass
class Kind:
    """How to create, change and delete one kind of object through the API."""

    kind: str
    collection: str  # `{portfolio}` stands for the parent portfolio's id
    create: dict[str, Any] | None  # None: a media upload
    patch: dict[str, Any]  # re-sends an unchanged value beside the changed one
    changes: dict[str, list[Any]]  # what the patch records


KINDS = [
    Kind(
        "portfolio",
        "/api/portfolios/",
        {"title": "History site", "excerpt": "first"},
        {"title": "History site", "excerpt": "second"},
        {"excerpt": ["first", "second"]},
    ),
    Kind(
        "link",
        "/api/portfolios/{portfolio}/links/",
        {"name": "Demo", "url": "https://demo.example/", "order": 1},
        {"name": "Demo", "url": "https://other.example/"},
        {"url": ["https://demo.example/", "https://other.example/"]},
    ),
    Kind(
        "meta",
        "/api/portfolios/{portfolio}/meta/",
        {"key": "client", "value_text": "ACME"},
        {"key": "client", "value_text": "Initech"},
        {"value_text": ["ACME", "Initech"]},
    ),
    Kind(
        "employer",
        "/api/employers/",
        {"name": "ACME", "description": "old"},
        {"name": "ACME", "description": "new"},
        {"description": ["old", "new"]},
    ),
    Kind(
        "tag", "/api/tags/", {"name": "python"}, {"name": "django"}, {"name": ["python", "django"]}
    ),
    Kind("media", "/api/media/", None, {"alt": "A photo"}, {"alt": ["", "A photo"]}),
]


@pytest.fixture
async def parent(app: FastAPI, db_connection) -> Portfolio:
    """A portfolio for links and meta, made without the API (so without an entry)."""
    return await create_row(app, Portfolio, title="Parent", slug="parent")


@pytest.mark.parametrize("kind", KINDS, ids=[kind.kind for kind in KINDS])
async def test_create_update_and_delete_each_record_one_entry(
    api: httpx.AsyncClient, staff: Caller, parent: Portfolio, kind: Kind
):
    collection = kind.collection.format(portfolio=parent.id)
    if kind.create is None:
        response = await upload(api, samples.photo((80, 60)), "history.jpg")
    else:
        response = await api.post(collection, json=kind.create)
    assert response.status_code == 201, response.text
    object_id = response.json()["id"]
    [created] = await entries(api)
    response = await api.patch(f"{collection}{object_id}", json=kind.patch)
    assert response.status_code == 200, response.text
    updated, _ = await entries(api)
    response = await api.delete(f"{collection}{object_id}")
    assert response.status_code == 204, response.text
    deleted, *_ = await entries(api)

    actor = {"id": staff.user_id, "username": staff.username}
    for entry, action in ((created, "created"), (updated, "updated"), (deleted, "deleted")):
        assert entry["action"] == action
        assert entry["kind"] == kind.kind
        assert entry["object_id"] == object_id
        assert entry["actor"] == actor
        assert entry["via"] == "api"
    assert created["id"] < updated["id"] < deleted["id"]
    # A create records `[null, value]` for each field it was given.
    given = kind.create or {"name": "history"}
    assert {field: created["changes"][field] for field in given} == {
        field: [None, value] for field, value in given.items()
    }
    assert updated["changes"] == kind.changes
    assert deleted["changes"] == {}


async def test_a_patch_records_only_what_changed(api: httpx.AsyncClient):
    tag = (await api.post("/api/tags/", json={"name": "old"})).json()
    before = await entries(api)
    response = await api.patch(f"/api/tags/{tag['id']}", json={"name": "new"})
    assert response.status_code == 200, response.text
    after = await entries(api)
    assert len(after) == len(before) + 1
    assert after[0]["action"] == "updated"
    assert after[0]["changes"] == {"name": ["old", "new"]}


async def test_portfolio_tags_and_images_are_recorded_as_id_lists(app: FastAPI, api):
    first = (await api.post("/api/tags/", json={"name": "first"})).json()["id"]
    second = (await api.post("/api/tags/", json={"name": "second"})).json()["id"]
    image = (await create_image(app, "gallery")).id
    response = await api.post("/api/portfolios/", json={"title": "Tagged", "tags": [first]})
    assert response.status_code == 201, response.text
    portfolio = response.json()["id"]
    response = await api.patch(
        f"/api/portfolios/{portfolio}", json={"tags": [second, first], "images": [image]}
    )
    assert response.status_code == 200, response.text
    updated, created, *_ = await entries(api, kind="portfolio")
    assert created["changes"]["tags"] == [None, [first]]
    assert updated["changes"] == {"tags": [[first], [second, first]], "images": [[], [image]]}


async def test_the_actor_keeps_the_name_they_had(app: FastAPI, admin_client):
    author = await create_staff(app, 4221)
    async with client_for(app, author) as http:
        response = await http.post("/api/tags/", json={"name": "kept"})
        assert response.status_code == 201, response.text
    renamed = await admin_client.patch(f"/api/users/{author.user_id}", json={"username": "renamed"})
    assert renamed.status_code == 200, renamed.text
    [entry] = await entries(admin_client)
    assert entry["actor"] == {"id": author.user_id, "username": author.username}

    assert (await admin_client.delete(f"/api/users/{author.user_id}")).status_code == 204
    [entry] = await entries(admin_client)
    assert entry["actor"] == {"id": author.user_id, "username": author.username}
    assert (await entries(admin_client, user=author.user_id)) == [entry]


async def test_a_rejected_write_records_nothing(api: httpx.AsyncClient):
    tag = (await api.post("/api/tags/", json={"name": "taken"})).json()
    before = await entries(api)
    refused = [
        await api.post("/api/tags/", json={"name": ""}),
        await api.post("/api/tags/", json={"name": "taken"}),  # unique: refused by the database
        await api.patch(f"/api/tags/{tag['id']}", json={"name": "x" * 300}),
        await api.post("/api/portfolios/", json={"title": "T", "tags": [2**62]}),
    ]
    assert [response.status_code for response in refused] == [400] * len(refused)
    assert await entries(api) == before


async def test_a_change_no_user_made_has_no_actor(app: FastAPI, admin_client):
    async with app.state.sessionmaker() as session:
        await recorder.record(session, None, "cli", "created", "tag", 7, {"name": (None, "cli")})
        await session.commit()
    [entry] = await entries(admin_client)
    assert entry["actor"] is None
    assert entry["via"] == "cli"
    assert entry["changes"] == {"name": [None, "cli"]}


async def test_a_superuser_sees_what_everyone_changed(app: FastAPI, admin_client, api, staff):
    admin = await create_superuser(app)
    async with client_for(app, admin) as http:
        assert (await http.post("/api/tags/", json={"name": "by admin"})).status_code == 201
    assert (await api.post("/api/tags/", json={"name": "by staff"})).status_code == 201
    by = [entry["actor"]["id"] for entry in await entries(admin_client)]
    assert by == [staff.user_id, admin.user_id]
