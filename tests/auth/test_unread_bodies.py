"""A request that may not reach a route is answered before a byte of its body is read: a
stranger's 20 MB upload costs no disk, no memory, and the connection is closed after it."""

import json

import pytest

from tests.factories import create_staff

MEDIA_CREATE, TAG_CREATE = 1101, 4221
UPLOAD_SIZE = 20 * 1024 * 1024


async def call(app, method, path, headers, body_size):
    """The app called as a server would, with a body that counts every piece read of it."""
    pieces_read = []

    async def receive():
        pieces_read.append(len(pieces_read))
        return {"type": "http.request", "body": b"-" * 65536, "more_body": True}

    messages = []

    async def send(message):
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-length", str(body_size).encode()),
            *((name.lower().encode(), value.encode()) for name, value in headers.items()),
        ],
        "client": ("198.51.100.20", 40000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), json.loads(body), pieces_read


MULTIPART = {"Content-Type": "multipart/form-data; boundary=xyz"}


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("Token 0123456789abcdef0123456789abcdef01234567", "Invalid token."),
    ],
    ids=["anonymous", "unknown-token"],
)
async def test_an_unauthenticated_upload_is_refused_unread(app, client, authorization, detail):
    headers = dict(MULTIPART, **({"Authorization": authorization} if authorization else {}))
    status, response_headers, body, read = await call(
        app, "POST", "/api/media/", headers, UPLOAD_SIZE
    )
    assert (status, body) == (401, {"detail": detail})
    assert read == []
    assert response_headers[b"connection"] == b"close"


async def test_an_unauthenticated_json_body_is_refused_unread(app, client):
    headers = {"Content-Type": "application/json"}
    status, _, _, read = await call(app, "POST", "/api/portfolios/", headers, 900_000)
    assert status == 401
    assert read == []


async def test_a_caller_without_the_code_is_refused_unread(app, client):
    tags_only = await create_staff(app, TAG_CREATE)
    headers = dict(MULTIPART, **tags_only.headers)
    status, _, body, read = await call(app, "POST", "/api/media/", headers, UPLOAD_SIZE)
    assert (status, body) == (403, {"detail": "You do not have permission to perform this action."})
    assert read == []


async def test_a_permitted_caller_is_looked_up_once_and_heard(app, client, count_statements):
    uploader = await create_staff(app, MEDIA_CREATE)
    response = await client.post(
        "/api/media/",
        headers=uploader.headers,
        files={"file": ("note.txt", b"hello", "text/plain")},
    )
    assert response.status_code == 201
    token_lookups = [s for s in count_statements.statements if "auth_token" in s and "SELECT" in s]
    assert len(token_lookups) == 1


async def test_a_large_json_body_with_an_unknown_token_is_refused_unread(app, client):
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Token 0123456789abcdef0123456789abcdef01234567",
    }
    status, _, body, read = await call(app, "POST", "/api/portfolios/", headers, 900_000)
    assert (status, body) == (401, {"detail": "Invalid token."})
    assert read == []
