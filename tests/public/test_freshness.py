"""No stale public body: each change drops exactly the cached bodies that show what it touched,
at its commit (this process) and within a second on another replica (PostgreSQL, LISTEN/NOTIFY);
the cache stays within its memory bound."""

import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from app.public.cache import CachedResponse, ResponseCache
from tests.public.conftest import ok

LIST = "/api/public/portfolios/"


async def body_of(anonymous, path=LIST):
    response = await anonymous.get(path)
    return response.status_code, response.json(), response.headers["etag"]


async def test_a_tag_rename_drops_the_bodies_showing_it_and_no_others(app, staff, anonymous, site):
    _status, _before, etag = await body_of(anonymous)
    _s, employers_before, employers_etag = await body_of(anonymous, "/api/public/employers/")
    ok(await staff.patch(f"/api/tags/{site.tag['id']}", json={"name": "Websites"}))
    _status, after, new_etag = await body_of(anonymous)
    assert after["results"][0]["tags_data"][0]["name"] == "Websites"
    assert new_etag != etag
    cache = app.state.public_cache
    employers_key = next(key for key in cache._entries if "|employers|" in key)
    assert employers_key  # the employers list, which shows no tag, stayed cached
    _s, employers_after, still = await body_of(anonymous, "/api/public/employers/")
    assert (employers_after, still) == (employers_before, employers_etag)


@pytest.mark.parametrize(
    "change", ["media-delete", "employer", "link", "deactivate", "trash", "meta"]
)
async def test_no_stale_body_after_a_change(staff, anonymous, site, change):
    slug_path = f"/api/public/portfolios/{site.shown['slug']}"
    _s, before_list, _e = await body_of(anonymous)
    _s, before_one, _e = await body_of(anonymous, slug_path)
    base = f"/api/portfolios/{site.shown['id']}"
    if change == "media-delete":
        ok(await staff.delete(f"/api/media/{site.cover['id']}"), 204)
    elif change == "employer":
        ok(await staff.patch(f"/api/employers/{site.employer['id']}", json={"name": "Acme Ltd"}))
    elif change == "link":
        ok(await staff.patch(f"{base}/links/{site.link['id']}", json={"name": "source"}))
    elif change == "deactivate":
        ok(await staff.patch(f"{base}/", json={"is_active": False}))
    elif change == "trash":
        ok(await staff.delete(f"{base}/"), 204)
    else:
        ok(await staff.post(f"{base}/meta/", json={"key": "year", "value_text": "2026"}), 201)
    _status, after_list, _e = await body_of(anonymous)
    one_status, after_one, _e = await body_of(anonymous, slug_path)
    if change in ("deactivate", "trash"):
        assert after_list["count"] == 0
        assert one_status == 404
        tags = ok(await anonymous.get("/api/public/tags/"))
        assert tags["results"] == []  # no active portfolio uses it any more
    else:
        expected = ok(await staff.get(f"{base}/"))
        public_meta = [m for m in expected["meta"] if not m["key"].startswith("_")]
        assert after_list["results"] == [{**expected, "meta": public_meta}]
        assert after_one == {**expected, "meta": public_meta}
        assert after_one != before_one
        assert after_list != before_list


async def test_new_variants_reach_the_public_bodies(app, settings, staff, anonymous, site):
    from app.jobs.worker import Worker
    from tests.webhooks.test_delivery import fast, until

    _s, before, _e = await body_of(anonymous)
    assert before["results"][0]["image_data"]["variants"] == []
    worker = Worker(app.state.engine, fast(settings))
    task = asyncio.create_task(worker.run())
    try:

        async def shown() -> bool:
            _s, page, _e = await body_of(anonymous)
            return bool(page["results"][0]["image_data"]["variants"])

        await until(shown, within=30)
    finally:
        worker.stop()
        await task


def entry(size: int, *keys: str) -> CachedResponse:
    return CachedResponse(200, b"x" * size, '"e"', None, keys)


def test_the_cache_stays_within_its_bound_dropping_the_least_recently_used():
    cache = ResponseCache(max_bytes=10_000)
    for n in range(10):
        cache.put(f"page{n}", entry(1500, f"portfolio-{n}"), cache.generation)
        cache.get("page0")  # kept in use
    assert cache.bytes <= 10_000
    assert cache.get("page0") is not None
    assert cache.get("page1") is None  # the least recently used went first
    cache.drop(["portfolio-9"])
    assert cache.get("page9") is None
    assert cache.get("page8") is not None


def test_a_body_read_before_an_invalidation_is_not_kept():
    cache = ResponseCache(max_bytes=10_000)
    started = cache.generation
    cache.drop(["tag-1"])  # a change committed while the body was being read
    cache.put("page", entry(10, "tag-1"), started)
    assert cache.get("page") is None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_another_replica_serves_the_change_within_a_second(backend, settings, staff, site):
    if backend != "postgresql":
        pytest.skip("replicas share PostgreSQL; SQLite has one process")
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MEDIA_ROOT": str(settings.media_root),
        "RUN_WORKER": "false",
        "LOG_LEVEL": "WARNING",
    }
    replica = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as other:
            for _ in range(100):
                try:
                    first = await other.get(LIST)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # its listener is up: the cache is live
            first = await other.get(LIST)
            assert (await other.get(LIST)).headers["etag"] == first.headers["etag"]  # cached
            ok(await staff.patch(f"/api/tags/{site.tag['id']}", json={"name": "Renamed"}))
            changed_at = time.monotonic()
            while True:
                response = await other.get(LIST)
                if response.headers["etag"] != first.headers["etag"]:
                    break
                assert time.monotonic() - changed_at < 1.0, "the other replica is still stale"
                await asyncio.sleep(0.02)
            assert response.json()["results"][0]["tags_data"][0]["name"] == "Renamed"
    finally:
        replica.terminate()
        await asyncio.wait_for(replica.wait(), 20)
