"""DRF LimitOffsetPagination: page bodies, links, limits and their 400s."""

import pytest

from tests.conftest import make_client


@pytest.fixture
async def twenty_five(notes):
    for number in range(25):
        response = await notes.post("/test/notes/", json={"title": f"note {number:02}"})
        assert response.status_code == 201
    return notes


async def test_first_page_has_drf_shape_and_links(twenty_five):
    response = await twenty_five.get("/test/notes/")
    body = response.json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert body["count"] == 25
    assert len(body["results"]) == 10
    assert body["next"] == "http://testserver/test/notes/?limit=10&offset=10"
    assert body["previous"] is None


async def test_middle_and_last_pages(twenty_five):
    middle = (await twenty_five.get("/test/notes/", params={"offset": 10})).json()
    assert middle["next"] == "http://testserver/test/notes/?limit=10&offset=20"
    assert middle["previous"] == "http://testserver/test/notes/?limit=10"
    last = (await twenty_five.get("/test/notes/", params={"offset": 20})).json()
    assert len(last["results"]) == 5
    assert last["next"] is None
    assert last["previous"] == "http://testserver/test/notes/?limit=10&offset=10"


async def test_links_keep_other_parameters_sorted(twenty_five):
    body = (await twenty_five.get("/test/notes?search=note&limit=5&offset=5&has_body=")).json()
    assert body["next"] == ("http://testserver/test/notes?has_body=&limit=5&offset=10&search=note")
    assert body["previous"] == "http://testserver/test/notes?has_body=&limit=5&search=note"


async def test_pages_never_overlap(twenty_five):
    seen: list[int] = []
    for offset in range(0, 25, 7):
        page = (await twenty_five.get("/test/notes/", params={"limit": 7, "offset": offset})).json()
        seen += [note["id"] for note in page["results"]]
    assert len(seen) == len(set(seen)) == 25


async def test_offset_beyond_the_end_is_an_empty_page(twenty_five):
    body = (await twenty_five.get("/test/notes/", params={"offset": 1000})).json()
    assert body["count"] == 25
    assert body["results"] == []
    assert body["next"] is None
    assert body["previous"] == "http://testserver/test/notes/?limit=10&offset=990"


@pytest.mark.parametrize("limit", [101, 10**9, 2**63 - 1])
async def test_large_limits_are_clipped_to_the_cap(twenty_five, limit):
    response = await twenty_five.get("/test/notes/", params={"limit": limit})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 25


async def test_clipped_limit_appears_in_links(twenty_five):
    body = (await twenty_five.get("/test/notes/", params={"limit": 10**9, "offset": 5})).json()
    assert body["previous"] == "http://testserver/test/notes/?limit=100"


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"limit": 0}, {"limit": ["Ensure this value is greater than or equal to 1."]}),
        ({"limit": "ten"}, {"limit": ["A valid integer is required."]}),
        ({"limit": "1.5"}, {"limit": ["A valid integer is required."]}),
        (
            {"limit": 2**63},
            {"limit": ["Ensure this value is less than or equal to 9223372036854775807."]},
        ),
        ({"limit": "9" * 5000}, {"limit": ["A valid integer is required."]}),
        ({"offset": -1}, {"offset": ["Ensure this value is greater than or equal to 0."]}),
        (
            {"offset": 2**64},
            {"offset": ["Ensure this value is less than or equal to 9223372036854775807."]},
        ),
        (
            {"limit": -5, "offset": "x"},
            {
                "limit": ["Ensure this value is greater than or equal to 1."],
                "offset": ["A valid integer is required."],
            },
        ),
    ],
)
async def test_bad_limit_or_offset_is_400(notes, params, errors):
    response = await notes.get("/test/notes/", params=params)
    assert response.status_code == 400
    assert response.json() == errors


async def test_empty_limit_means_default(twenty_five):
    body = (await twenty_five.get("/test/notes/?limit=&offset=")).json()
    assert len(body["results"]) == 10


async def test_links_follow_trusted_forwarded_headers(twenty_five):
    response = await twenty_five.get(
        "/test/notes/",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "www.example.com"},
    )
    assert response.json()["next"] == "https://www.example.com/test/notes/?limit=10&offset=10"


async def test_forwarded_headers_from_untrusted_peers_are_ignored(notes_app, notes_db):
    async with make_client(notes_app, client=("203.0.113.7", 5000)) as stranger:
        for number in range(11):
            await stranger.post("/test/notes/", json={"title": f"n{number}"})
        response = await stranger.get(
            "/test/notes/",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
        )
    assert response.json()["next"] == "http://testserver/test/notes/?limit=10&offset=10"


async def test_configured_public_base_url_wins(twenty_five, notes_app):
    original = notes_app.state.settings
    notes_app.state.settings = original.model_copy(
        update={"public_base_url": "https://api.example.org"}
    )
    try:
        body = (await twenty_five.get("/test/notes/")).json()
    finally:
        notes_app.state.settings = original
    assert body["next"] == "https://api.example.org/test/notes/?limit=10&offset=10"
