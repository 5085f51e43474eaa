"""`/api/auth/me`, logout, one's own tokens and one's own password."""

from tests.factories import PASSWORD, create_caller, create_token


async def test_me_describes_the_caller_and_their_codes(app, client):
    caller = await create_caller(app, is_staff=True, permissions=[4242, 4241], email="a@b.example")
    body = (await client.get("/api/auth/me", headers=caller.headers)).json()
    assert body["username"] == caller.username
    assert body["email"] == "a@b.example"
    assert body["is_staff"] is True
    assert body["is_superuser"] is False
    assert body["permissions"] == [4242, 4241]
    assert "password" not in str(body)


async def test_logout_revokes_only_the_token_used(app, client):
    caller = await create_caller(app)
    _, other_key = await create_token(app, caller.user_id)
    assert (await client.delete("/api/auth/token/", headers=caller.headers)).status_code == 204
    assert (await client.get("/api/auth/me", headers=caller.headers)).status_code == 401
    other = {"Authorization": f"Token {other_key}"}
    assert (await client.get("/api/auth/me", headers=other)).status_code == 200


async def test_own_tokens_are_listed_without_keys(app, client):
    caller = await create_caller(app)
    await create_token(app, caller.user_id)
    body = (await client.get("/api/auth/tokens/", headers=caller.headers)).json()
    assert body["count"] == 2
    assert set(body["results"][0]) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
    }
    assert caller.key not in str(body)
    assert caller.key[:8] in [token["prefix"] for token in body["results"]]


async def test_someone_elses_token_is_not_found(app, client):
    caller = await create_caller(app)
    stranger = await create_caller(app)
    for method in ("GET", "DELETE"):
        response = await client.request(
            method, f"/api/auth/tokens/{stranger.token_id}", headers=caller.headers
        )
        assert response.status_code == 404
    assert (await client.get("/api/auth/me", headers=stranger.headers)).status_code == 200


async def test_revoke_an_own_token(app, client):
    caller = await create_caller(app)
    token_id, key = await create_token(app, caller.user_id)
    own = await client.get(f"/api/auth/tokens/{token_id}", headers=caller.headers)
    assert own.json()["id"] == token_id
    revoked = await client.delete(f"/api/auth/tokens/{token_id}/", headers=caller.headers)
    assert revoked.status_code == 204
    assert revoked.content == b""
    gone = await client.get("/api/auth/me", headers={"Authorization": f"Token {key}"})
    assert gone.status_code == 401


async def test_password_change_revokes_every_other_token(app, client):
    caller = await create_caller(app)
    _, other_key = await create_token(app, caller.user_id)
    response = await client.post(
        "/api/auth/password/",
        json={"old_password": PASSWORD, "new_password": "a much better one"},
        headers=caller.headers,
    )
    assert response.status_code == 204
    assert (await client.get("/api/auth/me", headers=caller.headers)).status_code == 200
    other = {"Authorization": f"Token {other_key}"}
    assert (await client.get("/api/auth/me", headers=other)).status_code == 401
    login = await client.post(
        "/api/auth/token/",
        json={"username": caller.username, "password": "a much better one"},
    )
    assert login.status_code == 200


async def test_password_change_needs_the_old_password_and_a_long_new_one(app, client):
    caller = await create_caller(app)
    wrong = await client.post(
        "/api/auth/password/",
        json={"old_password": "guess", "new_password": "a much better one"},
        headers=caller.headers,
    )
    assert wrong.status_code == 400
    assert wrong.json() == {"old_password": ["Wrong password."]}
    short = await client.post(
        "/api/auth/password/",
        json={"old_password": PASSWORD, "new_password": "short"},
        headers=caller.headers,
    )
    assert short.json() == {
        "new_password": ["This password is too short. It must contain at least 8 characters."]
    }


async def test_bad_body_from_a_stranger_is_401_not_a_parse_error(client):
    response = await client.post(
        "/api/auth/password/", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert response.status_code == 401


async def test_password_change_guesses_are_throttled_like_logins(app, client):
    """A stolen token must not let anyone guess the password it was issued for."""
    caller = await create_caller(app)
    limit = app.state.settings.login_failures_per_username_and_address
    for _ in range(limit):
        wrong = await client.post(
            "/api/auth/password/",
            json={"old_password": "guess", "new_password": "a much better one"},
            headers=caller.headers,
        )
        assert wrong.status_code == 400
    refused = await client.post(
        "/api/auth/password/",
        json={"old_password": PASSWORD, "new_password": "a much better one"},
        headers=caller.headers,
    )
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
