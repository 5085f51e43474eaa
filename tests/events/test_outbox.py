"""The outbox: every committed create, update and delete of a portfolio, link, meta item,
employer, tag or media file leaves exactly one event row, written in the transaction of the
change, whose body is what a webhook receiver gets (API.md, "Change events and webhooks")."""

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

import app.events.outbox as outbox_module
from app.auth.permissions import Permission
from app.models import Employer, Event, Portfolio, Tag
from tests.conftest import make_client
from tests.events.conftest import Outbox, assert_envelope, strict_json
from tests.factories import (
    create_document,
    create_image,
    create_row,
    create_staff,
    create_superuser,
)
from tests.media import samples
from tests.media.conftest import upload

MISSING = 2**62
IMAGE = "<image>"  # replaced by the id of an image made for the test


@dataclass
class Kind:
    """How to create, change and delete one kind of object through the API."""

    kind: str
    collection: str  # `{portfolio}` stands for the parent portfolio's id
    create: dict[str, Any] | None  # None: a media upload
    patch: dict[str, Any]  # re-sends an unchanged value beside the changed ones
    patch_changed: list[str]
    put: dict[str, Any] | None = None
    put_changed: list[str] = field(default_factory=list)

    @property
    def child(self) -> bool:
        return "{portfolio}" in self.collection


KINDS = [
    Kind(
        "portfolio",
        "/api/portfolios/",
        {"title": "Events site", "excerpt": "first", "order": 1},
        {"title": "Events site", "excerpt": "second"},
        ["excerpt"],
        {"title": "Events site", "excerpt": "first", "order": 2},
        ["order"],
    ),
    Kind(
        "link",
        "/api/portfolios/{portfolio}/links/",
        {"name": "Demo", "url": "https://demo.example/", "order": 1},
        {"name": "Demo", "url": "https://other.example/"},
        ["url"],
        {"name": "Demo", "url": "https://demo.example/", "order": 2},
        ["order"],
    ),
    Kind(
        "meta",
        "/api/portfolios/{portfolio}/meta/",
        {"key": "client", "value_text": "ACME"},
        {"key": "client", "value_text": "Initech"},
        ["value_text"],
        {"key": "customer", "value_text": "ACME"},
        ["key"],
    ),
    Kind(
        "employer",
        "/api/employers/",
        {"name": "ACME", "description": "old"},
        {"name": "ACME", "description": "new"},
        ["description"],
        {"name": "Initech", "description": "old"},
        ["name"],
    ),
    Kind(
        "tag",
        "/api/tags/",
        {"name": "python"},
        {"name": " python ", "image": IMAGE},  # trimmed, the name is the same
        ["image"],
        {"name": "django"},
        ["name"],
    ),
    Kind("media", "/api/media/", None, {"name": "events", "alt": "A photo"}, ["alt"]),
]
WITH_PUT = [kind for kind in KINDS if kind.put is not None]


def ids(kinds: list[Kind]) -> list[str]:
    return [kind.kind for kind in kinds]


class Objects:
    """Create, read and write objects of one kind through the API."""

    def __init__(self, api: httpx.AsyncClient, kind: Kind, parent_id: int, image_id: int):
        self.api = api
        self.kind = kind
        self.parent_id = parent_id
        self.image_id = image_id
        self.collection = kind.collection.format(portfolio=parent_id)

    def body(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {name: self.image_id if v == IMAGE else v for name, v in fields.items()}

    async def create(self) -> httpx.Response:
        if self.kind.create is None:
            return await upload(self.api, samples.photo((80, 60)), "events.jpg")
        return await self.api.post(self.collection, json=self.body(self.kind.create))

    async def created(self) -> dict[str, Any]:
        response = await self.create()
        assert response.status_code == 201, response.text
        return response.json()

    def path(self, object_id: int) -> str:
        return f"{self.collection}{object_id}"

    async def get(self, object_id: int) -> dict[str, Any]:
        response = await self.api.get(self.path(object_id))
        assert response.status_code == 200, response.text
        return response.json()

    def as_data(self, shown: dict[str, Any]) -> dict[str, Any]:
        """The event's `data` for an object the API showed as `shown`."""
        return {**shown, "portfolio_id": self.parent_id} if self.kind.child else shown


@pytest.fixture(params=KINDS, ids=ids(KINDS))
def objects(request, api, parent, image) -> Objects:
    return Objects(api, request.param, parent.id, image.id)


@pytest.fixture(params=WITH_PUT, ids=ids(WITH_PUT))
def replaceable(request, api, parent, image) -> Objects:
    return Objects(api, request.param, parent.id, image.id)


# 1. Each kind: created, updated (PATCH and PUT), deleted.


async def test_create_records_one_created_event_with_the_response_as_data(
    objects, outbox: Outbox, staff
):
    mark = await outbox.mark()
    response = await objects.create()
    assert response.status_code == 201, response.text
    recorded = await outbox.only(mark)
    assert_envelope(recorded, f"{objects.kind.kind}.created", staff)
    assert recorded.data == objects.as_data(response.json())
    # What the API shows once committed, too.
    assert recorded.data == objects.as_data(await objects.get(response.json()["id"]))


async def test_patch_lists_only_the_fields_whose_value_changed(objects, outbox: Outbox, staff):
    created = await objects.created()
    mark = await outbox.mark()
    response = await objects.api.patch(
        objects.path(created["id"]), json=objects.body(objects.kind.patch)
    )
    assert response.status_code == 200, response.text
    recorded = await outbox.only(mark)
    assert_envelope(recorded, f"{objects.kind.kind}.updated", staff)
    assert recorded.changed == objects.kind.patch_changed
    assert recorded.data == objects.as_data(response.json())
    assert recorded.data == objects.as_data(await objects.get(created["id"]))


async def test_put_lists_only_the_fields_that_differ(replaceable, outbox: Outbox, staff):
    created = await replaceable.created()
    mark = await outbox.mark()
    response = await replaceable.api.put(
        replaceable.path(created["id"]), json=replaceable.body(replaceable.kind.put)
    )
    assert response.status_code == 200, response.text
    recorded = await outbox.only(mark)
    assert_envelope(recorded, f"{replaceable.kind.kind}.updated", staff)
    assert recorded.changed == replaceable.kind.put_changed
    assert recorded.data == replaceable.as_data(response.json())


async def test_delete_carries_the_object_as_it_was(objects, outbox: Outbox, staff):
    created = await objects.created()
    await objects.api.patch(objects.path(created["id"]), json=objects.body(objects.kind.patch))
    before = await objects.get(created["id"])
    mark = await outbox.mark()
    response = await objects.api.delete(objects.path(created["id"]))
    assert response.status_code == 204, response.text
    recorded = await outbox.only(mark)
    assert_envelope(recorded, f"{objects.kind.kind}.deleted", staff)
    assert recorded.data == objects.as_data(before)
    assert (await objects.api.get(objects.path(created["id"]))).status_code == 404


async def test_a_lifecycle_is_recorded_in_commit_order(objects, outbox: Outbox):
    mark = await outbox.mark()
    created = await objects.created()
    await objects.api.patch(objects.path(created["id"]), json=objects.body(objects.kind.patch))
    await objects.api.delete(objects.path(created["id"]))
    recorded = await outbox.since(mark)
    kind = objects.kind.kind
    assert [e.type for e in recorded] == [f"{kind}.created", f"{kind}.updated", f"{kind}.deleted"]
    assert [e.seq for e in recorded] == sorted(e.seq for e in recorded)
    assert len({e.id for e in recorded}) == 3
    assert {e.data["id"] for e in recorded} == {created["id"]}
    times = [e.body["timestamp"] for e in recorded]
    assert times == sorted(times)


async def test_the_actor_is_the_user_who_made_the_change(app, objects, outbox: Outbox, staff):
    other = await create_staff(app, *(permission.value for permission in Permission))
    created = await objects.created()
    mark = await outbox.mark()
    response = await objects.api.patch(
        objects.path(created["id"]),
        json=objects.body(objects.kind.patch),
        headers=other.headers,
    )
    assert response.status_code == 200, response.text
    recorded = await outbox.only(mark)
    assert_envelope(recorded, f"{objects.kind.kind}.updated", other)
    assert recorded.body["actor"] != {"id": staff.user_id, "username": staff.username}


async def test_a_superuser_is_an_actor_too(app, outbox: Outbox):
    superuser = await create_superuser(app)
    mark = await outbox.mark()
    async with make_client(app) as http:
        http.headers.update(superuser.headers)
        response = await http.post("/api/tags/", json={"name": "x"})
    assert response.status_code == 201
    assert_envelope(await outbox.only(mark), "tag.created", superuser)


# 2. Portfolios: ordered sets, references and the slug.


@pytest.fixture
async def portfolio_parts(app, db_connection):
    images = [await create_image(app, f"gallery {n}") for n in range(2)]
    tags = [await create_row(app, Tag, name=f"tag {n}") for n in range(2)]
    employer = await create_row(app, Employer, name="ACME")
    return [i.id for i in images], [t.id for t in tags], employer.id


async def test_portfolio_changes_to_tags_images_slug_and_references(
    api, outbox: Outbox, staff, portfolio_parts
):
    (i1, i2), (t1, t2), employer = portfolio_parts
    response = await api.post(
        "/api/portfolios/",
        json={
            "title": "Gallery site",
            "slug": "custom",
            "tags": [t1, t2],
            "images": [i1, i2],
            "completed_at": "2024-12-14T00:00:00Z",
        },
    )
    assert response.status_code == 201, response.text
    path = f"/api/portfolios/{response.json()['id']}"

    async def patched(body: dict[str, Any], changed: list[str], method: str = "PATCH"):
        mark = await outbox.mark()
        answer = await api.request(method, path, json=body)
        assert answer.status_code == 200, answer.text
        recorded = await outbox.only(mark)
        assert_envelope(recorded, "portfolio.updated", staff)
        assert sorted(recorded.changed) == sorted(changed), body
        assert recorded.data == answer.json()
        return answer.json()

    # The same sets in the same order: unchanged.
    await patched({"tags": [t1, t2], "images": [i1, i2], "order": 9}, ["order"])
    # The same set in another order: changed.
    shown = await patched({"tags": [t2, t1]}, ["tags"])
    assert [tag["id"] for tag in shown["tags_data"]] == [t2, t1]
    await patched({"tags": [t2, t1], "images": [i2, i1]}, ["images"])
    await patched({"images": [i2]}, ["images"])
    await patched({"tags": []}, ["tags"])
    await patched({"tags": [], "excerpt": "x"}, ["excerpt"])
    # An empty slug is generated again from the title.
    shown = await patched({"slug": ""}, ["slug"])
    assert shown["slug"] == "gallery-site"
    await patched({"slug": "custom"}, ["slug"])
    # A new title leaves the slug alone.
    shown = await patched({"slug": "custom", "title": "Renamed"}, ["title"])
    assert shown["slug"] == "custom"
    # The same instant written in another offset is the same value.
    await patched({"completed_at": "2024-12-14T03:30:00+03:30", "order": 10}, ["order"])
    await patched({"completed_at": "2024-12-15T00:00:00Z"}, ["completed_at"])
    # References by their request names; an object with an `id`, or a numeric string, is that id.
    await patched({"image": {"id": i1}, "employer": employer}, ["image", "employer"])
    await patched({"image": str(i1), "employer": employer, "is_active": False}, ["is_active"])
    await patched({"image": None}, ["image"])
    # PUT: only the fields that differ.
    await patched(
        {"title": "Renamed", "tags": [], "images": [i2], "order": 11, "slug": "custom"},
        ["order"],
        method="PUT",
    )


async def test_writing_back_what_was_read_is_recorded_with_nothing_changed(
    objects, outbox: Outbox, staff
):
    """An SPA saving a form it did not touch: the write still commits (`updated_at` moves, so
    `data` differs), as an event whose `changed` is empty."""
    created = await objects.created()
    await objects.api.patch(objects.path(created["id"]), json=objects.body(objects.kind.patch))
    for method in ["PATCH"] if objects.kind.put is None else ["PATCH", "PUT"]:
        shown = await objects.get(created["id"])
        mark = await outbox.mark()
        response = await objects.api.request(method, objects.path(created["id"]), json=shown)
        assert response.status_code == 200, response.text
        recorded = await outbox.only(mark)
        assert_envelope(recorded, f"{objects.kind.kind}.updated", staff)
        assert recorded.changed == [], method
        assert recorded.data == objects.as_data(response.json())


async def test_a_portfolio_delete_carries_its_links_and_meta(api, outbox: Outbox, staff, image):
    created = (await api.post("/api/portfolios/", json={"title": "Full", "image": image.id})).json()
    path = f"/api/portfolios/{created['id']}"
    assert (await api.post(f"{path}/links/", json={"name": "l"})).status_code == 201
    assert (
        await api.post(f"{path}/meta/", json={"key": "k", "value_text": "v"})
    ).status_code == 201
    before = (await api.get(path)).json()
    assert before["links_data"]
    assert before["meta"]
    mark = await outbox.mark()
    assert (await api.delete(path)).status_code == 204
    deleted = [e for e in await outbox.since(mark) if e.type == "portfolio.deleted"]
    assert len(deleted) == 1
    assert_envelope(deleted[0], "portfolio.deleted", staff)
    assert deleted[0].data == before


async def test_a_link_change_records_the_link_event_only(api, outbox: Outbox, parent):
    created = (await api.post(f"/api/portfolios/{parent.id}/links/", json={"name": "a"})).json()
    mark = await outbox.mark()
    await api.patch(f"/api/portfolios/{parent.id}/links/{created['id']}", json={"name": "b"})
    recorded = await outbox.only(mark)
    assert (recorded.type, recorded.data["portfolio_id"]) == ("link.updated", parent.id)


# 3. Nothing is recorded for a write that does not commit.


@pytest.fixture
async def existing(api, parent, image, app):
    """One object of each kind, and a document, made through the API."""
    made = {
        "parent": parent.id,
        "image": image.id,
        "document": (await create_document(app)).id,
        "portfolio": (await api.post("/api/portfolios/", json={"title": "Taken"})).json()["id"],
        "employer": (await api.post("/api/employers/", json={"name": "Taken"})).json()["id"],
        "tag": (await api.post("/api/tags/", json={"name": "Taken"})).json()["id"],
        "media": (await upload(api, samples.photo((40, 30)), "kept.jpg")).json()["id"],
    }
    made["link"] = (
        await api.post(f"/api/portfolios/{parent.id}/links/", json={"name": "kept"})
    ).json()["id"]
    made["meta"] = (
        await api.post(f"/api/portfolios/{parent.id}/meta/", json={"key": "taken"})
    ).json()["id"]
    return made


INVALID = [
    ("POST", "/api/portfolios/", {"title": ""}),
    ("POST", "/api/portfolios/", {"title": "Taken"}),
    ("POST", "/api/portfolios/", {"title": "New", "tags": [MISSING]}),
    ("POST", "/api/portfolios/", {"title": "New", "image": "{document}"}),
    ("PATCH", "/api/portfolios/{portfolio}", {"order": "first"}),
    ("PATCH", "/api/portfolios/{portfolio}", {"slug": "no spaces"}),
    ("PUT", "/api/portfolios/{portfolio}", {"excerpt": "no title"}),
    ("POST", "/api/portfolios/{parent}/links/", {"name": "x", "url": "ftp://x.example/"}),
    ("PATCH", "/api/portfolios/{parent}/links/{link}", {"image": MISSING}),
    ("POST", "/api/portfolios/{parent}/meta/", {"key": "taken"}),
    ("PATCH", "/api/portfolios/{parent}/meta/{meta}", {"value_file": MISSING}),
    ("POST", "/api/employers/", {"name": "Taken"}),
    ("PATCH", "/api/employers/{employer}", {"name": None}),
    ("POST", "/api/tags/", {"name": "x", "image": "{document}"}),
    ("PUT", "/api/tags/{tag}", {}),
    ("PATCH", "/api/media/{media}", {"name": ""}),
]

ABSENT = [
    ("PATCH", "/api/portfolios/{missing}", {"title": "x"}),
    ("PUT", "/api/portfolios/{missing}", {"title": "x"}),
    ("DELETE", "/api/portfolios/{missing}", None),
    ("POST", "/api/portfolios/{missing}/links/", {"name": "x"}),
    ("PATCH", "/api/portfolios/{parent}/links/{missing}", {"name": "x"}),
    ("PATCH", "/api/portfolios/{portfolio}/links/{link}", {"name": "x"}),  # another's link
    ("DELETE", "/api/portfolios/{portfolio}/links/{link}", None),
    ("POST", "/api/portfolios/{missing}/meta/", {"key": "x"}),
    ("DELETE", "/api/portfolios/{parent}/meta/{missing}", None),
    ("DELETE", "/api/portfolios/{portfolio}/meta/{meta}", None),
    ("PATCH", "/api/employers/{missing}", {"name": "x"}),
    ("DELETE", "/api/employers/{missing}", None),
    ("PUT", "/api/tags/{missing}", {"name": "x"}),
    ("DELETE", "/api/tags/{missing}", None),
    ("PATCH", "/api/media/{missing}", {"name": "x"}),
    ("DELETE", "/api/media/{missing}", None),
]

WRITES = [
    ("POST", "/api/portfolios/", {"title": "New"}),
    ("PATCH", "/api/portfolios/{portfolio}", {"title": "New"}),
    ("DELETE", "/api/portfolios/{portfolio}", None),
    ("POST", "/api/portfolios/{parent}/links/", {"name": "x"}),
    ("PUT", "/api/portfolios/{parent}/links/{link}", {"name": "x"}),
    ("DELETE", "/api/portfolios/{parent}/links/{link}", None),
    ("POST", "/api/portfolios/{parent}/meta/", {"key": "x"}),
    ("PATCH", "/api/portfolios/{parent}/meta/{meta}", {"key": "x"}),
    ("DELETE", "/api/portfolios/{parent}/meta/{meta}", None),
    ("POST", "/api/employers/", {"name": "x"}),
    ("PATCH", "/api/employers/{employer}", {"name": "x"}),
    ("DELETE", "/api/employers/{employer}", None),
    ("POST", "/api/tags/", {"name": "x"}),
    ("PATCH", "/api/tags/{tag}", {"name": "x"}),
    ("DELETE", "/api/tags/{tag}", None),
    ("PATCH", "/api/media/{media}", {"name": "x"}),
    ("DELETE", "/api/media/{media}", None),
]


def filled(template: str, existing: dict[str, int]) -> str:
    return template.format(missing=MISSING, **existing)


def filled_body(body: dict[str, Any] | None, existing: dict[str, int]) -> Any:
    if body is None:
        return None
    return {
        name: int(filled(value, existing)) if isinstance(value, str) and "{" in value else value
        for name, value in body.items()
    }


async def assert_refused_without_event(http, outbox, existing, method, path, body, status):
    mark = await outbox.mark()
    response = await http.request(method, filled(path, existing), json=filled_body(body, existing))
    assert response.status_code == status, response.text
    assert await outbox.since(mark) == []


@pytest.mark.parametrize(("method", "path", "body"), INVALID)
async def test_a_refused_write_400_records_nothing(api, outbox, existing, method, path, body):
    await assert_refused_without_event(api, outbox, existing, method, path, body, 400)


@pytest.mark.parametrize(("method", "path", "body"), ABSENT)
async def test_a_write_to_nothing_404_records_nothing(api, outbox, existing, method, path, body):
    await assert_refused_without_event(api, outbox, existing, method, path, body, 404)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_a_write_without_permission_records_nothing(
    app, outbox, existing, method, path, body
):
    viewer = await create_staff(app, *(p.value for p in Permission if p.name.endswith("_VIEW")))
    async with make_client(app) as http:
        http.headers.update(viewer.headers)
        await assert_refused_without_event(http, outbox, existing, method, path, body, 403)
        http.headers.clear()
        await assert_refused_without_event(http, outbox, existing, method, path, body, 401)


async def test_an_upload_without_permission_records_nothing(app, outbox: Outbox):
    viewer = await create_staff(app, Permission.MEDIA_VIEW)
    mark = await outbox.mark()
    async with make_client(app) as http:
        http.headers.update(viewer.headers)
        response = await upload(http, samples.photo((40, 30)), "refused.jpg")
    assert response.status_code == 403
    assert await outbox.since(mark) == []


class Boom(RuntimeError):
    pass


@pytest.fixture
def fail_after_recording(monkeypatch):
    """Every event is inserted (and seen in the transaction), then the request fails."""
    original = outbox_module._change
    seen: list[str] = []

    async def change(session, kind, action, *args, **options):
        event_id = await original(session, kind, action, *args, **options)
        found = await session.execute(select(Event.type).where(Event.id == event_id))
        seen.append(found.scalar_one())
        raise Boom(f"{kind}.{action}")

    monkeypatch.setattr(outbox_module, "_change", change)
    return seen


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_a_write_failing_after_its_event_leaves_neither(
    app, api, outbox, existing, fail_after_recording, method, path, body
):
    """The request's unit of work rolls back the event with the change."""
    mark = await outbox.mark()
    before = (await api.get(filled(path, existing))).content if method != "POST" else None
    async with make_client(app, raise_app_exceptions=False) as http:
        http.headers.update(api.headers)
        response = await http.request(
            method, filled(path, existing), json=filled_body(body, existing)
        )
    assert response.status_code == 500
    assert len(fail_after_recording) == 1  # it was in the transaction
    assert await outbox.since(mark) == []
    if before is not None:  # the object is as it was
        assert (await api.get(filled(path, existing))).content == before


async def test_an_upload_failing_after_its_event_leaves_neither(
    app, api, outbox, fail_after_recording
):
    mark = await outbox.mark()
    async with make_client(app, raise_app_exceptions=False) as http:
        http.headers.update(api.headers)
        response = await upload(http, samples.photo((40, 30)), "lost.jpg")
    assert response.status_code == 500
    assert fail_after_recording == ["media.created"]
    assert await outbox.since(mark) == []
    assert (await api.get("/api/media/", params={"search": "lost"})).json()["count"] == 0


async def committed_events(app) -> list[dict[str, Any]]:
    """The events committed, read on a connection of its own."""
    async with app.state.engine.connect() as connection:
        rows = await connection.execute(select(Event.body).order_by(Event.seq))
        return [strict_json(body) for body in rows.scalars()]


async def test_a_commit_that_fails_loses_the_event_with_the_change(app, committing_client):
    """For real, on the app's own connections: a failure at COMMIT, after the event was
    inserted, leaves no event and no portfolio; the next write's event is committed."""
    caller = await create_staff(app, Permission.PORTFOLIO_CREATE, Permission.PORTFOLIO_VIEW)
    committing_client.headers.update(caller.headers)

    refused: list[Session] = []

    def refuse(session: Session) -> None:
        if session.info.get("event_wakes_workers"):  # an event was recorded in it
            refused.append(session)
            raise Boom("commit refused")

    event.listen(Session, "before_commit", refuse)
    try:
        async with make_client(app, raise_app_exceptions=False) as http:
            http.headers.update(caller.headers)
            response = await http.post("/api/portfolios/", json={"title": "Lost"})
        assert response.status_code == 500
    finally:
        event.remove(Session, "before_commit", refuse)
    assert len(refused) == 1
    assert await committed_events(app) == []
    async with app.state.engine.connect() as connection:
        assert (
            await connection.execute(select(func.count()).select_from(Portfolio))
        ).scalar_one() == 0

    response = await committing_client.post("/api/portfolios/", json={"title": "Kept"})
    assert response.status_code == 201
    [committed] = await committed_events(app)
    assert committed["type"] == "portfolio.created"
    assert committed["data"] == response.json()
    assert committed["actor"] == {"id": caller.user_id, "username": caller.username}


# 4. A shared object's change is that object's event only.


async def test_changes_to_shared_objects_record_only_their_own_event(
    app, api, outbox: Outbox, staff
):
    image = await create_image(app, "shared")
    tag = (await api.post("/api/tags/", json={"name": "web"})).json()
    employer = (await api.post("/api/employers/", json={"name": "ACME"})).json()
    for title in ("One", "Two"):
        response = await api.post(
            "/api/portfolios/",
            json={
                "title": title,
                "tags": [tag["id"]],
                "employer": employer["id"],
                "image": image.id,
                "images": [image.id],
            },
        )
        assert response.status_code == 201, response.text
    portfolio_id = response.json()["id"]

    for method, path, body, type, changed in [
        ("PATCH", f"/api/tags/{tag['id']}", {"name": "websites"}, "tag.updated", ["name"]),
        ("PUT", f"/api/tags/{tag['id']}", {"name": "sites"}, "tag.updated", ["name"]),
        ("PATCH", f"/api/employers/{employer['id']}", {"name": "I"}, "employer.updated", ["name"]),
        ("PATCH", f"/api/media/{image.id}", {"alt": "shared"}, "media.updated", ["alt"]),
        ("DELETE", f"/api/tags/{tag['id']}", None, "tag.deleted", None),
        ("DELETE", f"/api/employers/{employer['id']}", None, "employer.deleted", None),
        ("DELETE", f"/api/media/{image.id}", None, "media.deleted", None),
    ]:
        mark = await outbox.mark()
        response = await api.request(method, path, json=body)
        assert response.status_code in (200, 204), response.text
        recorded = await outbox.only(mark)
        assert_envelope(recorded, type, staff)
        if changed is not None:
            assert recorded.changed == changed
            assert recorded.data == response.json()

    shown = (await api.get(f"/api/portfolios/{portfolio_id}")).json()
    assert (shown["tags_data"], shown["employer_data"], shown["image_data"]) == ([], None, None)


# 5. Bodies: strict JSON, stored once, unchanged afterwards.


async def test_bodies_are_json_and_read_back_byte_for_byte(api, outbox: Outbox, staff, parent):
    name = 'Quote " back\\slash } {"x":1} ünïcödé \u2028 طراحی 😀'
    mark = await outbox.mark()
    created = (await api.post("/api/tags/", json={"name": name})).json()
    link = (
        await api.post(f"/api/portfolios/{parent.id}/links/", json={"name": name, "url": None})
    ).json()
    first = await outbox.since(mark)
    assert [e.type for e in first] == ["tag.created", "link.created"]
    assert first[0].data["name"] == name == first[1].data["name"]
    assert first[1].data == {**link, "portfolio_id": parent.id}

    await api.patch(f"/api/tags/{created['id']}", json={"name": "plain"})
    again = await outbox.since(mark)
    assert [e.text for e in again[:2]] == [e.text for e in first]  # stored once, never rewritten
    assert again[0].data["name"] == name  # the tag as it was then
    assert again[2].data["name"] == "plain"
    for recorded in again:
        assert strict_json(recorded.text) == recorded.body
