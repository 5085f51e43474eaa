"""`portfolio-api import-original`: a whole original deployment moved in through its API, with
its ids, slugs, orders, timestamps and files; again (nothing new), after changes (a sync), with
conflicts, as a dry run, and against a misbehaving server."""

import io
from collections import Counter
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select, text

from app.importer.writer import Writer
from app.models import Event, ImportedObject, MediaFile, Portfolio, PortfolioLink, Tag
from tests.factories import create_row
from tests.importer.conftest import run_import
from tests.importer.original import Original, OriginalData, OriginalMedia
from tests.media.samples import GPS_IFD
from tests.webhooks.receiver import Receiver


def counts(data: OriginalData) -> dict[str, int]:
    return {
        "media": len(data.media),
        "employer": len(data.employers),
        "tag": len(data.tags),
        "portfolio": len(data.portfolios),
        "link": len(data.links),
        "meta": len(data.meta),
    }


async def events_of(app, type_: str | None = None) -> list[Event]:
    async with app.state.sessionmaker() as session:
        statement = select(Event).order_by(Event.seq)
        if type_ is not None:
            statement = statement.where(Event.type == type_)
        return list(await session.scalars(statement))


def stored(settings, path: str) -> Path:
    return settings.media_root / path


async def test_everything_arrives_with_its_ids_slugs_order_timestamps_and_files(
    app, staff, original, import_settings
):
    data = original.data
    report, verification = await run_import(import_settings, original, verify=True)

    assert dict(report.counts["created"]) == counts(data)
    assert report.problems == []
    assert report.files == len(data.media)
    assert report.bytes == sum(len(media.content) for media in data.media.values())
    assert verification is not None
    assert verification.differences == []
    assert verification.compared == sum(counts(data).values())

    wordpress = data.portfolios[150]
    body = (await staff.get("/api/portfolios/150")).json()
    assert (body["title"], body["slug"], body["order"]) == ("Wordpress site", "wordpress-site", 1)
    assert (body["created_at"], body["updated_at"]) == (wordpress.created_at, wordpress.updated_at)
    assert body["completed_at"] == "2024-12-14T00:00:00Z"
    assert [image["id"] for image in body["images_data"]] == wordpress.images  # gallery order
    assert [tag["id"] for tag in body["tags_data"]] == wordpress.tags
    assert body["employer_data"]["id"] == wordpress.employer
    persian = next(p for p in data.portfolios.values() if p.slug == "طراحی-سایت")
    assert (await staff.get(f"/api/portfolios/{persian.id}")).json()["slug"] == "طراحی-سایت"

    links = (await staff.get("/api/portfolios/150/links/")).json()
    assert {link["id"] for link in links["results"]} == {
        link.id for link in data.links.values() if link.portfolio == 150
    }
    assert all(link["created_at"] == data.links[link["id"]].created_at for link in links["results"])


async def test_files_keep_their_paths_get_fresh_thumbnails_and_lose_their_location(
    app, staff, original, import_settings
):
    await run_import(import_settings, original)
    located = next(m for m in original.data.media.values() if m.path.endswith("IMG_2041.jpg"))
    body = (await staff.get(f"/api/media/{located.id}")).json()
    assert body["f"].endswith(f"/media/{located.path}")  # the original's URL path still works
    assert [thumbnail["size"] for thumbnail in body["thumbnails"]] == [64, 128, 512, 1080]
    assert (body["width"], body["height"]) == (located.width, located.height)
    content = stored(import_settings, located.path).read_bytes()
    with Image.open(io.BytesIO(content)) as image:
        assert not image.getexif().get_ifd(GPS_IFD)  # stripped as on upload
    assert len(content) < len(located.content)
    for thumbnail in body["thumbnails"]:
        assert stored(import_settings, thumbnail["f"].split("/media/", 1)[1]).is_file()

    pdf = next(m for m in original.data.media.values() if m.type == "document")
    assert stored(import_settings, pdf.path).read_bytes() == pdf.content


async def test_history_says_imported_and_one_event_tells_of_the_whole_import(
    app, staff, original, import_settings
):
    await run_import(import_settings, original)

    history = (await staff.get("/api/history/", params={"action": "imported", "limit": 100})).json()
    assert history["count"] == sum(counts(original.data).values())
    assert {(entry["via"], entry["actor"]) for entry in history["results"]} == {("import", None)}
    events = await events_of(app)
    assert [event.type for event in events] == ["import.completed"]
    assert f'"created":{{"media":{len(original.data.media)}' in events[0].body


async def test_emit_events_records_an_event_per_object(app, staff, original, import_settings):
    await run_import(import_settings, original, emit_events=True)
    types = Counter(event.type for event in await events_of(app))
    assert types["portfolio.created"] == len(original.data.portfolios)
    assert types["link.created"] == len(original.data.links)
    assert types["import.completed"] == 1


async def test_new_objects_made_here_get_ids_past_the_imported_ones(
    app, staff, original, import_settings
):
    await run_import(import_settings, original)
    created = await staff.post("/api/portfolios/", json={"title": "made here afterwards"})
    assert created.status_code == 201
    assert created.json()["id"] > max(original.data.portfolios)
    link = await staff.post(f"/api/portfolios/{created.json()['id']}/links", json={"name": "x"})
    assert link.status_code == 201
    assert link.json()["id"] > max(original.data.links)


async def test_a_second_run_creates_nothing_and_downloads_nothing(
    app, staff, original, import_settings
):
    await run_import(import_settings, original)
    downloads = sum(original.downloads.values())

    report, verification = await run_import(import_settings, original, verify=True)

    assert report.written == 0
    assert dict(report.counts["unchanged"]) == counts(original.data)
    assert report.files == 0
    assert sum(original.downloads.values()) == downloads
    assert report.lines()[-1] == "nothing new: everything on the original was already imported"
    assert verification is not None
    assert verification.differences == []
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Portfolio)) == 3


async def test_a_later_run_brings_what_changed_and_prunes_only_when_asked(
    app, staff, original, import_settings
):
    data = original.data
    await run_import(import_settings, original)
    old_logo = next(m for m in data.media.values() if m.path.endswith("logo_transparent.png"))
    old_path = stored(import_settings, old_logo.path)
    assert old_path.is_file()

    data.portfolios[150].title = "WordPress site, relaunched"
    data.portfolios[150].images.reverse()
    tag_ids = list(data.tags)
    data.portfolios[152].tags = [tag_ids[2], *data.portfolios[152].tags[:1]]  # one in, one out
    data.tags[tag_ids[0]].name = "طراحی وب"
    gone_link = next(link.id for link in data.links.values() if link.portfolio == 150)
    del data.links[gone_link]
    data.media[old_logo.id] = OriginalMedia(
        id=old_logo.id,
        name="logo 2026",
        content=_png((40, 20)),
        path="core_media/2026/04/01/logo_2026.png",
        thumbnail_ids=old_logo.thumbnail_ids,
    )

    report, verification = await run_import(import_settings, original, verify=True)

    assert report.counts["created"].total() == 0
    assert report.counts["updated"] == Counter({"portfolio": 2, "tag": 1, "media": 1})
    assert report.stale == {"link": [gone_link]}
    assert verification is not None
    assert verification.differences == [f"portfolio 150.links_data: items [{gone_link}] only here"]
    body = (await staff.get("/api/portfolios/150")).json()
    assert body["title"] == "WordPress site, relaunched"
    assert [image["id"] for image in body["images_data"]] == data.portfolios[150].images
    logo = (await staff.get(f"/api/media/{old_logo.id}")).json()
    assert logo["f"].endswith("/media/core_media/2026/04/01/logo_2026.png")
    assert (logo["name"], logo["width"]) == ("logo 2026", 40)
    assert not old_path.exists()  # the replaced file's old bytes are gone
    assert (await staff.get(f"/api/portfolios/150/links/{gone_link}")).status_code == 200

    report, _ = await run_import(import_settings, original, prune=True)

    assert report.pruned == Counter({"link": 1})
    assert (await staff.get(f"/api/portfolios/150/links/{gone_link}")).status_code == 404
    trash = (await staff.get("/api/trash/", params={"kind": "link"})).json()
    assert [item["id"] for item in trash["results"]] == [gone_link]
    report, _ = await run_import(import_settings, original, prune=True)
    assert report.stale == {}
    assert report.written == 0


async def test_conflicts_are_reported_the_rest_imported_and_a_later_run_mends_them(
    app, staff, original, import_settings
):
    python = next(tag for tag in original.data.tags.values() if tag.name == "python")
    mine = await create_row(app, Tag, name="python")
    await create_row(app, Portfolio, id=152, title="Ours, not the original's", slug="ours")

    report, _ = await run_import(import_settings, original)

    assert report.counts["conflicts"] == Counter({"tag": 1, "portfolio": 1})
    assert any(
        line.startswith(f"conflict: tag {python.id} ('python'): name: tag with this name already")
        for line in report.problems
    )
    assert any("id 152 is taken here by another portfolio" in line for line in report.problems)
    children_of_152 = [link for link in original.data.links.values() if link.portfolio == 152]
    assert report.counts["failed"]["link"] == len(children_of_152)
    assert (await staff.get("/api/portfolios/152")).json()["title"] == "Ours, not the original's"
    body = (await staff.get("/api/portfolios/150")).json()
    assert python.id not in [tag["id"] for tag in body["tags_data"]]  # imported without it

    await staff.delete(f"/api/tags/{mine.id}")
    await staff.delete(f"/api/trash/tag/{mine.id}")  # purged: its name is free again
    report, _ = await run_import(import_settings, original)

    assert report.counts["created"]["tag"] == 1
    assert report.counts["updated"]["portfolio"] >= 1  # the reference comes back
    body = (await staff.get("/api/portfolios/150")).json()
    assert [tag["id"] for tag in body["tags_data"]] == original.data.portfolios[150].tags


async def test_a_dry_run_reports_and_writes_nothing(app, staff, original, import_settings):
    report, _ = await run_import(import_settings, original, dry_run=True)

    assert dict(report.counts["created"]) == counts(original.data)
    assert report.files == len(original.data.media)
    assert report.lines()[0] == "dry run: nothing was written"
    assert sum(original.downloads.values()) == 0
    async with app.state.sessionmaker() as session:
        for model in (Portfolio, PortfolioLink, MediaFile, Tag):
            assert await session.scalar(select(func.count()).select_from(model)) == 0
    assert await events_of(app) == []
    assert not import_settings.media_root.exists() or not any(
        import_settings.media_root.rglob("*.*")
    )


async def test_a_flaky_original_with_500s_and_cut_downloads_is_imported_whole(
    app, staff, import_settings
):
    async with Original(OriginalData.sample(), flaky=True) as flaky:
        report, verification = await run_import(import_settings, flaky, verify=True)
        assert report.problems == []
        assert dict(report.counts["created"]) == counts(flaky.data)
        assert verification is not None
        assert verification.differences == []
        assert max(flaky.downloads.values()) == 2  # each file: cut once, then whole


async def test_files_from_f_s_own_origin_when_it_answers(app, staff, import_settings):
    async with Original(OriginalData.sample(), media_origin="self") as answering:
        report, _ = await run_import(import_settings, answering)
    assert report.problems == []
    assert report.files == len(answering.data.media)


async def test_files_over_the_upload_limit_fail_alone(app, staff, original, import_settings):
    limit = 4000
    too_large = {m.id for m in original.data.media.values() if len(m.content) > limit}
    assert 0 < len(too_large) < len(original.data.media)
    settings = import_settings.model_copy(update={"upload_max_bytes": limit})

    report, _ = await run_import(settings, original)

    assert report.counts["failed"]["media"] == len(too_large)
    assert report.counts["created"]["portfolio"] == len(original.data.portfolios)
    assert all(original.downloads[original.data.media[pk].path] == 0 for pk in too_large)


async def test_a_hostile_path_does_not_choose_where_a_file_goes(
    app, staff, original, import_settings
):
    media = next(iter(original.data.media.values()))
    media.path = "core_media/2026/03/01/.htaccess"
    report, _ = await run_import(import_settings, original)
    assert report.problems == []
    body = (await staff.get(f"/api/media/{media.id}")).json()
    path = body["f"].split("/media/", 1)[1]
    assert "/." not in path
    assert path.startswith("core_media/")
    assert stored(import_settings, path).is_file()


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


async def test_a_row_the_database_refuses_fails_alone_and_its_batch_is_kept(
    app, staff, original, import_settings, monkeypatch
):
    """The batch it was written in is undone and written again, each row in a savepoint."""
    refused = sorted(original.data.links)[3]
    write_row = Writer._write_row

    async def refusing(self, session, resolved, *, created):
        changes = await write_row(self, session, resolved, created=created)
        if resolved.record.kind == "link" and resolved.record.id == refused:
            await session.execute(text("SELECT * FROM no_such_table"))  # the database refuses
        return changes

    monkeypatch.setattr(Writer, "_write_row", refusing)
    report, _ = await run_import(import_settings, original)

    assert report.counts["failed"] == Counter({"link": 1})
    assert report.counts["created"]["link"] == len(original.data.links) - 1
    name = original.data.links[refused].name
    assert [line.split(":")[:2] for line in report.problems] == [
        ["failed", f" link {refused} ({name!r})"]
    ]
    async with app.state.sessionmaker() as session:
        assert await session.get(PortfolioLink, refused) is None
        imported = await session.scalar(select(func.count()).select_from(ImportedObject))
    assert imported == sum(counts(original.data).values()) - 1
    history = (await staff.get("/api/history/", params={"kind": "link", "limit": 100})).json()
    assert history["count"] == len(original.data.links) - 1  # none recorded twice


async def test_times_without_a_zone_are_read_as_utc(app, staff, original, import_settings):
    """An original run with Django's USE_TZ = False writes naive times."""
    original.data.portfolios[150].created_at = "2026-03-03T17:52:28.976376"
    report, _ = await run_import(import_settings, original)
    assert report.problems == []
    body = (await staff.get("/api/portfolios/150")).json()
    assert body["created_at"] == "2026-03-03T17:52:28.976376Z"


async def test_a_file_keeps_its_path_but_not_an_extension_its_content_belies(
    app, staff, original, import_settings
):
    """A text file named .html would be served as a page from the API's own origin."""
    media = next(iter(original.data.media.values()))
    script = b"<script>alert(document.cookie)</script>"  # past what sniffing reads
    media.content, media.type = b"plain words\n" * 400 + script, "document"
    media.path = "core_media/2026/03/01/page.html"
    report, _ = await run_import(import_settings, original)
    assert report.problems == []
    path = (await staff.get(f"/api/media/{media.id}")).json()["f"].split("/media/", 1)[1]
    assert path == "core_media/2026/03/01/page.txt"


async def test_the_token_goes_to_the_original_only_never_to_where_files_point(
    app, staff, import_settings
):
    async with Receiver() as elsewhere:  # answers "ok": not the file, so --from serves it
        origin = elsewhere.url.removesuffix("/hooks")
        async with Original(OriginalData.sample(), media_origin=origin) as original:
            report, _ = await run_import(import_settings, original)
    assert report.problems == []
    assert elsewhere.received  # each file was asked of its own origin first
    assert all("authorization" not in request.headers for request in elsewhere.received)
