"""DRF OrderingFilter: allowed fields, unknown ones dropped, `-id` breaking ties."""

import pytest


@pytest.fixture
async def ranked(notes):
    for title, rank in [("b", 2), ("a", 1), ("c", 1), ("d", 3)]:
        await notes.post("/test/notes/", json={"title": title, "rank": rank})
    return notes


async def titles(notes, **params):
    response = await notes.get("/test/notes/", params=params)
    assert response.status_code == 200
    return [note["title"] for note in response.json()["results"]]


async def test_default_ordering_is_rank_then_newest(ranked):
    assert await titles(ranked) == ["c", "a", "b", "d"]


async def test_ordering_by_allowed_fields(ranked):
    assert await titles(ranked, ordering="title") == ["a", "b", "c", "d"]
    assert await titles(ranked, ordering="-title") == ["d", "c", "b", "a"]
    assert await titles(ranked, ordering="-rank,title") == ["d", "b", "a", "c"]


async def test_ties_are_broken_by_descending_id(ranked):
    assert await titles(ranked, ordering="rank") == ["c", "a", "b", "d"]


async def test_unknown_fields_are_dropped(ranked):
    assert await titles(ranked, ordering="search_text,-title") == ["d", "c", "b", "a"]
    assert await titles(ranked, ordering="nonsense") == ["c", "a", "b", "d"]
    assert await titles(ranked, ordering=",,") == ["c", "a", "b", "d"]
