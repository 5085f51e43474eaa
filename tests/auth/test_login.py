"""`POST /api/auth/token/`: DRF's obtain_auth_token, with throttling shared by every replica."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.auth import secrets
from app.models import ApiToken, LoginFailure
from tests.conftest import make_client
from tests.factories import PASSWORD, create_user

FAILED = {"non_field_errors": ["Unable to log in with provided credentials."]}


async def login(client, username, password=PASSWORD, **kwargs):
    return await client.post(
        "/api/auth/token/", json={"username": username, "password": password}, **kwargs
    )


async def test_login_returns_a_new_working_token(app, client, db_connection):
    user = await create_user(app)
    response = await login(client, user.username)
    assert response.status_code == 200
    key = response.json()["token"]
    assert list(response.json()) == ["token"]
    me = await client.get("/api/auth/me", headers={"Authorization": f"Token {key}"})
    assert me.json()["username"] == user.username
    assert me.json()["last_login"] is not None
    statement = select(ApiToken.expires_at, ApiToken.name).where(ApiToken.user_id == user.id)
    token = (await db_connection.execute(statement)).one()
    lifetime = token.expires_at - datetime.now(UTC)
    assert 29 < lifetime.total_seconds() / 86400 <= 30
    assert token.name.startswith("login from ")


async def test_each_login_issues_another_token(app, client):
    user = await create_user(app)
    first = (await login(client, user.username)).json()["token"]
    second = (await login(client, user.username)).json()["token"]
    assert first != second


@pytest.mark.parametrize("case", ["wrong password", "unknown user", "inactive user"])
async def test_failures_are_indistinguishable(app, client, case):
    user = await create_user(app, is_active=case != "inactive user")
    username = "nobody-here" if case == "unknown user" else user.username
    password = "wrong password" if case == "wrong password" else PASSWORD
    response = await login(client, username, password)
    assert response.status_code == 400
    assert response.json() == FAILED


async def test_unknown_user_costs_a_full_password_check(app, client, monkeypatch):
    checked = []
    original = secrets._verify

    def spy(password_hash, password):
        checked.append(password_hash)
        return original(password_hash, password)

    monkeypatch.setattr(secrets, "_verify", spy)
    await login(client, "no-such-user")
    assert checked == [None]  # verified against the stand-in hash, not skipped


async def test_missing_fields_are_named(client):
    response = await client.post("/api/auth/token/", json={"username": ""})
    assert response.status_code == 400
    assert response.json() == {
        "username": ["This field may not be blank."],
        "password": ["This field is required."],
    }


async def test_passwords_are_not_trimmed(app, client):
    user = await create_user(app)
    response = await login(client, user.username, f" {PASSWORD} ")
    assert response.json() == FAILED


async def test_repeated_failures_per_username_are_throttled(app, client, db_connection):
    user = await create_user(app)
    limit = app.state.settings.login_failures_per_username
    for _ in range(limit):
        assert (await login(client, user.username, "wrong")).status_code == 400
    refused = await login(client, user.username)  # even the right password
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= app.state.settings.login_failure_window_seconds
    assert refused.json() == {
        "detail": f"Request was throttled. Expected available in {wait} seconds."
    }
    count = select(func.count()).select_from(LoginFailure)
    assert (await db_connection.execute(count)).scalar_one() == limit


async def test_repeated_failures_per_address_are_throttled(app, db_connection):
    limit = app.state.settings.login_failures_per_address
    async with make_client(app, client=("198.51.100.4", 1)) as guesser:
        for number in range(limit):
            assert (await login(guesser, f"guess{number}", "wrong")).status_code == 400
        assert (await login(guesser, "guess-next", "wrong")).status_code == 429
    user = await create_user(app)
    async with make_client(app, client=("198.51.100.5", 1)) as other:
        assert (await login(other, user.username)).status_code == 200


async def test_success_clears_the_username_failures(app, client):
    user = await create_user(app)
    limit = app.state.settings.login_failures_per_username
    for _ in range(limit - 1):
        await login(client, user.username, "wrong")
    assert (await login(client, user.username)).status_code == 200
    for _ in range(limit - 1):
        assert (await login(client, user.username, "wrong")).status_code == 400


async def test_throttle_is_seen_by_every_replica(app, settings, committing_client):
    """Failures are rows, so a second app instance (another replica) refuses the same guesser."""
    from app.main import create_app
    from tests.conftest import started

    limit = app.state.settings.login_failures_per_username
    await asyncio.gather(*(login(committing_client, "target", "wrong") for _ in range(limit)))
    async for replica in started(create_app(settings)):
        async with make_client(replica) as other:
            assert (await login(other, "target", "wrong")).status_code == 429
