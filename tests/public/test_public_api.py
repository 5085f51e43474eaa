"""`/api/public/...` as API.md's "Public read API" gives it: what is shown (active, not trashed,
no private meta) and the HTTP caching of every public 200 and 404."""

import json
import re
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import pytest

from app.public.caching import SURROGATE_KEYS_MAX_BYTES, describe
from tests.public.conftest import ok

LIST = "/api/public/portfolios/"
CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300, stale-if-error=86400"


def public_shape(staff_body: dict) -> dict:
    """What the website sees of a portfolio the staff reads: the private meta left out."""
    return {**staff_body, "meta": [m for m in staff_body["meta"] if not m["key"].startswith("_")]}


async def test_only_active_portfolios_without_private_meta_and_no_token_needed(anonymous, site):
    page = ok(await anonymous.get(LIST))
    assert page["count"] == 1
    assert page["results"] == [public_shape(site.shown)]
    assert [m["key"] for m in page["results"][0]["meta"]] == ["client"]
    with_token = await anonymous.get(LIST, headers={"Authorization": "Token not-a-real-one"})
    assert with_token.status_code == 200
    assert with_token.content == (await anonymous.get(LIST)).content


async def test_one_portfolio_by_its_unicode_slug_encoded_or_not(anonymous, site):
    slug = site.shown["slug"]
    raw = ok(await anonymous.get(f"/api/public/portfolios/{slug}"))
    encoded = ok(await anonymous.get(f"/api/public/portfolios/{quote(slug)}/"))
    assert raw == encoded == public_shape(site.shown)
    hidden = await anonymous.get(f"/api/public/portfolios/{site.hidden['slug']}")
    assert (hidden.status_code, hidden.json()) == (404, {"detail": "Not found."})
    assert hidden.headers["cache-control"] == CACHE_CONTROL
    assert hidden.headers["surrogate-key"] == "portfolios"


async def test_tags_and_employers_are_those_active_portfolios_use(anonymous, site):
    tags = ok(await anonymous.get("/api/public/tags/"))
    assert [tag["name"] for tag in tags["results"]] == ["Web"]  # not Unused, not the draft's
    assert set(tags["results"][0]) == {"id", "name", "image_data", "created_at", "updated_at"}
    employers = ok(await anonymous.get("/api/public/employers/"))
    assert [employer["id"] for employer in employers["results"]] == [site.employer["id"]]


async def test_caching_headers_name_every_object_in_the_body(anonymous, site):
    response = await anonymous.get(LIST)
    etag = response.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)  # strong
    assert response.headers["cache-control"] == CACHE_CONTROL
    assert response.headers["access-control-allow-origin"] == "*"
    keys = response.headers["surrogate-key"].split(" ")
    assert keys[0] == "portfolios"
    assert set(keys) == {
        "portfolios",
        f"portfolio-{site.shown['id']}",
        f"employer-{site.employer['id']}",
        f"tag-{site.tag['id']}",
        f"media-{site.cover['id']}",
    }
    assert response.headers["cache-tag"] == ",".join(keys)
    newest = max(site.shown["updated_at"], site.cover["updated_at"], site.tag["updated_at"])
    assert (
        parsedate_to_datetime(response.headers["last-modified"]).strftime("%Y-%m-%dT%H:%M:%S")
        == newest[:19]
    )


@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "*", 'W/"nope", {etag}', "W/{etag}"],
    ids=["current", "star", "in-a-list", "weak"],
)
async def test_a_current_tag_is_a_304_even_with_no_cache(anonymous, site, if_none_match):
    first = await anonymous.get(LIST)
    headers = {
        "If-None-Match": if_none_match.format(etag=first.headers["etag"]),
        "Cache-Control": "no-cache",  # as Node's fetch sends it
    }
    again = await anonymous.get(LIST, headers=headers)
    assert again.status_code == 304
    assert again.content == b""
    for name in ("etag", "cache-control", "last-modified", "surrogate-key"):
        assert again.headers[name] == first.headers[name]
    stale = await anonymous.get(LIST, headers={"If-None-Match": '"0123"'})
    assert stale.status_code == 200
    assert stale.content == first.content


async def test_head_answers_the_headers_only_and_writes_are_405(anonymous, site):
    get = await anonymous.get(LIST)
    head = await anonymous.head(LIST)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))
    posted = await anonymous.post(LIST, json={"title": "x"})
    assert posted.status_code == 405


async def test_a_bad_query_is_a_400_no_one_caches(anonymous, site):
    response = await anonymous.get(LIST, params={"limit": "many"})
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"


async def test_a_cached_body_and_a_304_cost_no_sql(app, anonymous, site, count_statements):
    first = await anonymous.get(LIST)
    count_statements.statements.clear()
    again = await anonymous.get(LIST)
    revalidated = await anonymous.get(LIST, headers={"If-None-Match": first.headers["etag"]})
    assert (again.status_code, revalidated.status_code) == (200, 304)
    assert again.content == first.content
    assert count_statements.count == 0, count_statements.statements


def test_past_16_kb_of_surrogate_keys_a_body_names_its_collection_and_own_objects():
    portfolios = [
        {
            "id": n,
            "title": f"p{n}",
            "tags_data": [
                {"id": n * 1000 + t, "name": f"t{t}", "image_data": None} for t in range(20)
            ],
            "updated_at": "2026-01-13T10:00:00Z",
        }
        for n in range(100)
    ]
    body = json.dumps({"results": portfolios}).encode()
    keys, last_modified = describe("portfolios", "portfolio", body)
    assert keys == ["portfolios", *(f"portfolio-{n}" for n in range(100))]
    assert len(" ".join(keys)) <= SURROGATE_KEYS_MAX_BYTES
    assert last_modified == "Tue, 13 Jan 2026 10:00:00 GMT"


EMBEDDED_KIND = {
    "image_data": "media",
    "images_data": "media",
    "value_file": "media",
    "employer_data": "employer",
    "tags_data": "tag",
}


def walked(value, kind, keys):
    """The objects of a parsed body, by walking it: what `describe` reads off the text."""
    if isinstance(value, dict):
        if kind is not None and "id" in value:
            keys.add(f"{kind}-{value['id']}")
        for field, child in value.items():
            walked(child, EMBEDDED_KIND.get(field), keys)
    elif isinstance(value, list):
        for item in value:
            walked(item, kind, keys)
    return keys


@pytest.mark.parametrize(
    ("path", "collection", "kind"),
    [
        (LIST, "portfolios", "portfolio"),
        ("/api/public/tags/", "tags", "tag"),
        ("/api/public/employers/", "employers", "employer"),
    ],
)
async def test_the_keys_read_off_the_text_are_the_objects_of_the_parsed_body(
    anonymous, site, path, collection, kind
):
    response = await anonymous.get(path)
    keys, _last_modified = describe(collection, kind, response.content)
    expected = walked(response.json()["results"], kind, set())
    assert keys[0] == collection
    assert set(keys[1:]) == expected
    # On PostgreSQL the list's keys come from its query: the same, maybe in another order.
    sent = response.headers["surrogate-key"].split(" ")
    assert sent[0] == collection
    assert sorted(sent) == sorted(keys)


async def test_no_rate_limit_unless_configured(anonymous, site):
    statuses = {(await anonymous.get("/api/public/tags/")).status_code for _ in range(30)}
    assert statuses == {200}


async def test_a_configured_rate_limit_counts_each_client_address(settings, site):
    from app.main import create_app
    from tests.conftest import make_client

    limited = create_app(settings.model_copy(update={"public_rate_limit": 3}))
    async with limited.router.lifespan_context(limited), make_client(limited) as client:
        one = {"X-Forwarded-For": "203.0.113.7"}
        statuses = [(await client.get(LIST, headers=one)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = await client.get(LIST, headers=one)
        assert refused.json()["detail"].startswith("Request was throttled. Expected available in")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        other = await client.get(LIST, headers={"X-Forwarded-For": "203.0.113.8"})
        assert other.status_code == 200


@pytest.mark.parametrize("slug", ["%00", "a%00b", "x" * 300, "no-such-slug"])
async def test_a_slug_no_portfolio_can_have_is_a_404(anonymous, site, slug):
    response = await anonymous.get(f"/api/public/portfolios/{slug}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
