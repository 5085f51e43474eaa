"""The last active superuser can be neither demoted, nor deactivated, nor deleted (issue 24)."""

import pytest

from tests.factories import create_superuser, create_user

DEMOTED = {"is_superuser": ["The last active superuser cannot lose this status."]}
DEACTIVATED = {"is_active": ["The last active superuser cannot be deactivated."]}
DELETED = {"detail": "The last active superuser cannot be deleted."}


@pytest.mark.parametrize(
    ("method", "body", "errors"),
    [
        ("patch", {"is_superuser": False}, DEMOTED),
        ("patch", {"is_active": False}, DEACTIVATED),
        ("patch", {"is_superuser": False, "is_active": False}, {**DEMOTED, **DEACTIVATED}),
        ("patch", {"is_active": False, "email": "still@example.com"}, DEACTIVATED),
        ("put", {"username": "{username}", "is_superuser": False}, DEMOTED),
        ("put", {"username": "{username}", "is_superuser": True, "is_active": False}, DEACTIVATED),
    ],
)
async def test_the_last_superuser_keeps_the_status(admin, admin_client, method, body, errors):
    body = {field: value.format(username=admin.username) if isinstance(value, str) else value
            for field, value in body.items()}  # fmt: skip
    item = f"/api/users/{admin.user_id}"
    response = await admin_client.request(method, item, json=body)
    assert response.status_code == 400
    assert response.json() == errors
    stored = (await admin_client.get(item)).json()
    assert (stored["is_superuser"], stored["is_active"], stored["email"]) == (True, True, "")


async def test_the_last_superuser_cannot_be_deleted_but_may_be_edited(admin, admin_client):
    item = f"/api/users/{admin.user_id}"
    response = await admin_client.delete(item)
    assert response.status_code == 400
    assert response.json() == DELETED
    # An SPA may send back the object it read: the status is kept, so nothing is refused.
    read = (await admin_client.get(item)).json()
    sent = {field: read[field] for field in ("username", "email", "is_active", "is_superuser")}
    assert (await admin_client.patch(item, json=sent)).status_code == 200
    assert (await admin_client.put(item, json=sent)).status_code == 200


@pytest.mark.parametrize(
    ("method", "body", "errors"),
    [
        ("patch", {"is_superuser": False}, DEMOTED),
        ("patch", {"is_active": False}, DEACTIVATED),
        ("delete", None, DELETED),
    ],
)
async def test_of_two_superusers_one_may_go_then_not_the_other(
    app, admin, admin_client, method, body, errors
):
    other = await create_superuser(app)
    going = await admin_client.request(method, f"/api/users/{other.user_id}", json=body)
    assert going.status_code in (200, 204), going.text
    staying = await admin_client.request(method, f"/api/users/{admin.user_id}", json=body)
    assert staying.status_code == 400
    assert staying.json() == errors


async def test_only_active_superusers_count(app, admin, admin_client):
    inactive = await create_user(app, is_staff=True, is_superuser=True, is_active=False)
    demoted = await admin_client.patch(f"/api/users/{admin.user_id}", json={"is_superuser": False})
    assert demoted.status_code == 400
    assert demoted.json() == DEMOTED
    # An inactive superuser is not the last active one: it may be demoted or deleted.
    item = f"/api/users/{inactive.id}"
    assert (await admin_client.patch(item, json={"is_superuser": False})).status_code == 200
    assert (await admin_client.delete(item)).status_code == 204


def test_openapi_documents_the_400_of_a_delete(app):
    operation = app.openapi()["paths"]["/api/users/{id}"]["delete"]
    assert "400" in operation["responses"]
    assert "last active superuser" in operation["description"]
