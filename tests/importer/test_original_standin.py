"""The stand-in of the original deployment (tests/importer/original.py) answers as the original:
the seeds' shapes key for key, DRF's paging, APPEND_SLASH, token authentication, files, faults."""

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.importer.original import Original, OriginalData

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
TOKEN = {"Authorization": "Token original-token"}


def seed(name: str) -> Any:
    return json.loads((SEEDS / f"{name}.json").read_text())


def keys(shape: dict[str, Any]) -> list[str]:
    return list(shape)


@pytest.fixture(scope="module")
def data() -> OriginalData:
    """Read-only here: tests that change the data build their own."""
    return OriginalData.sample(portfolios=5, links_per_portfolio=3)


async def all_pages(client: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    """Every result, following `next` from `url`."""
    results: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url is not None:
        response = await client.get(next_url)
        assert response.status_code == 200, response.text
        page = response.json()
        assert keys(page) == ["count", "next", "previous", "results"]
        results += page["results"]
        next_url = page["next"]
    assert len(results) == page["count"]
    return results


def assert_portfolio_shape(portfolio: dict[str, Any]) -> None:
    """update_portfolio.json's keys in its order, down to the thumbnails; links_data and meta
    items as API.md lists them (empty in the seed)."""
    expected = seed("update_portfolio")
    image = expected["image_data"]
    assert keys(portfolio) == keys(expected)
    assert keys(portfolio["image_data"]) == keys(image)
    assert keys(portfolio["image_data"]["thumbnails"][0]) == keys(image["thumbnails"][0])
    assert keys(portfolio["employer_data"]) == keys(expected["employer_data"])
    assert keys(portfolio["tags_data"][0]) == keys(expected["tags_data"][0])
    assert keys(portfolio["images_data"][0]) == keys(expected["images_data"][0])
    assert keys(portfolio["links_data"][0]) == ["id", "name", "url", "description", "image_data"]
    assert keys(portfolio["meta"][0]) == ["id", "key", "value_text", "value_file"]
    files = [row["value_file"] for row in portfolio["meta"] if row["value_file"]]
    assert keys(files[0]) == ["id", "type", "name", "size", "human_readable_size", "f"]


async def test_pages_follow_next_through_every_portfolio_in_the_seed_shape(data):
    async with (
        Original(data, page_size=2) as original,
        httpx.AsyncClient(headers=TOKEN) as client,
    ):
        portfolios = await all_pages(client, f"{original.url}/api/portfolios/")
        first = (await client.get(f"{original.url}/api/portfolios/?limit=2")).json()
        second = (await client.get(first["next"])).json()
        one = (await client.get(f"{original.url}/api/portfolios/150")).json()

    assert sorted(p["id"] for p in portfolios) == sorted(data.portfolios)
    assert [(p["order"], p["id"]) for p in portfolios][:3] == [(0, 153), (1, 152), (1, 150)]
    assert first["next"] == f"{original.url}/api/portfolios/?limit=2&offset=2"
    assert first["previous"] is None
    assert second["previous"] == f"{original.url}/api/portfolios/?limit=2"  # offset 0 dropped
    assert one == next(p for p in portfolios if p["id"] == 150)
    assert_portfolio_shape(one)
    assert one["images_data"] != sorted(one["images_data"], key=lambda image: image["id"])
    assert one["image_data"]["human_readable_size"].endswith(" KB")
    slugs = {p["slug"]: p for p in portfolios}
    assert slugs["طراحی-سایت"]["completed_at"] is None
    assert [p["is_active"] for p in portfolios].count(False) == 1


async def test_links_and_collections_in_the_seed_shape(data):
    link_keys = keys(seed("list_links")["results"][0])
    async with Original(data) as original, httpx.AsyncClient(headers=TOKEN) as client:
        links = await all_pages(client, f"{original.url}/api/portfolios/150/links/?limit=2")
        link = await client.get(f"{original.url}/api/portfolios/150/links/{links[0]['id']}")
        elsewhere = await client.get(f"{original.url}/api/portfolios/152/links/{links[0]['id']}")
        media = await all_pages(client, f"{original.url}/api/media/")
        employers = await all_pages(client, f"{original.url}/api/employers/")
        tags = await all_pages(client, f"{original.url}/api/tags/")

    assert [keys(one) for one in links] == [link_keys] * 3
    assert link.json() == links[0]
    pictured = next(one for one in links if one["image_data"])
    assert keys(pictured["image_data"]) == keys(seed("retrieve_link")["image_data"])
    assert elsewhere.status_code == 404
    assert sorted(one["id"] for one in media) == sorted(data.media)
    assert {one["type"] for one in media} == {"image", "document"}
    timestamps = ["created_at", "updated_at"]
    assert keys(employers[0]) == ["id", "name", "description", "image_data", *timestamps]
    assert keys(tags[0]) == ["id", "name", "image_data", *timestamps]
    assert len(employers) == len(data.employers)
    assert len(tags) == len(data.tags)


async def test_a_collection_without_its_slash_is_redirected_an_item_answers_both_ways(data):
    async with Original(data) as original, httpx.AsyncClient(headers=TOKEN) as client:
        redirected = await client.get(f"{original.url}/api/portfolios/150/links?limit=1")
        anonymous = await client.get(
            f"{original.url}/api/portfolios", headers={"Authorization": ""}
        )
        bare = await client.get(f"{original.url}/api/portfolios/150")
        slashed = await client.get(f"{original.url}/api/portfolios/150/")
        unknown = await client.get(f"{original.url}/api/portfolio/")

    assert redirected.status_code == 301
    assert redirected.headers["location"] == "/api/portfolios/150/links/?limit=1"
    assert anonymous.status_code == 301  # Django's middleware answers before authentication
    assert bare.status_code == slashed.status_code == 200
    assert bare.json() == slashed.json()
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Not found."}


async def test_the_api_needs_the_token_files_do_not(data):
    media = data.media[88]
    async with Original(data) as original, httpx.AsyncClient() as client:
        missing = await client.get(f"{original.url}/api/portfolios/")
        wrong = await client.get(
            f"{original.url}/api/portfolios/", headers={"Authorization": "Token nope"}
        )
        lowercase = await client.get(
            f"{original.url}/api/tags/", headers={"Authorization": "token  original-token"}
        )
        file = await client.get(f"{original.url}/media/{media.path}")
    async with Original(data, forbidden=True) as original, httpx.AsyncClient() as client:
        forbidden = await client.get(f"{original.url}/api/portfolios/", headers=TOKEN)

    assert missing.status_code == wrong.status_code == 401
    assert missing.json() == {"detail": "Authentication credentials were not provided."}
    assert wrong.json() == {"detail": "Invalid token."}
    assert missing.headers["www-authenticate"] == wrong.headers["www-authenticate"] == "Token"
    assert lowercase.status_code == 200
    assert file.status_code == 200
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "You do not have permission to perform this action."}


async def test_files_are_served_by_path_and_counted(data):
    pdf = data.media[94]
    async with Original(data) as original, httpx.AsyncClient() as client:
        answers = {}
        for media in data.media.values():
            answers[media.id] = await client.get(f"{original.url}/media/{media.path}")
        shown = (await client.get(f"{original.url}/api/media/{pdf.id}", headers=TOKEN)).json()
        with pytest.raises(httpx.ConnectError):  # `f` names the original's own host
            await client.get(shown["f"])
        thumbnail = await client.get(f"{original.url}/media/core_media/thumbnails/x_64x64.jpg")
    async with Original(data, media_origin="self") as itself, httpx.AsyncClient() as client:
        shown_by_itself = await client.get(f"{itself.url}/api/media/{pdf.id}", headers=TOKEN)
        reachable = await client.get(shown_by_itself.json()["f"])

    for media_id, answer in answers.items():
        assert answer.status_code == 200
        assert answer.content == data.media[media_id].content
        assert int(answer.headers["content-length"]) == len(answer.content)
    assert answers[pdf.id].headers["content-type"] == "application/pdf"
    assert original.downloads == {media.path: 1 for media in data.media.values()}
    assert shown["type"] == "document"
    assert "width" not in shown
    assert shown["f"].endswith("/media/core_media/2026/02/11/" + quote("بروشور_پروژه.pdf"))
    assert reachable.content == pdf.content
    assert thumbnail.status_code == 404


async def test_flaky_fails_each_request_once_then_answers(data):
    media = data.media[88]
    async with Original(data, flaky=True) as original, httpx.AsyncClient(headers=TOKEN) as client:
        first = await client.get(f"{original.url}/api/portfolios/?limit=1")
        second = await client.get(f"{original.url}/api/portfolios/?limit=1")
        other = await client.get(f"{original.url}/api/portfolios/?limit=2")
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(f"{original.url}/media/{media.path}")
        again = await client.get(f"{original.url}/media/{media.path}")

    assert (first.status_code, second.status_code, other.status_code) == (500, 200, 500)
    assert again.content == media.content
    assert original.downloads[media.path] == 2


async def test_the_data_is_read_live():
    data = OriginalData.sample(portfolios=2)
    async with (
        Original(data) as original,
        Original(data, collections=False) as without,
        httpx.AsyncClient(headers=TOKEN) as client,
    ):
        data.portfolios[150].title = "Renamed"
        del data.links[7]
        renamed = (await client.get(f"{original.url}/api/portfolios/150")).json()
        no_media_list = await client.get(f"{without.url}/api/media/")

    assert renamed["title"] == "Renamed"
    assert 7 not in [link["id"] for link in renamed["links_data"]]
    assert no_media_list.status_code == 404
    assert original.requests[0] == ("GET", "/api/portfolios/150")
