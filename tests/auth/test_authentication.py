"""`Authorization: Token <key>` (or Bearer) parsing and every DRF authentication failure."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.secrets import key_digest
from app.models import ApiToken
from tests.factories import create_caller, create_token, create_user


async def me(client, authorization=None):
    headers = {} if authorization is None else {"Authorization": authorization}
    return await client.get("/api/auth/me", headers=headers)


def assert_401(response, detail):
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response.headers["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("keyword", ["Token", "token", "TOKEN", "Bearer", "bearer"])
async def test_token_and_bearer_keywords_in_any_case(app, client, keyword):
    caller = await create_caller(app)
    response = await me(client, f"{keyword}   {caller.key}")
    assert response.status_code == 200
    assert response.json()["username"] == caller.username


async def test_no_credentials(client):
    assert_401(await me(client), "Authentication credentials were not provided.")
    assert_401(
        await me(client, "Basic dXNlcjpwYXNz"), "Authentication credentials were not provided."
    )


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token", "Invalid token header. No credentials provided."),
        ("Bearer ", "Invalid token header. No credentials provided."),
        ("Token abc def", "Invalid token header. Token string should not contain spaces."),
        ("Token nope", "Invalid token."),
        ("Token " + "a" * 10_000, "Invalid token."),
    ],
)
async def test_malformed_or_unknown_keys(client, header, detail):
    assert_401(await me(client, header), detail)


async def test_non_ascii_key_is_refused(client):
    response = await client.get("/api/auth/me", headers={"Authorization": b"Token \xe9\xe9"})
    assert_401(
        response, "Invalid token header. Token string should not contain invalid characters."
    )


async def test_expired_token(app, client):
    user = await create_user(app)
    _, key = await create_token(app, user.id, expires_in=timedelta(seconds=-1))
    assert_401(await me(client, f"Token {key}"), "Invalid token.")


async def test_token_without_expiry_keeps_working(app, client):
    user = await create_user(app)
    _, key = await create_token(app, user.id, expires_in=None)
    assert (await me(client, f"Token {key}")).status_code == 200


async def test_inactive_user(app, client):
    caller = await create_caller(app, is_active=False)
    assert_401(await me(client, f"Token {caller.key}"), "User inactive or deleted.")


async def test_database_holds_digests_only(app, client, db_connection):
    caller = await create_caller(app)
    stored = (await db_connection.execute(select(ApiToken.digest, ApiToken.prefix))).all()
    assert (key_digest(caller.key), caller.key[:8]) in [tuple(row) for row in stored]
    assert all(caller.key not in row.digest for row in stored)
    assert len(caller.key) == 40


async def test_last_used_is_written_at_most_once_a_minute(app, client, db_connection):
    caller = await create_caller(app)

    async def last_used():
        statement = select(ApiToken.last_used_at).where(ApiToken.id == caller.token_id)
        return (await db_connection.execute(statement)).scalar_one()

    assert await last_used() is None
    await me(client, f"Token {caller.key}")
    first = await last_used()
    assert first is not None
    await me(client, f"Token {caller.key}")
    assert await last_used() == first
