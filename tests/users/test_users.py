"""`/api/users/`: superusers manage accounts, codes and tokens."""

import pytest

from tests.factories import create_caller, create_staff, create_user


async def test_create_user_with_codes(admin_client):
    response = await admin_client.post(
        "/api/users/",
        json={
            "username": "editor",
            "email": "Editor@Example.com",
            "password": "long enough pw",
            "is_staff": True,
            "permissions": [4242, 4241, 4241],
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "editor"
    assert body["email"] == "editor@example.com"
    assert body["permissions"] == [4241, 4242]
    assert body["is_superuser"] is False
    assert "password" not in body
    assert "password_hash" not in body
    login = await admin_client.post(
        "/api/auth/token/", json={"username": "editor", "password": "long enough pw"}
    )
    assert login.status_code == 200


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (
            {"username": "bad name", "password": "long enough pw"},
            {
                "username": [
                    "Enter a valid username. This value may contain only letters, numbers, "
                    "and @/./+/-/_ characters."
                ]
            },
        ),
        (
            {"username": "x", "password": "short"},
            {"password": ["This password is too short. It must contain at least 8 characters."]},
        ),
        (
            {"username": "x", "password": "long enough pw", "permissions": [4241, 9999]},
            {"permissions": ['"9999" is not a valid choice.']},
        ),
        (
            {"username": "x", "password": "long enough pw", "email": "not-an-email"},
            {"email": ["Enter a valid email address."]},
        ),
        ({}, {"username": ["This field is required."], "password": ["This field is required."]}),
        (
            {"username": "x", "password": "long enough pw", "is_superuser": 0},
            {"is_superuser": ["Must be a valid boolean."]},
        ),
        (
            {"username": "x", "password": "long enough pw", "is_staff": "true"},
            {"is_staff": ["Must be a valid boolean."]},
        ),
    ],
)
async def test_create_user_validation(admin_client, payload, errors):
    response = await admin_client.post("/api/users/", json=payload)
    assert response.status_code == 400
    assert response.json() == errors


async def test_usernames_are_unique(app, admin_client):
    existing = await create_user(app)
    response = await admin_client.post(
        "/api/users/", json={"username": existing.username, "password": "long enough pw"}
    )
    assert response.status_code == 400
    assert response.json() == {"username": ["A user with that username already exists."]}


async def test_patch_codes_and_flags(app, admin_client, client):
    staff = await create_staff(app, 4242)
    response = await admin_client.patch(
        f"/api/users/{staff.user_id}", json={"permissions": [4243], "is_active": False}
    )
    assert response.status_code == 200
    assert response.json()["permissions"] == [4243]
    assert (await client.get("/api/auth/me", headers=staff.headers)).status_code == 401


async def test_password_reset_revokes_the_users_tokens(app, admin_client, client):
    target = await create_caller(app)
    response = await admin_client.patch(
        f"/api/users/{target.user_id}", json={"password": "brand new secret"}
    )
    assert response.status_code == 200
    assert (await client.get("/api/auth/me", headers=target.headers)).status_code == 401


async def test_put_requires_username_and_keeps_the_password(app, admin_client):
    target = await create_user(app)
    missing = await admin_client.put(f"/api/users/{target.id}", json={"email": "a@b.example"})
    assert missing.json() == {"username": ["This field is required."]}
    replaced = await admin_client.put(
        f"/api/users/{target.id}", json={"username": "renamed", "is_staff": True}
    )
    assert replaced.status_code == 200
    assert replaced.json()["is_staff"] is True
    login = await admin_client.post(
        "/api/auth/token/", json={"username": "renamed", "password": "correct horse battery"}
    )
    assert login.status_code == 200


async def test_list_search_and_filter(app, admin_client):
    await create_user(app, username="alice", email="alice@example.com", is_staff=True)
    await create_user(app, username="bob", email="bob@example.com")
    found = (await admin_client.get("/api/users/", params={"search": "alice"})).json()
    assert [user["username"] for user in found["results"]] == ["alice"]
    staff = (await admin_client.get("/api/users/", params={"is_staff": "true"})).json()
    assert "bob" not in [user["username"] for user in staff["results"]]


async def test_delete_user_takes_their_tokens(app, admin_client, client):
    target = await create_caller(app)
    assert (await admin_client.delete(f"/api/users/{target.user_id}")).status_code == 204
    assert (await admin_client.get(f"/api/users/{target.user_id}")).status_code == 404
    assert (await client.get("/api/auth/me", headers=target.headers)).status_code == 401


async def test_issue_a_non_expiring_token_shown_once(app, admin_client, client):
    target = await create_user(app)
    issued = await admin_client.post(
        f"/api/users/{target.id}/tokens/", json={"name": "ci", "expires_days": None}
    )
    assert issued.status_code == 201
    body = issued.json()
    assert body["expires_at"] is None
    assert body["name"] == "ci"
    me = await client.get("/api/auth/me", headers={"Authorization": f"Token {body['key']}"})
    assert me.json()["username"] == target.username
    listed = (await admin_client.get(f"/api/users/{target.id}/tokens/")).json()
    assert listed["count"] == 1
    assert "key" not in listed["results"][0]


async def test_issue_token_with_default_expiry_and_revoke_it(app, admin_client, client):
    target = await create_user(app)
    body = (await admin_client.post(f"/api/users/{target.id}/tokens")).json()
    assert body["expires_at"] is not None
    revoked = await admin_client.delete(f"/api/users/{target.id}/tokens/{body['id']}")
    assert revoked.status_code == 204
    me = await client.get("/api/auth/me", headers={"Authorization": f"Token {body['key']}"})
    assert me.status_code == 401


async def test_token_of_another_user_is_not_found(app, admin_client):
    owner = await create_caller(app)
    other = await create_user(app)
    response = await admin_client.delete(f"/api/users/{other.id}/tokens/{owner.token_id}")
    assert response.status_code == 404
