"""Listing, retrieving, renaming and deleting media; garbage collection of orphaned files."""

import asyncio

import pytest

from tests.factories import create_superuser
from tests.media import samples
from tests.media.conftest import upload


async def test_list_search_filter_and_order(media_client):
    await upload(media_client, samples.photo((120, 90)), "sunset beach.jpg")
    await upload(media_client, samples.PDF, "annual report.pdf")
    await upload(media_client, b"plain notes", "notes.txt", name="یادداشت‌ها")
    listing = (await media_client.get("/api/media/")).json()
    assert listing["count"] == 3
    assert [item["name"] for item in listing["results"]] == [
        "یادداشت‌ها",
        "annual report",
        "sunset beach",
    ]  # newest first
    images = (await media_client.get("/api/media/", params={"type": "image"})).json()
    assert [item["name"] for item in images["results"]] == ["sunset beach"]
    assert len(images["results"][0]["thumbnails"]) == 4
    found = (await media_client.get("/api/media", params={"search": "REPORT"})).json()
    assert [item["name"] for item in found["results"]] == ["annual report"]
    persian = (await media_client.get("/api/media/", params={"search": "یادداشتها"})).json()
    assert persian["count"] == 1
    by_name = (await media_client.get("/api/media/", params={"ordering": "name"})).json()
    assert by_name["results"][0]["name"] == "annual report"


async def test_bad_type_filter_is_400(media_client):
    response = await media_client.get("/api/media/", params={"type": "spreadsheet"})
    assert response.status_code == 400
    assert list(response.json()) == ["type"]


async def test_list_runs_a_fixed_number_of_queries(media_client, count_statements):
    async def statements_for_page(limit):
        await media_client.get("/api/auth/me")  # the token's last use is written once a minute
        count_statements.statements.clear()
        response = await media_client.get("/api/media/", params={"limit": limit})
        assert response.status_code == 200
        return count_statements.count

    await upload(media_client, samples.photo((64, 64)), "one.jpg")
    one = await statements_for_page(1)
    for number in range(6):
        await upload(media_client, samples.photo((64, 64)), f"more{number}.jpg")
    assert await statements_for_page(7) == one


async def test_retrieve_and_patch(media_client):
    created = (await upload(media_client, samples.photo((90, 60)), "before.jpg")).json()
    fetched = await media_client.get(f"/api/media/{created['id']}")
    assert fetched.json() == created
    patched = await media_client.patch(
        f"/api/media/{created['id']}",
        json={"name": "پس از", "alt": "after", "size": 1, "f": "http://evil.example/x.jpg"},
    )
    assert patched.status_code == 200
    body = patched.json()
    assert (body["name"], body["alt"]) == ("پس از", "after")
    assert (body["size"], body["f"]) == (created["size"], created["f"])
    assert body["updated_at"] > created["updated_at"]
    refused = await media_client.patch(f"/api/media/{created['id']}", json={"name": ""})
    assert refused.json() == {"name": ["This field may not be blank."]}


async def test_delete_trashes_and_purge_removes_the_row_the_file_and_its_thumbnails(
    app, media_client, media_store
):
    """A delete moves the file to the trash and keeps its bytes, for a restore; the purge does
    what the delete did before the trash: row, file and thumbnails gone for good."""
    before = await media_store.keys()
    created = (await upload(media_client, samples.photo((300, 200)), "gone.jpg")).json()
    assert len(await media_store.keys() - before) == 5
    response = await media_client.delete(f"/api/media/{created['id']}")
    assert response.status_code == 204
    assert len(await media_store.keys() - before) == 5
    assert (await media_client.get(f"/api/media/{created['id']}")).status_code == 404
    assert (await media_client.delete(f"/api/media/{created['id']}")).status_code == 404
    root = (await create_superuser(app)).headers
    purged = await media_client.delete(f"/api/trash/media/{created['id']}", headers=root)
    assert purged.status_code == 204
    assert await media_store.keys() == before
    gone = await media_client.delete(f"/api/trash/media/{created['id']}", headers=root)
    assert gone.status_code == 404


async def test_uploads_run_concurrently_without_clashes(app, committing_client, media_store):
    from tests.factories import create_staff

    committing_client.headers.update((await create_staff(app, 1101)).headers)
    before = await media_store.keys()
    responses = await asyncio.gather(
        *(upload(committing_client, samples.photo((200, 150)), "same.jpg") for _ in range(6))
    )
    assert [r.status_code for r in responses] == [201] * 6
    assert len({r.json()["f"] for r in responses}) == 6
    assert len(await media_store.keys() - before) == 30


async def test_permissions_split_by_action(app, client):
    from tests.factories import create_staff

    viewer = await create_staff(app, 1102)
    refused = await client.post(
        "/api/media/", files={"file": ("a.txt", b"text")}, headers=viewer.headers
    )
    assert refused.status_code == 403
    assert (await client.get("/api/media/", headers=viewer.headers)).status_code == 200


async def test_gc_finds_orphans_and_deletes_them_only_when_asked(
    app, committing_client, media_store, cli_settings, capsys
):
    from app.cli import main
    from tests.factories import create_staff

    staff = await create_staff(app, 1101)
    committing_client.headers.update(staff.headers)
    kept = media_store.key((await upload(committing_client, b"kept", "kept.txt")).json()["f"])
    orphan = "core_media/2020/01/01/orphan.jpg"
    await media_store.put(orphan, b"nobody points here")

    async def gc(*options):
        assert await asyncio.to_thread(main, ["media", "gc", *options]) == 0
        return capsys.readouterr().out

    young = await gc()  # an upload may still be committing: files under an hour old stay
    assert orphan not in young
    assert "0 orphaned files (dry run" in young
    dry_run = await gc("--min-age-minutes", "0")
    assert orphan in dry_run
    assert kept not in dry_run  # its row points to it
    assert "dry run" in dry_run
    assert orphan in await media_store.keys()
    deleted = await gc("--delete", "--min-age-minutes", "0")
    assert orphan in deleted
    assert "orphaned files deleted" in deleted
    stored = await media_store.keys()
    assert orphan not in stored
    assert kept in stored


@pytest.mark.parametrize("method", ["get", "delete"])
async def test_unknown_media_is_404(media_client, method):
    response = await getattr(media_client, method)(f"/api/media/{2**62}")
    assert response.status_code == 404
