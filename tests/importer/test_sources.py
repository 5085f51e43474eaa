"""Where the import reads from and writes to: an S3 bucket, an original without the media,
employers and tags lists, a run without files, slashes and redirects, and the public API's
cache, dropped once the import commits."""

import uuid

from app.importer.client import OriginalClient
from app.settings import Settings
from tests.importer.conftest import TOKEN, run_import
from tests.importer.original import Original, OriginalData


async def test_files_go_to_the_configured_bucket(
    app, staff, original, settings, s3_server, s3_bucket, tmp_path
):
    prefix = f"import-{uuid.uuid4().hex[:8]}/"
    in_bucket = Settings(
        _env_file=None,
        environment="test",
        database_url=settings.database_url,
        media_root=tmp_path / "unused",
        **s3_server.storage_settings(s3_bucket, s3_key_prefix=prefix),
    )

    report, verification = await run_import(in_bucket, original, verify=True)

    assert report.problems == []
    assert verification is not None
    assert verification.differences == []
    bucket = s3_server.storage(s3_bucket, key_prefix=prefix)
    try:
        for media in original.data.media.values():
            with await bucket.open(media.path) as stored:
                content = stored.read()
            assert content == media.content or media.type == "image"
            assert len(content) > 0
    finally:
        await bucket.aclose()
    assert not (tmp_path / "unused").exists()


async def test_without_the_lists_only_what_portfolios_show_is_imported(app, staff, import_settings):
    async with Original(OriginalData.sample(), collections=False) as original:
        report, _ = await run_import(import_settings, original)
    data = original.data
    assert report.problems == []
    assert report.counts["created"]["employer"] == len(data.employers) - 1  # one is used nowhere
    assert report.counts["created"]["tag"] == len(data.tags) - 1
    assert report.counts["created"]["media"] == len(data.media) - 1
    employer = (await staff.get("/api/employers/5")).json()
    assert employer["created_at"] != data.employers[5].created_at  # nested objects show none


async def test_a_run_without_files_leaves_references_empty_until_a_run_with_them(
    app, staff, original, import_settings
):
    report, _ = await run_import(import_settings, original, files=False)
    assert report.counts["created"]["media"] == 0
    assert sum(original.downloads.values()) == 0
    assert (await staff.get("/api/portfolios/150")).json()["image_data"] is None

    report, _ = await run_import(import_settings, original)

    assert report.counts["created"]["media"] == len(original.data.media)
    assert report.counts["updated"]["portfolio"] == 2  # the inactive one shows no images
    cover = (await staff.get("/api/portfolios/150")).json()["image_data"]
    assert cover["id"] == original.data.portfolios[150].image


async def test_both_slash_forms_and_redirects_are_followed(original, import_settings):
    client = OriginalClient(original.url, TOKEN, import_settings)
    try:
        page = await client.get_json("/api/portfolios")
        links = [body async for body in client.pages("/api/portfolios/150/links")]
    finally:
        await client.aclose()
    assert page["count"] == len(original.data.portfolios)
    assert len(links) == len(
        [link for link in original.data.links.values() if link.portfolio == 150]
    )
    paths = [path.partition("?")[0] for _method, path in original.requests]
    assert paths[:2] == ["/api/portfolios", "/api/portfolios/"]  # a 301, followed
    assert "/api/portfolios/150/links" in paths


async def test_the_public_api_shows_the_import_at_once(
    app, committing_client, original, import_settings
):
    before = await committing_client.get("/api/public/portfolios/")
    assert before.json()["count"] == 0
    assert len(app.state.public_cache) == 1  # the empty list is cached

    await run_import(import_settings, original)

    after = (await committing_client.get("/api/public/portfolios/")).json()
    active = [p for p in original.data.portfolios.values() if p.is_active]
    assert after["count"] == len(active)
