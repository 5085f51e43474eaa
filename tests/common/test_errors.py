"""DRF-shaped errors for every way a request can go wrong."""

import logging

import pytest

from tests.conftest import make_client


async def create(notes, **fields):
    response = await notes.post("/test/notes/", json={"title": "a note", **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def test_unknown_route_is_drf_not_found(notes):
    response = await notes.get("/api/nothing/here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("note_id", ["abc", "0", "-1", str(2**63), "1.5", "9" * 400])
async def test_path_id_that_is_not_an_integer_in_range_is_not_found(notes, note_id):
    response = await notes.get(f"/test/notes/{note_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


async def test_missing_object_is_not_found(notes):
    response = await notes.get(f"/test/notes/{2**63 - 1}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


async def test_wrong_method_is_405_in_drf_words(notes):
    note = await create(notes)
    response = await notes.put(f"/test/notes/{note['id']}", json={})
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "PUT" not allowed.'}
    assert "PATCH" in response.headers["allow"]


async def test_required_field_missing(notes):
    response = await notes.post("/test/notes/", json={"body": "no title"})
    assert response.status_code == 400
    assert response.json() == {"title": ["This field is required."]}


async def test_several_bad_fields_are_reported_together(notes):
    response = await notes.post("/test/notes/", json={"title": "x" * 256, "rank": "high"})
    assert response.status_code == 400
    assert response.json() == {
        "title": ["Ensure this field has no more than 255 characters."],
        "rank": ["A valid integer is required."],
    }


async def test_null_and_blank_are_refused_with_drf_messages(notes):
    note = await create(notes)
    null = await notes.patch(f"/test/notes/{note['id']}", json={"title": None})
    blank = await notes.patch(f"/test/notes/{note['id']}", json={"title": "   "})
    assert null.status_code == blank.status_code == 400
    assert null.json() == {"title": ["This field may not be null."]}
    assert blank.json() == {"title": ["This field may not be blank."]}


async def test_a_length_limit_counts_what_was_sent(notes):
    """OpenAPI's maxLength: trimming does not bring 256 characters under a limit of 255."""
    response = await notes.post("/test/notes/", json={"title": " " + "x" * 255})
    assert response.status_code == 400
    assert response.json() == {"title": ["Ensure this field has no more than 255 characters."]}
    trimmed = await notes.post("/test/notes/", json={"title": " " + "x" * 254})
    assert trimmed.json()["title"] == "x" * 254


async def test_null_characters_are_refused(notes):
    response = await notes.post("/test/notes/", json={"title": "bad\u0000title"})
    assert response.status_code == 400
    assert response.json() == {"title": ["Null characters are not allowed."]}


async def test_malformed_json_is_a_parse_error(notes):
    response = await notes.post(
        "/test/notes/", content=b'{"title": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


@pytest.mark.parametrize(
    "body", [b"[" * 100_000, b'{"rank": NaN, "title": "x"}', b"\xff\xfe", b" ", b"\x0c"]
)
async def test_hostile_json_is_a_parse_error_not_a_crash(notes, body):
    response = await notes.post(
        "/test/notes/", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


async def test_body_that_is_not_json_is_415(notes):
    response = await notes.post(
        "/test/notes/", content=b"title=x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json() == {"detail": 'Unsupported media type "text/plain" in request.'}


async def test_json_body_without_content_type_is_read_as_json(notes):
    response = await notes.post("/test/notes/", content=b'{"title": "untyped"}')
    assert response.status_code == 201
    assert response.json()["title"] == "untyped"


async def test_a_list_where_an_object_is_expected(notes):
    response = await notes.post("/test/notes/", json=[{"title": "x"}])
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


async def test_empty_patch_changes_nothing(notes):
    note = await create(notes, body="kept")
    response = await notes.patch(f"/test/notes/{note['id']}", content=b"")
    assert response.status_code == 200
    assert response.json()["body"] == "kept"
    assert response.json()["title"] == note["title"]


async def test_unknown_and_read_only_fields_are_ignored(notes):
    note = await create(notes)
    response = await notes.patch(
        f"/test/notes/{note['id']}", json={"id": 999, "created_at": "2000-01-01", "nonsense": 1}
    )
    assert response.status_code == 200
    assert response.json()["id"] == note["id"]
    assert response.json()["created_at"] == note["created_at"]


async def test_persian_text_round_trips_unchanged(notes):
    note = await create(notes, title="طراحی سایت وردپرسی", body="لینک مشاهده دمو")
    fetched = await notes.get(f"/test/notes/{note['id']}")
    assert fetched.json()["title"] == "طراحی سایت وردپرسی"
    assert fetched.json()["body"] == "لینک مشاهده دمو"
    assert "طراحی".encode() in fetched.content  # not \u-escaped


async def test_unique_violation_is_drf_400(notes):
    await create(notes, title="taken")
    response = await notes.post("/test/notes/", json={"title": "taken"})
    assert response.status_code == 400
    assert response.json() == {"title": ["note with this title already exists."]}


async def test_constraint_failing_at_commit_time_is_never_reported_as_created(notes):
    await create(notes, title="first")
    response = await notes.post("/test/notes/unflushed/", json={"title": "first"})
    assert response.status_code == 400
    assert response.json() == {"title": ["note with this title already exists."]}
    listing = await notes.get("/test/notes/", params={"search": "first"})
    assert listing.json()["count"] == 1


async def test_json_body_over_the_limit_is_413(notes, notes_app):
    limit = notes_app.state.settings.json_body_max_bytes
    response = await notes.post("/test/notes/", json={"title": "x", "body": "y" * limit})
    assert response.status_code == 413
    assert set(response.json()) == {"detail"}


async def test_unexpected_error_is_500_without_internals(notes_app, notes_db):
    async with make_client(notes_app, raise_app_exceptions=False) as http:
        response = await http.get("/test/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "A server error occurred."}
    assert "secret" not in response.text


async def test_a_client_gone_mid_body_is_logged_without_a_traceback(notes_app, notes_db, caplog):
    """The client hangs up after part of its JSON body: no 500, no traceback."""
    chunks = [
        {"type": "http.request", "body": b'{"title": "half', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict] = []

    async def receive() -> dict:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/test/notes/", "raw_path": b"/test/notes/",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"content-length", b"100")],
    }  # fmt: skip
    await notes_app(scope, receive, send)
    assert sent[0]["status"] == 499
    assert "Traceback" not in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
