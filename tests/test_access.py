"""Every route of the application, walked from its route table, enforces its declared access.

A route added later is covered here with no one remembering: the router refuses to build a
route that declares no access kind, and this test exercises each kind's promises.
"""

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from app.auth.permissions import Permission
from app.common.access import AccessKind
from app.common.routing import DRFRoute, public, walk
from app.main import create_app
from app.settings import Settings
from tests.common.notes import protected_router as protected_notes_router
from tests.common.notes import router as notes_router
from tests.factories import ALL_CODES, create_caller, create_token, create_user

ABSENT_ID = str(2**62)  # a valid id that names nothing, so admitted calls change nothing


def api_routes(routes) -> Iterator[DRFRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)
        elif isinstance(route, DRFRoute) and route.include_in_schema:
            yield route


def application_with_test_routes():
    """The real application plus the test-only notes routes (one of them code-protected)."""
    application = create_app(Settings(_env_file=None))
    application.include_router(notes_router)
    application.include_router(protected_notes_router)
    return application


ROUTES = [
    (method, route)
    for route in api_routes(application_with_test_routes().routes)
    for method in sorted(route.methods)
    if route.name != "explode"  # the test route that fails on purpose
]


def by_kind(*kinds):
    return [
        pytest.param(method, route, id=f"{method} {route.path}")
        for method, route in ROUTES
        if route.access.kind in kinds
    ]


async def call(client, method, route, headers=None):
    path = re.sub(r"\{[^}]+\}", ABSENT_ID, route.canonical_path)
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    return await client.request(method, path, json=body, headers=headers or {})


def admitted(response) -> bool:
    return response.status_code not in (401, 403)


def test_every_route_declares_its_access():
    assert ROUTES
    kinds = {route.access.kind for _, route in ROUTES}
    assert kinds >= {
        AccessKind.PUBLIC,
        AccessKind.ANY_USER,
        AccessKind.STAFF,
        AccessKind.SUPERUSER,
    }


def test_public_routes_without_a_body_solve_no_access_check():
    """`public` only raises a body error deferred until access is granted: routes taking no
    body skip it on every request; those taking one keep it (and still declare public access)."""
    public_routes = [route for _, route in ROUTES if route.access.kind is AccessKind.PUBLIC]
    with_body = [route for route in public_routes if route.body_field is not None]
    without = [route for route in public_routes if route.body_field is None]
    assert with_body  # the login
    assert without  # the probes, the website's API
    for route in with_body:
        assert public in {d.call for d in walk(route.dependant)}, route.path
    for route in without:
        assert public not in {d.call for d in walk(route.dependant)}, route.path


def test_the_route_description_names_the_code():
    for _, route in ROUTES:
        if route.access.kind is AccessKind.PERMISSION:
            assert str(route.access.permission.value) in route.description


@pytest.mark.parametrize(("method", "route"), by_kind(AccessKind.PERMISSION))
async def test_code_protected_route(notes_app, notes, method, route):
    app, client = notes_app, notes
    code = route.access.permission
    assert isinstance(code, Permission)
    assert (await call(client, method, route)).status_code == 401
    assert (await call(client, method, route, {"Authorization": "Token bad"})).status_code == 401

    user = await create_user(app, is_staff=True, permissions=ALL_CODES)
    _, expired = await create_token(app, user.id, expires_in=timedelta(seconds=-1))
    assert (
        await call(client, method, route, {"Authorization": f"Token {expired}"})
    ).status_code == 401
    revoked = await create_caller(app, is_staff=True, permissions=ALL_CODES)
    await client.delete("/api/auth/token/", headers=revoked.headers)
    assert (await call(client, method, route, revoked.headers)).status_code == 401

    not_staff = await create_caller(app, is_staff=False, permissions=ALL_CODES)
    response = await call(client, method, route, not_staff.headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    others = [c for c in ALL_CODES if c != code.value]
    lacking = await create_caller(app, is_staff=True, permissions=others)
    assert (await call(client, method, route, lacking.headers)).status_code == 403

    holder = await create_caller(app, is_staff=True, permissions=[code.value])
    assert admitted(await call(client, method, route, holder.headers))
    admin = await create_caller(app, is_staff=True, is_superuser=True)
    assert admitted(await call(client, method, route, admin.headers))


@pytest.mark.parametrize(("method", "route"), by_kind(AccessKind.SUPERUSER))
async def test_superuser_route(notes_app, notes, method, route):
    app, client = notes_app, notes
    assert (await call(client, method, route)).status_code == 401
    staff = await create_caller(app, is_staff=True, permissions=ALL_CODES)
    assert (await call(client, method, route, staff.headers)).status_code == 403
    admin = await create_caller(app, is_staff=True, is_superuser=True)
    assert admitted(await call(client, method, route, admin.headers))


@pytest.mark.parametrize(("method", "route"), by_kind(AccessKind.STAFF))
async def test_staff_route(notes_app, notes, method, route):
    app, client = notes_app, notes
    assert (await call(client, method, route)).status_code == 401
    assert (await call(client, method, route, {"Authorization": "Token bad"})).status_code == 401
    inactive = await create_caller(app, is_active=False, is_staff=True, permissions=ALL_CODES)
    assert (await call(client, method, route, inactive.headers)).status_code == 401

    not_staff = await create_caller(app, is_staff=False, permissions=ALL_CODES)
    response = await call(client, method, route, not_staff.headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}

    no_codes = await create_caller(app, is_staff=True)
    assert admitted(await call(client, method, route, no_codes.headers))
    admin = await create_caller(app, is_staff=False, is_superuser=True)
    assert admitted(await call(client, method, route, admin.headers))


@pytest.mark.parametrize(("method", "route"), by_kind(AccessKind.ANY_USER))
async def test_any_user_route(notes_app, notes, method, route):
    app, client = notes_app, notes
    assert (await call(client, method, route)).status_code == 401
    inactive = await create_caller(app, is_active=False)
    assert (await call(client, method, route, inactive.headers)).status_code == 401
    plain = await create_caller(app)
    assert admitted(await call(client, method, route, plain.headers))


@pytest.mark.parametrize(("method", "route"), by_kind(AccessKind.PUBLIC))
async def test_public_route(notes, method, route):
    assert admitted(await call(notes, method, route))


def test_openapi_states_each_routes_access(notes_app):
    document = notes_app.openapi()
    for method, route in ROUTES:
        operation = document["paths"][route.canonical_path][method.lower()]
        if route.access.kind is AccessKind.PUBLIC:
            assert operation["security"] == []
        else:
            assert operation["security"] == [{"TokenAuth": []}, {"BearerAuth": []}]
            assert {"401"} <= set(operation["responses"])
        if route.access.kind in (AccessKind.PERMISSION, AccessKind.STAFF, AccessKind.SUPERUSER):
            assert "403" in operation["responses"]
