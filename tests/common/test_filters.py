"""Common filters: id range, calendar days in the configured zone, inclusive time ranges."""

from datetime import UTC, datetime

import pytest

from tests.common.notes import Note


async def insert(app, title, created_at, body=None):
    async with app.state.sessionmaker() as session:
        session.add(Note(title=title, body=body, created_at=created_at, updated_at=created_at))
        await session.commit()


async def titles(notes, query):
    response = await notes.get(f"/test/notes/?limit=100&{query}")
    assert response.status_code == 200, response.text
    return sorted(note["title"] for note in response.json()["results"])


@pytest.fixture
async def dated(notes_app, notes):
    await insert(notes_app, "jan13-morning", datetime(2026, 1, 13, 8, 0, tzinfo=UTC))
    await insert(notes_app, "jan13-late", datetime(2026, 1, 13, 23, 30, 0, 5, tzinfo=UTC), "text")
    await insert(notes_app, "jan14", datetime(2026, 1, 14, 0, 0, tzinfo=UTC), "")
    await insert(notes_app, "jan20", datetime(2026, 1, 20, 12, 0, tzinfo=UTC))
    return notes


async def test_created_date_is_a_calendar_day(dated):
    assert await titles(dated, "created_date=2026-01-13") == ["jan13-late", "jan13-morning"]


async def test_calendar_day_follows_the_configured_time_zone(dated, notes_app):
    original = notes_app.state.settings
    notes_app.state.settings = original.model_copy(update={"time_zone": "Asia/Tehran"})
    try:
        # 23:30 UTC on the 13th is already the 14th in Tehran (UTC+3:30).
        assert await titles(dated, "created_date=2026-01-14") == ["jan13-late", "jan14"]
    finally:
        notes_app.state.settings = original


async def test_date_ranges_are_inclusive_and_a_date_to_covers_its_day(dated):
    assert await titles(dated, "created_from=2026-01-13&created_to=2026-01-13") == [
        "jan13-late",
        "jan13-morning",
    ]
    assert await titles(dated, "created_from=2026-01-14") == ["jan14", "jan20"]


async def test_datetime_ranges_honour_offsets_and_microseconds(dated):
    assert await titles(dated, "created_to=2026-01-13T23:30:00.000005Z") == [
        "jan13-late",
        "jan13-morning",
    ]
    assert await titles(dated, "created_to=2026-01-13T23:30:00Z") == ["jan13-morning"]
    # 03:30:01 in UTC+3:30 is one second after midnight UTC.
    assert await titles(dated, "created_from=2026-01-14T03:30:01%2B03:30") == ["jan20"]
    assert await titles(dated, "created_from=2026-01-14T03:30:00%2B03:30") == ["jan14", "jan20"]


async def test_updated_filters(dated):
    assert await titles(dated, "updated_date=2026-01-20") == ["jan20"]
    assert await titles(dated, "updated_from=2026-01-14&updated_to=2026-01-19") == ["jan14"]


async def test_id_range(notes):
    ids = []
    for number in range(5):
        ids.append((await notes.post("/test/notes/", json={"title": f"n{number}"})).json()["id"])
    assert await titles(notes, f"id_min={ids[1]}&id_max={ids[3]}") == ["n1", "n2", "n3"]
    assert await titles(notes, f"id_min={2**63 - 1}") == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", ["jan13-late"]),
        ("TRUE", ["jan13-late"]),
        ("1", ["jan13-late"]),
        ("false", ["jan13-morning", "jan14", "jan20"]),
        ("0", ["jan13-morning", "jan14", "jan20"]),
        ("", ["jan13-late", "jan13-morning", "jan14", "jan20"]),
    ],
)
async def test_presence_filter_counts_empty_strings_as_absent(dated, value, expected):
    assert await titles(dated, f"has_body={value}") == expected


async def test_empty_values_are_ignored(dated):
    query = "id_min=&id_max=&created_date=&created_from=&created_to=&updated_date="
    assert len(await titles(dated, query)) == 4


async def test_white_space_is_not_empty(notes):
    """Only an empty value means "not given" (OpenAPI's `allowEmptyValue`); `%0C` is no date."""
    response = await notes.get("/test/notes/?updated_from=%0C&id_min=%20&has_body=%09")
    assert response.status_code == 400
    assert response.json() == {
        "id_min": ["A valid integer is required."],
        "updated_from": ["Enter a valid date/time."],
        "has_body": ["Must be a valid boolean."],
    }


async def test_every_bad_parameter_is_reported_in_one_400(notes):
    response = await notes.get(
        "/test/notes/",
        params={
            "has_body": "maybe",
            "created_from": "yesterday",
            "created_date": "2026-02-30",
            "id_min": "one",
            "id_max": str(2**63),
        },
    )
    assert response.status_code == 400
    assert response.json() == {
        "id_min": ["A valid integer is required."],
        "id_max": ["Ensure this value is less than or equal to 9223372036854775807."],
        "created_date": ["Enter a valid date."],
        "created_from": ["Enter a valid date/time."],
        "has_body": ["Must be a valid boolean."],
    }
