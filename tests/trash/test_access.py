"""Who sees and does what in the trash: any staff user lists the kinds whose view code they
hold, a restore needs the kind's delete code, a purge a superuser (API.md, "Editorial
safety")."""

import httpx
import pytest
from fastapi import FastAPI

from app.auth.permissions import Permission
from tests.factories import ALL_CODES, Caller, create_caller, create_staff
from tests.trash.conftest import (
    DENIED,
    EMPTY_PAGE,
    NOT_FOUND,
    World,
    body,
    client_for,
    trash_entry,
    trash_page,
)

NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}


@pytest.fixture
async def trashed(api: httpx.AsyncClient, world: World) -> dict[str, int]:
    """One object of each kind in the trash, deleted in this order: the ids by kind."""
    pid = world.id
    ids = {
        "link": world.links[1]["id"],
        "meta": world.meta[1]["id"],
        "tag": world.tags[2]["id"],
        "media": world.gallery[2]["id"],
        "employer": world.employer["id"],
        "portfolio": world.other["id"],
    }
    for path in (
        f"/api/portfolios/{pid}/links/{ids['link']}",
        f"/api/portfolios/{pid}/meta/{ids['meta']}",
        f"/api/tags/{ids['tag']}",
        f"/api/media/{ids['media']}",
        f"/api/employers/{ids['employer']}",
        f"/api/portfolios/{ids['portfolio']}",
    ):
        assert (await api.delete(path)).status_code == 204
    return ids


LABELS = {
    "link": "Repo",
    "meta": "stack",
    "tag": "web",
    "media": "gallery3",
    "employer": "ACME",
    "portfolio": "Blog",
}


async def test_a_superuser_sees_every_kind_newest_first(
    api: httpx.AsyncClient, root: Caller, trashed: dict[str, int]
):
    page = await trash_page(api)
    order = ["portfolio", "employer", "media", "tag", "meta", "link"]
    expected = [trash_entry(kind, trashed[kind], LABELS[kind], root, page) for kind in order]
    assert page == {"count": 6, "next": None, "previous": None, "results": expected}
    stamps = [entry["deleted_at"] for entry in expected]
    assert stamps == sorted(stamps, reverse=True)
    first = body(await api.get("/api/trash/", params={"limit": 2}))
    assert first == {
        "count": 6,
        "next": "http://testserver/api/trash/?limit=2&offset=2",
        "previous": None,
        "results": expected[:2],
    }
    last = body(await api.get("/api/trash/", params={"limit": 2, "offset": 4}))
    assert last == {
        "count": 6,
        "next": None,
        "previous": "http://testserver/api/trash/?limit=2&offset=2",
        "results": expected[4:],
    }
    assert await trash_page(api, kind="") == page  # an empty filter is no filter
    for kind in order:
        only = await trash_page(api, kind=kind)
        assert only == {
            "count": 1,
            "next": None,
            "previous": None,
            "results": [entry for entry in expected if entry["kind"] == kind],
        }


async def test_a_staff_user_sees_only_the_kinds_they_may_view(
    app: FastAPI, api: httpx.AsyncClient, trashed: dict[str, int]
):
    everything = (await trash_page(api))["results"]
    tags_only = [entry for entry in everything if entry["kind"] == "tag"]
    viewer = await create_staff(app, Permission.TAG_VIEW)
    async with client_for(app, viewer) as http:
        assert (await trash_page(http))["results"] == tags_only
        assert (await trash_page(http, kind="tag"))["results"] == tags_only
        for kind in ("portfolio", "link", "meta", "employer", "media"):
            refused = await http.get("/api/trash/", params={"kind": kind})
            assert (refused.status_code, refused.json()) == (403, DENIED)
        unknown = await http.get("/api/trash/", params={"kind": "widget"})
        assert unknown.status_code == 400
        assert unknown.json() == {
            "kind": ["Select a valid choice. widget is not one of the available choices."]
        }
    two = await create_staff(app, Permission.LINK_VIEW, Permission.MEDIA_VIEW)
    async with client_for(app, two) as http:
        assert (await trash_page(http))["results"] == [
            entry for entry in everything if entry["kind"] in ("link", "media")
        ]
    # Delete codes, or create and update ones, do not show a kind.
    no_view = await create_staff(
        app, Permission.TAG_CREATE, Permission.TAG_UPDATE, Permission.TAG_DELETE
    )
    async with client_for(app, no_view) as http:
        assert await trash_page(http) == EMPTY_PAGE
        refused = await http.get("/api/trash/", params={"kind": "tag"})
        assert (refused.status_code, refused.json()) == (403, DENIED)


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("portfolio", Permission.PORTFOLIO_DELETE),
        ("link", Permission.LINK_DELETE),
        ("meta", Permission.META_DELETE),
        ("employer", Permission.EMPLOYER_DELETE),
        ("tag", Permission.TAG_DELETE),
        ("media", Permission.MEDIA_DELETE),
    ],
)
async def test_a_restore_needs_the_kinds_delete_code(
    app: FastAPI, api: httpx.AsyncClient, trashed: dict[str, int], kind: str, code: Permission
):
    path = f"/api/trash/{kind}/{trashed[kind]}/restore"
    others = [other for other in ALL_CODES if other != code]
    without = await create_staff(app, *others)  # every other code, its view code included
    async with client_for(app, without) as http:
        refused = await http.post(path)
        assert (refused.status_code, refused.json()) == (403, DENIED)
    assert len((await trash_page(api))["results"]) == 6
    only = await create_staff(app, code)
    async with client_for(app, only) as http:
        restored = await http.post(path)
        assert restored.status_code == 200, restored.text
        assert restored.json()["id"] == trashed[kind]
        # Their code does not let them purge.
        assert (await http.post(path)).status_code == 404
    assert [entry["kind"] for entry in (await trash_page(api))["results"]] == [
        other
        for other in ("portfolio", "employer", "media", "tag", "meta", "link")
        if other != kind
    ]


async def test_unknown_kinds_and_ids_are_404(
    app: FastAPI, api: httpx.AsyncClient, trashed: dict[str, int]
):
    tag_deleter = await create_staff(app, Permission.TAG_DELETE)
    async with client_for(app, tag_deleter) as http:
        for path in (
            "/api/trash/widget/1/restore",
            f"/api/trash/widget/{trashed['tag']}/restore",
            "/api/trash/tag/999999/restore",
            f"/api/trash/tag/{trashed['employer'] + 1000}/restore",
            "/api/trash/tag/abc/restore",
            f"/api/trash/tag/{2**64}/restore",
            # A live tag is not in the trash.
            f"/api/trash/tag/{trashed['tag'] - 1}/restore",
        ):
            response = await http.post(path)
            assert (response.status_code, response.json()) == (404, NOT_FOUND), path
    for path in (
        "/api/trash/widget/1",
        "/api/trash/tag/999999",
        "/api/trash/tag/abc",
        # The kind names the id: a trashed tag's id as an employer's.
        f"/api/trash/employer/{trashed['tag']}",
    ):
        response = await api.delete(path)
        assert (response.status_code, response.json()) == (404, NOT_FOUND), path
    assert (await trash_page(api))["count"] == 6


async def test_anonymous_callers_and_users_who_are_not_staff_may_not(
    app: FastAPI, trashed: dict[str, int]
):
    tag = trashed["tag"]
    requests = [
        ("GET", "/api/trash/"),
        ("GET", "/api/trash/?kind=tag"),
        ("POST", f"/api/trash/tag/{tag}/restore"),
        ("DELETE", f"/api/trash/tag/{tag}"),
    ]
    async with client_for(app) as http:
        for method, path in requests:
            response = await http.request(method, path)
            assert (response.status_code, response.json()) == (401, NO_CREDENTIALS), path
            assert response.headers["www-authenticate"] == "Token"
            invalid = await http.request(method, path, headers={"Authorization": "Token nope"})
            assert (invalid.status_code, invalid.json()) == (401, {"detail": "Invalid token."})
    not_staff = await create_caller(app, permissions=ALL_CODES)
    inactive = await create_caller(app, is_staff=True, is_superuser=True, is_active=False)
    async with client_for(app, not_staff) as http:
        for method, path in requests:
            response = await http.request(method, path)
            assert (response.status_code, response.json()) == (403, DENIED), path
    async with client_for(app, inactive) as http:
        for method, path in requests:
            response = await http.request(method, path)
            assert response.status_code == 401, path
            assert response.json() == {"detail": "User inactive or deleted."}


async def test_who_deleted_is_the_user_as_named_then(
    app: FastAPI, api: httpx.AsyncClient, world: World
):
    deleter: Caller = await create_staff(app, Permission.TAG_DELETE, Permission.TAG_VIEW)
    async with client_for(app, deleter) as http:
        assert (await http.delete(f"/api/tags/{world.tags[0]['id']}")).status_code == 204
        page = await trash_page(http)
    entry = trash_entry("tag", world.tags[0]["id"], "python", deleter, page)
    renamed = await api.patch(f"/api/users/{deleter.user_id}", json={"username": "renamed"})
    assert renamed.status_code == 200, renamed.text
    assert (await trash_page(api))["results"] == [entry]
