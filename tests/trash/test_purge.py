"""Purging (superusers, `DELETE /api/trash/{kind}/{id}`) and expiry after TRASH_RETENTION_DAYS:
gone for good, rows and files, its reserved values free again (API.md, "Editorial safety")."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth.permissions import Permission
from app.db import unit_of_work
from app.events.outbox import act_via
from app.models import (
    MediaFile,
    MediaThumbnail,
    Portfolio,
    PortfolioLink,
    PortfolioMeta,
    Tag,
    TrashItem,
    TrashReservation,
    portfolio_images,
    portfolio_tags,
)
from app.models.base import utcnow
from app.trash.service import expire
from tests.factories import ALL_CODES, create_staff
from tests.media import samples
from tests.media.conftest import upload
from tests.trash.conftest import (
    DENIED,
    EMPTY_PAGE,
    NOT_FOUND,
    World,
    body,
    client_for,
    count_rows,
    image,
    post,
    read_all,
    trash_page,
    while_trashed,
)


async def test_only_a_superuser_purges(app: FastAPI, api: httpx.AsyncClient, world: World):
    tag = world.tags[0]["id"]
    assert (await api.delete(f"/api/tags/{tag}")).status_code == 204
    page = await trash_page(api)
    for codes in ([Permission.TAG_VIEW, Permission.TAG_DELETE], ALL_CODES):
        staff = await create_staff(app, *codes)
        async with client_for(app, staff) as http:
            refused = await http.delete(f"/api/trash/tag/{tag}")
        assert (refused.status_code, refused.json()) == (403, DENIED)
    assert await trash_page(api) == page  # still there, restorable

    purged = await api.delete(f"/api/trash/tag/{tag}")
    assert (purged.status_code, purged.content) == (204, b"")
    assert await trash_page(api) == EMPTY_PAGE
    for response in (
        await api.delete(f"/api/trash/tag/{tag}"),
        await api.post(f"/api/trash/tag/{tag}/restore"),
        await api.get(f"/api/tags/{tag}"),
    ):
        assert (response.status_code, response.json()) == (404, NOT_FOUND)


async def test_purge_leaves_no_row_behind(
    api: httpx.AsyncClient, world: World, db_connection: AsyncConnection
):
    tag, pid = world.tags[0]["id"], world.id
    assert (await api.delete(f"/api/tags/{tag}")).status_code == 204
    assert (await api.delete(f"/api/portfolios/{pid}")).status_code == 204
    assert await count_rows(db_connection, TrashItem) == 2
    assert await count_rows(db_connection, TrashReservation) == 3  # name; title and slug
    await purge(api, "tag", tag)
    await purge(api, "portfolio", pid)
    assert await count_rows(db_connection, TrashItem) == 0
    assert await count_rows(db_connection, TrashReservation) == 0
    assert await count_rows(db_connection, Tag, Tag.id == tag) == 0
    assert await count_rows(db_connection, Portfolio, Portfolio.id == pid) == 0
    assert await count_rows(db_connection, portfolio_tags, portfolio_tags.c.tag_id == tag) == 0
    for table in (PortfolioLink, PortfolioMeta):
        assert await count_rows(db_connection, table, table.portfolio_id == pid) == 0
    gallery = portfolio_images.c.portfolio_id == pid
    assert await count_rows(db_connection, portfolio_images, gallery) == 0
    # What the portfolio showed stays: its media.
    assert await count_rows(db_connection, MediaFile) == 6


async def purge(api: httpx.AsyncClient, kind: str, object_id: int) -> None:
    response = await api.delete(f"/api/trash/{kind}/{object_id}")
    assert response.status_code == 204, response.text


async def test_a_deleted_file_keeps_its_bytes_until_purged(
    api: httpx.AsyncClient, media_store, db_connection: AsyncConnection
):
    before = await media_store.keys()
    created = body(await upload(api, samples.photo((300, 200)), "purged.jpg"), 201)
    keys = {
        media_store.key(created["f"]),
        *(media_store.key(thumbnail["f"]) for thumbnail in created["thumbnails"]),
    }
    assert len(keys) == 5
    assert await media_store.keys() == before | keys

    assert (await api.delete(f"/api/media/{created['id']}")).status_code == 204
    assert await media_store.keys() == before | keys
    body(await api.post(f"/api/trash/media/{created['id']}/restore"))
    assert await media_store.keys() == before | keys
    assert (await api.delete(f"/api/media/{created['id']}")).status_code == 204

    await purge(api, "media", created["id"])
    assert await media_store.keys() == before
    file_rows = MediaThumbnail.file_id == created["id"]
    assert await count_rows(db_connection, MediaThumbnail, file_rows) == 0
    assert await count_rows(db_connection, MediaFile, MediaFile.id == created["id"]) == 0


async def test_purging_a_portfolio_purges_its_links_and_meta_trashed_before_it(
    api: httpx.AsyncClient, world: World, db_connection: AsyncConnection
):
    pid, link, meta = world.id, world.links[0]["id"], world.meta[0]["id"]
    assert (await api.delete(f"/api/portfolios/{pid}/links/{link}")).status_code == 204
    assert (await api.delete(f"/api/portfolios/{pid}/meta/{meta}")).status_code == 204
    assert (await api.delete(f"/api/portfolios/{pid}")).status_code == 204
    assert (await trash_page(api))["count"] == 3

    await purge(api, "portfolio", pid)
    assert await trash_page(api) == EMPTY_PAGE
    for kind, object_id in (("link", link), ("meta", meta), ("portfolio", pid)):
        for response in (
            await api.post(f"/api/trash/{kind}/{object_id}/restore"),
            await api.delete(f"/api/trash/{kind}/{object_id}"),
        ):
            assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert await count_rows(db_connection, TrashItem) == 0
    assert await count_rows(db_connection, TrashReservation) == 0


async def test_purging_a_link_leaves_its_portfolio_as_it_is(api: httpx.AsyncClient, world: World):
    link = world.links[0]["id"]
    before = await read_all(api, world.reads())
    assert (await api.delete(f"/api/portfolios/{world.id}/links/{link}")).status_code == 204
    await purge(api, "link", link)
    assert await read_all(api, world.reads()) == while_trashed(before, "link", link)


async def test_a_purged_file_stays_absent_from_what_showed_it(api: httpx.AsyncClient, world: World):
    """Purged while the portfolio was in the trash too: the portfolio comes back without it."""
    cover = world.cover["id"]
    before = await read_all(api, world.reads())
    assert (await api.delete(f"/api/media/{cover}")).status_code == 204
    while_gone = while_trashed(before, "media", cover)
    assert (await api.delete(f"/api/portfolios/{world.id}")).status_code == 204
    await purge(api, "media", cover)
    restored = body(await api.post(f"/api/trash/portfolio/{world.id}/restore"))
    assert restored == while_gone[f"/api/portfolios/{world.id}"][1]
    assert await read_all(api, world.reads()) == while_gone


async def test_a_purged_tag_and_employer_stay_absent_from_what_showed_them(
    api: httpx.AsyncClient, world: World
):
    tag, employer = world.tags[0]["id"], world.employer["id"]
    before = await read_all(api, world.reads())
    assert (await api.delete(f"/api/tags/{tag}")).status_code == 204
    assert (await api.delete(f"/api/employers/{employer}")).status_code == 204
    await purge(api, "tag", tag)
    await purge(api, "employer", employer)
    expected = while_trashed(while_trashed(before, "tag", tag), "employer", employer)
    assert await read_all(api, world.reads()) == expected
    # Their names are free again.
    assert (await post(api, "/api/tags/", name="python"))["id"] != tag
    assert (await post(api, "/api/employers/", name="ACME"))["id"] != employer


# Expiry.


async def age(connection: AsyncConnection, kind: str, object_id: int, days: float) -> None:
    """As if the object had been deleted `days` ago."""
    await connection.execute(
        update(TrashItem)
        .where(TrashItem.kind == kind, TrashItem.object_id == object_id)
        .values(deleted_at=utcnow() - timedelta(days=days))
    )


async def run_expiry(app: FastAPI) -> None:
    """What the workers run hourly."""
    async with unit_of_work(app.state.sessionmaker) as session:
        act_via(session, "worker")
        await expire(session, app.state.settings)


async def test_expiry_purges_what_is_older_than_the_retention(
    app: FastAPI, api: httpx.AsyncClient, db_connection: AsyncConnection, media_store
):
    retention = app.state.settings.trash_retention_days
    assert retention == 30
    old_tag = await post(api, "/api/tags/", name="old")
    young_tag = await post(api, "/api/tags/", name="young")
    old_file = await image(api, "old")
    keys = {
        media_store.key(old_file["f"]),
        *(media_store.key(thumbnail["f"]) for thumbnail in old_file["thumbnails"]),
    }
    for path in (
        f"/api/tags/{old_tag['id']}",
        f"/api/tags/{young_tag['id']}",
        f"/api/media/{old_file['id']}",
    ):
        assert (await api.delete(path)).status_code == 204
    await age(db_connection, "tag", old_tag["id"], retention + 0.01)
    await age(db_connection, "media", old_file["id"], retention + 5)
    await age(db_connection, "tag", young_tag["id"], retention - 0.01)
    young = [item for item in (await trash_page(api))["results"] if item["label"] == "young"]
    assert keys <= await media_store.keys()

    await run_expiry(app)
    assert await trash_page(api) == {"count": 1, "next": None, "previous": None, "results": young}
    for kind, object_id in (("tag", old_tag["id"]), ("media", old_file["id"])):
        gone = await api.post(f"/api/trash/{kind}/{object_id}/restore")
        assert (gone.status_code, gone.json()) == (404, NOT_FOUND)
    assert not keys & await media_store.keys()
    assert (await post(api, "/api/tags/", name="old"))["name"] == "old"  # free again
    taken = await api.post("/api/tags/", json={"name": "young"})
    assert taken.json() == {"name": ["tag with this name already exists."]}

    await run_expiry(app)  # nothing more is due
    assert (await trash_page(api))["results"] == young
    body(await api.post(f"/api/trash/tag/{young_tag['id']}/restore"))
    assert body(await api.get(f"/api/tags/{young_tag['id']}")) == young_tag


async def test_expiry_purges_a_portfolio_with_its_links_trashed_before_it(
    app: FastAPI, api: httpx.AsyncClient, world: World, db_connection: AsyncConnection
):
    pid, link = world.id, world.links[0]["id"]
    assert (await api.delete(f"/api/portfolios/{pid}/links/{link}")).status_code == 204
    assert (await api.delete(f"/api/portfolios/{pid}")).status_code == 204
    await age(db_connection, "link", link, 40)
    await age(db_connection, "portfolio", pid, 31)
    await run_expiry(app)
    assert await trash_page(api) == EMPTY_PAGE
    assert await count_rows(db_connection, TrashItem) == 0
    assert await count_rows(db_connection, TrashReservation) == 0
    assert (await post(api, "/api/portfolios/", title="Shop site"))["slug"] == "shop-site"


async def test_expiry_of_a_portfolio_older_than_its_link_purges_both(
    app: FastAPI, api: httpx.AsyncClient, world: World, db_connection: AsyncConnection
):
    """Only the portfolio is due: its link trashed before it goes with it (nothing of it
    could come back anyway)."""
    pid, link = world.id, world.links[0]["id"]
    assert (await api.delete(f"/api/portfolios/{pid}/links/{link}")).status_code == 204
    assert (await api.delete(f"/api/portfolios/{pid}")).status_code == 204
    await age(db_connection, "portfolio", pid, 31)
    await run_expiry(app)
    assert await trash_page(api) == EMPTY_PAGE
    assert await count_rows(db_connection, TrashItem) == 0
