"""Races (issue #9): concurrent requests on real connections, with real commits, give the
answers the same requests would give one after another. Both backends: SQLite serialises
writers (BEGIN IMMEDIATE), PostgreSQL runs them side by side at READ COMMITTED."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.models import MediaFile, MediaThumbnail, Portfolio, TrashItem, User
from tests.factories import create_row, create_superuser
from tests.media import samples
from tests.media.conftest import stored_files, upload

ROUNDS = 20


@pytest.fixture
async def racer(app, committing_client):
    committing_client.headers.update((await create_superuser(app)).headers)
    return committing_client


async def scalar(app, statement):
    async with app.state.engine.connect() as connection:
        return (await connection.execute(statement)).scalar_one()


async def test_fifty_creates_of_one_title_give_one_portfolio(app, racer):
    responses = await asyncio.gather(
        *(racer.post("/api/portfolios/", json={"title": "Race"}) for _ in range(50))
    )
    assert sorted(r.status_code for r in responses) == [201] + [400] * 49
    refused = [r.json() for r in responses if r.status_code == 400]
    assert refused == [{"title": ["portfolio with this title already exists."]}] * 49
    assert await scalar(app, select(func.count()).select_from(Portfolio)) == 1


# (collection, body to create, two fields patched side by side, their values in round n,
#  and which of the two are search fields)
PATCHED = {
    "link name and description": (
        "/api/portfolios/{portfolio}/links/", {"name": "link"}, ("name", "description"),
        ("name-{n}", "about {n}"), ("name-{n}",),
    ),
    "link name and url": pytest.param(
        "/api/portfolios/{portfolio}/links/", {"name": "link"}, ("name", "url"),
        ("name-{n}", "https://site{n}.example.com/"), ("name-{n}", "site{n}.example"),
    ),
    "employer name and description": (
        "/api/employers/", {"name": "acme"}, ("name", "description"),
        ("acme-{n}", "maker of {n}"), ("acme-{n}", "maker of {n}"),
    ),
    "portfolio title and excerpt": (
        "/api/portfolios/", {"title": "site"}, ("title", "excerpt"),
        ("site-{n}", "built in {n}"), ("site-{n}", "built in {n}"),
    ),
    "meta key and value": (
        "/api/portfolios/{portfolio}/meta/", {"key": "k"}, ("key", "value_text"),
        ("k-{n}", "value {n}"), ("k-{n}", "value {n}"),
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("collection", "body", "fields", "values", "searches"), PATCHED.values(), ids=PATCHED.keys()
)
async def test_concurrent_patches_of_different_fields_lose_neither(
    app, racer, collection, body, fields, values, searches
):
    portfolio = await create_row(app, Portfolio, title="Parent", slug="parent")
    collection = collection.format(portfolio=portfolio.id)
    created = await racer.post(collection, json=body)
    assert created.status_code == 201, created.text
    item = f"{collection.rstrip('/')}/{created.json()['id']}"
    for n in range(ROUNDS):
        wanted = {field: value.format(n=n) for field, value in zip(fields, values, strict=True)}
        responses = await asyncio.gather(
            *(racer.patch(item, json={field: value}) for field, value in wanted.items())
        )
        assert [r.status_code for r in responses] == [200, 200]
        stored = (await racer.get(item)).json()
        assert {field: stored[field] for field in fields} == wanted, f"round {n}"
        for term in searches:
            found = await racer.get(collection, params={"search": f'"{term.format(n=n)}"'})
            assert found.json()["count"] == 1, f"round {n}: search for {term.format(n=n)!r}"


DELETED = {
    "portfolio": ("/api/portfolios/", {"title": "doomed {n}"}, {"order": 1}),
    "employer": ("/api/employers/", {"name": "doomed {n}"}, {"description": "x"}),
    "tag": ("/api/tags/", {"name": "doomed {n}"}, {"name": "renamed {n}"}),
    "meta": ("/api/portfolios/{portfolio}/meta/", {"key": "k{n}"}, {"value_text": "x"}),
    "link": pytest.param(
        "/api/portfolios/{portfolio}/links/",
        {"name": "l{n}"},
        {"url": "https://x.example/"},
    ),
    "user": (
        "/api/users/",
        {"username": "doomed{n}", "password": "long enough"},
        {"email": "a@b.cd"},
    ),
}


def numbered(body: dict, n: int) -> dict:
    """Round n's body: no name a trashed object of an earlier round still holds."""
    return {k: v.format(n=n) if isinstance(v, str) else v for k, v in body.items()}


@pytest.mark.parametrize(("collection", "body", "change"), DELETED.values(), ids=DELETED.keys())
async def test_concurrent_deletes_give_one_204_and_updates_never_500(
    app, racer, collection, body, change
):
    portfolio = await create_row(app, Portfolio, title="Parent", slug="parent")
    collection = collection.format(portfolio=portfolio.id)
    for n in range(ROUNDS // 4):
        created = await racer.post(collection, json=numbered(body, n))
        item = f"{collection.rstrip('/')}/{created.json()['id']}"
        responses = await asyncio.gather(
            racer.delete(item),
            racer.delete(item),
            racer.patch(item, json=numbered(change, n)),
        )
        assert sorted(r.status_code for r in responses[:2]) == [204, 404]
        assert responses[2].status_code in (200, 404)
        assert (await racer.get(item)).status_code == 404


async def test_ids_are_never_reused(app, racer):
    """What made a second DELETE above reach a new object on SQLite: the newest id, once
    deleted, went to the next row (INTEGER PRIMARY KEY without AUTOINCREMENT). A deleted
    object now waits in the trash with its name reserved, so the second one takes another
    name (re-creating the trashed name is the usual 400)."""
    for path, kind in [("/api/tags/", "tag"), ("/api/employers/", "employer")]:
        first = (await racer.post(path, json={"name": "first"})).json()["id"]
        assert (await racer.delete(f"{path}{first}")).status_code == 204
        again = await racer.post(path, json={"name": "first"})
        assert again.status_code == 400
        assert again.json() == {"name": [f"{kind} with this name already exists."]}
        second = (await racer.post(path, json={"name": "second"})).json()["id"]
        assert second > first
        assert (await racer.delete(f"{path}{first}")).status_code == 404


# Two superusers, each taking the status from themselves at once: (method, body, the 400 body
# when refused) per request. Each acts on itself, so whichever goes first leaves the other's
# credentials intact.
DEMOTE = (
    "patch",
    {"is_superuser": False},
    {"is_superuser": ["The last active superuser cannot lose this status."]},
)
DEACTIVATE = (
    "patch",
    {"is_active": False},
    {"is_active": ["The last active superuser cannot be deactivated."]},
)
DELETE = ("delete", None, {"detail": "The last active superuser cannot be deleted."})
LAST_SUPERUSER = {
    "both demote": (DEMOTE, DEMOTE),
    "deactivate and demote": (DEACTIVATE, DEMOTE),
    "deactivate and delete": (DEACTIVATE, DELETE),
    "both delete": (DELETE, DELETE),
}  # fmt: skip


@pytest.mark.parametrize("actions", LAST_SUPERUSER.values(), ids=LAST_SUPERUSER.keys())
async def test_two_superusers_leaving_at_once_leave_one(app, committing_client, actions):
    active_superusers = (
        select(func.count()).select_from(User).where(User.is_superuser, User.is_active)
    )
    for n in range(ROUNDS // 4):
        async with app.state.engine.begin() as connection:
            await connection.execute(update(User).values(is_superuser=False))
        pair = [await create_superuser(app), await create_superuser(app)]
        responses = await asyncio.gather(
            *(
                committing_client.request(
                    method, f"/api/users/{caller.user_id}", json=body, headers=caller.headers
                )
                for caller, (method, body, _) in zip(pair, actions, strict=True)
            )
        )
        answers = [(r.status_code, r.json() if r.content else None) for r in responses]
        refused = [
            (status, body) for (status, body), action in zip(answers, actions, strict=True)
            if (status, body) == (400, action[2])
        ]  # fmt: skip
        succeeded = [status for status, _ in answers if status in (200, 204)]
        assert (len(refused), len(succeeded)) == (1, 1), f"round {n}: {answers}"
        assert await scalar(app, active_superusers) == 1, f"round {n}"


def orphans(root: Path, before: set[str], keys: set[str]) -> dict[str, set[str]]:
    """What a media library must never have: files without rows, rows without files, and
    thumbnails whose original is gone."""
    files = stored_files(root) - before
    originals = {key for key in files if "/thumbnails/" not in key}
    thumbnail_stems = {
        key.split("/thumbnails/")[0] + "/" + key.rsplit("/", 1)[1].split("_thumbnail_")[0]
        for key in files - originals
    }
    original_stems = {key.rsplit(".", 1)[0] for key in originals}
    return {
        "files without rows": files - keys,
        "rows without files": keys - files,
        "thumbnails without parents": thumbnail_stems - original_stems,
    }


async def test_concurrent_uploads_and_deletes_of_one_file_leave_no_orphans(app, racer, settings):
    root = Path(settings.media_root)
    before = stored_files(root)
    photo = samples.photo((320, 240))
    for _ in range(4):
        first = (await upload(racer, photo, "same.jpg")).json()
        path = f"/api/media/{first['id']}"
        responses = await asyncio.gather(
            *(racer.delete(path) for _ in range(3)),
            *(upload(racer, photo, "same.jpg") for _ in range(3)),
            racer.patch(path, json={"name": "renamed"}),
        )
        deletes, uploads, patch = responses[:3], responses[3:6], responses[6]
        assert sorted(r.status_code for r in deletes) == [204, 404, 404]
        assert [r.status_code for r in uploads] == [201] * 3
        assert patch.status_code in (200, 404)
        for created in uploads[:2]:  # a second wave: delete what was just uploaded
            await asyncio.gather(
                racer.delete(f"/api/media/{created.json()['id']}"),
                upload(racer, photo, "same.jpg"),
            )
    async with app.state.engine.connect() as connection:
        keys = set((await connection.execute(select(MediaFile.path))).scalars())
        keys |= set((await connection.execute(select(MediaThumbnail.path))).scalars())
        for files in (await connection.execute(select(TrashItem.files))).scalars():
            keys |= set(files)  # a trashed file keeps its bytes until it is purged
        per_file = (
            await connection.execute(
                select(func.count()).select_from(MediaThumbnail).group_by(MediaThumbnail.file_id)
            )
        ).scalars()
        assert set(per_file) == {4}
    assert orphans(root, before, keys) == {
        "files without rows": set(),
        "rows without files": set(),
        "thumbnails without parents": set(),
    }
