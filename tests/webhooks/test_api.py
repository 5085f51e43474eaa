"""`/api/webhooks/`: endpoints, their secrets, deliveries, retries and pings."""

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.auth.permissions import Permission
from app.main import create_app
from app.models import Event, WebhookDelivery, WebhookEndpoint
from app.settings import Settings
from app.webhooks import addresses
from app.webhooks.read_model import DeliveryOut, WebhookOut, delivery_payload, webhook_payload
from tests.conftest import make_client, rolled_back, started
from tests.factories import create_staff, create_webhook, create_webhook_delivery

MISSING = 2**62
FIELDS = ["id", "url", "events", "is_active", "description", "created_at", "updated_at"]
DELIVERY_FIELDS = [
    "id", "event_id", "type", "status", "attempts", "last_status_code", "last_error",
    "next_attempt_at", "created_at",
]  # fmt: skip
HOOK = "https://example.com/hooks/portfolio"


async def add_webhook(client, **fields):
    response = await client.post("/api/webhooks/", json={"url": HOOK, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def stored(db_connection, model, object_id):
    table = model.__table__
    return (await db_connection.execute(select(table).where(table.c.id == object_id))).one()


async def event_count(db_connection):
    return (await db_connection.execute(select(func.count()).select_from(Event))).scalar_one()


def assert_secret(secret):
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24


# Endpoints


async def test_create_answers_the_object_and_its_secret_once(admin_client, db_connection):
    created = await add_webhook(admin_client, description="Site cache")
    assert list(created) == [*FIELDS, "secret"]
    assert created["url"] == HOOK
    assert created["events"] == ["*"]
    assert created["is_active"] is True
    assert created["description"] == "Site cache"
    assert created["created_at"].endswith("Z")
    assert_secret(created["secret"])
    assert (await stored(db_connection, WebhookEndpoint, created["id"])).secret == created["secret"]

    path = f"/api/webhooks/{created['id']}"
    answers = [
        await admin_client.get(path),
        await admin_client.patch(path, json={"description": "x"}),
        await admin_client.put(path, json={"url": HOOK}),
        await admin_client.get("/api/webhooks/"),
    ]
    for response in answers:
        assert response.status_code == 200
        assert "secret" not in response.text
        assert created["secret"] not in response.text
    assert list(answers[0].json()) == FIELDS


async def test_each_endpoint_gets_its_own_secret(admin_client):
    first, second = await add_webhook(admin_client), await add_webhook(admin_client)
    assert first["secret"] != second["secret"]


async def test_crud(admin_client):
    created = await add_webhook(
        admin_client, events=["portfolio.*", "link.created"], is_active=False
    )
    path = f"/api/webhooks/{created['id']}"
    fetched = (await admin_client.get(path)).json()
    assert fetched == {key: created[key] for key in FIELDS}

    patched = await admin_client.patch(path, json={"description": "Build hook"})
    assert patched.status_code == 200
    body = patched.json()
    assert body["description"] == "Build hook"
    assert body["events"] == ["portfolio.*", "link.created"]
    assert body["is_active"] is False
    assert body["updated_at"] > created["updated_at"]

    response = await admin_client.delete(path)
    assert response.status_code == 204
    assert response.content == b""
    assert (await admin_client.get(path)).status_code == 404
    assert (await admin_client.delete(path)).status_code == 404


async def test_put_requires_url_and_keeps_absent_fields(admin_client):
    created = await add_webhook(admin_client, events=["tag.*"], description="kept")
    path = f"/api/webhooks/{created['id']}"
    missing = await admin_client.put(path, json={"events": ["*"]})
    assert missing.status_code == 400
    assert missing.json() == {"url": ["This field is required."]}

    replaced = await admin_client.put(path, json={"url": "http://example.org/in"})
    assert replaced.status_code == 200
    body = replaced.json()
    assert body["url"] == "http://example.org/in"
    assert (body["events"], body["description"], body["is_active"]) == (["tag.*"], "kept", True)


async def test_list_is_a_drf_page_ordered_by_id(admin_client):
    ids = [(await add_webhook(admin_client))["id"] for _ in range(3)]
    page = (await admin_client.get("/api/webhooks/", params={"limit": 2})).json()
    assert list(page) == ["count", "next", "previous", "results"]
    assert page["count"] == 3
    assert [item["id"] for item in page["results"]] == ids[:2]
    assert page["next"] == "http://testserver/api/webhooks/?limit=2&offset=2"
    assert page["previous"] is None
    last = (await admin_client.get("/api/webhooks", params={"limit": 2, "offset": 2})).json()
    assert [item["id"] for item in last["results"]] == ids[2:]
    assert last["previous"] == "http://testserver/api/webhooks?limit=2"
    assert list(last["results"][0]) == FIELDS


async def test_missing_endpoint_is_404_on_every_route(admin_client):
    for method, path, body in [
        ("GET", f"/api/webhooks/{MISSING}", None),
        ("PATCH", f"/api/webhooks/{MISSING}", {"description": "x"}),
        ("PUT", f"/api/webhooks/{MISSING}", {"url": HOOK}),
        ("DELETE", f"/api/webhooks/{MISSING}", None),
        ("POST", f"/api/webhooks/{MISSING}/rotate-secret", None),
        ("GET", f"/api/webhooks/{MISSING}/deliveries/", None),
        ("POST", f"/api/webhooks/{MISSING}/deliveries/1/retry", None),
        ("POST", f"/api/webhooks/{MISSING}/ping", None),
        ("GET", "/api/webhooks/abc", None),
    ]:
        response = await admin_client.request(method, path, json=body)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "Not found."}


# Validation


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        (["*"], ["*"]),
        (["portfolio.*", "media.variants_ready"], ["portfolio.*", "media.variants_ready"]),
        (["import.*", "webhook.*"], ["import.*", "webhook.*"]),
        (["import.completed", "webhook.ping", "meta.purged"], None),
        (["link.created", "tag.*", "link.created", "tag.*"], ["link.created", "tag.*"]),
        ([" employer.updated "], ["employer.updated"]),
    ],
)
async def test_events_accepted(admin_client, events, expected):
    created = await add_webhook(admin_client, events=events)
    assert created["events"] == (expected or events)


@pytest.mark.parametrize(
    ("events", "messages"),
    [
        (["x"], ['Unknown event type "x".']),
        (["portfolio"], ['Unknown event type "portfolio".']),
        (["portfolio.*", "user.*"], ['Unknown event type "user.*".']),
        (["Portfolio.created"], ['Unknown event type "Portfolio.created".']),
        (["portfolio.created.x"], ['Unknown event type "portfolio.created.x".']),
        (["**"], ['Unknown event type "**".']),
        (["x", "y"], ['Unknown event type "x".', 'Unknown event type "y".']),
        ([], ["This list may not be empty."]),
        ("portfolio.*", ['Expected a list of items but got type "str".']),
        ([1], ["Not a valid string."]),
        (None, ["This field may not be null."]),
    ],
)
async def test_events_refused(admin_client, db_connection, events, messages):
    before = await event_count(db_connection)
    response = await admin_client.post("/api/webhooks/", json={"url": HOOK, "events": events})
    assert response.status_code == 400
    assert response.json() == {"events": messages}
    assert await event_count(db_connection) == before


async def test_patch_validates_events_too(admin_client):
    created = await add_webhook(admin_client)
    path = f"/api/webhooks/{created['id']}"
    response = await admin_client.patch(path, json={"events": ["nope"]})
    assert response.json() == {"events": ['Unknown event type "nope".']}
    response = await admin_client.patch(path, json={"events": ["media.*", "media.*"]})
    assert response.json()["events"] == ["media.*"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hook", "Enter a valid URL."),
        ("example.com/hook", "Enter a valid URL."),
        ("not a url", "Enter a valid URL."),
        ("http://", "Enter a valid URL."),
        ("https:///path", "Enter a valid URL."),
        ("http://exa mple.com/", "Enter a valid URL."),
        ("http://example.com:99999/", "Enter a valid URL."),
        ("http://example.com:0/", "Enter a valid URL."),
        ("http://[::1/", "Enter a valid URL."),
        ("javascript:alert(1)", "Enter a valid URL."),
        ("http://10.0.0.1\\@example.com/", "Enter a valid URL."),
        ("http://exa%6dple.com/", "Enter a valid URL."),
        ("http://[v1.fe]/", "Enter a valid URL."),
        ("http://example..com/", "Enter a valid URL."),
        ("", "This field may not be blank."),
        (None, "This field may not be null."),
        (
            "https://example.com/" + "a" * 1981,
            "Ensure this field has no more than 2000 characters.",
        ),
    ],
)
async def test_url_refused(admin_client, db_connection, url, message):
    before = await event_count(db_connection)
    response = await admin_client.post("/api/webhooks/", json={"url": url})
    assert response.status_code == 400
    assert response.json() == {"url": [message]}
    assert await event_count(db_connection) == before


async def test_url_accepted_forms(admin_client):
    longest = "https://example.com/" + "a" * 1980
    for url in (
        "http://example.com",
        "HTTPS://Example.com:8443/hooks?x=1",
        "http://receiver:8080/in",
        "http://[2001:db8::1]/in",
        "http://user:pass@example.com./in",
        "https://نمونه.ایران/وب‌هوک",
        longest,
    ):
        assert (await add_webhook(admin_client, url=url))["url"] == url


async def test_url_is_required_and_other_fields_typed(admin_client):
    response = await admin_client.post(
        "/api/webhooks/", json={"is_active": "yes", "description": None}
    )
    assert response.status_code == 400
    assert response.json() == {
        "url": ["This field is required."],
        "is_active": ["Must be a valid boolean."],
        "description": ["This field may not be null."],
    }


# Where a URL may point: outside production anywhere, else public addresses only


async def test_outside_production_private_addresses_are_allowed(admin_client):
    for url in ("http://127.0.0.1:8000/hook", "http://localhost/", "http://10.0.0.1/"):
        assert (await add_webhook(admin_client, url=url))["url"] == url


@pytest.fixture(scope="module")
async def guarded_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application as production runs it: private addresses refused."""
    guarded = settings.model_copy(update={"webhook_allow_private": False})
    assert not guarded.webhooks_reach_private_addresses
    async for running in started(create_app(guarded)):
        yield running


@pytest.fixture
async def guarded(guarded_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    from tests.factories import create_superuser

    async with rolled_back(guarded_app), make_client(guarded_app) as http:
        http.headers.update((await create_superuser(guarded_app)).headers)
        yield http


PRIVATE_URLS = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://10.0.0.1/",
    "http://192.168.1.20:8080/hook",
    "http://169.254.169.254/latest",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
    "http://0.0.0.0/",
    "http://100.64.0.1/",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
async def test_private_addresses_are_refused_in_production(guarded, url):
    response = await guarded.post("/api/webhooks/", json={"url": url})
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["url"]
    [message] = body["url"]
    assert "which webhooks may not reach" in message


async def test_the_refusal_says_what_the_guard_says(guarded):
    response = await guarded.post("/api/webhooks/", json={"url": "http://169.254.169.254/latest"})
    with pytest.raises(addresses.AddressRefused) as refused:
        await addresses.resolve("169.254.169.254", 80, allow_private=False)
    assert response.json() == {"url": [str(refused.value)]}


async def test_public_addresses_are_accepted_in_production(guarded):
    created = (await guarded.post("/api/webhooks/", json={"url": "https://93.184.215.14/"})).json()
    assert created["url"] == "https://93.184.215.14/"
    path = f"/api/webhooks/{created['id']}"
    refused = await guarded.patch(path, json={"url": "http://[::1]:8080/"})
    assert refused.status_code == 400
    assert list(refused.json()) == ["url"]
    refused = await guarded.put(path, json={"url": "http://10.1.2.3/"})
    assert refused.status_code == 400
    missing = await guarded.patch(f"/api/webhooks/{MISSING}", json={"url": "http://10.1.2.3/"})
    assert missing.status_code == 404  # looked for before the URL is looked up
    # Fields other than the URL are saved without a lookup.
    patched = await guarded.patch(path, json={"description": "ok"})
    assert patched.status_code == 200
    assert (await guarded.get(path)).json()["url"] == "https://93.184.215.14/"


async def test_the_port_defaults_to_the_schemes(guarded, monkeypatch):
    asked = []

    async def resolve(host, port, *, allow_private):
        asked.append((host, port, allow_private))
        return ["93.184.215.14"]

    monkeypatch.setattr(addresses, "resolve", resolve)
    for url in (
        "http://hooks.example.com/",
        "https://hooks.example.com/",
        "https://[2001:db8::1]:8443/",
    ):
        assert (await guarded.post("/api/webhooks/", json={"url": url})).status_code == 201
    assert asked == [
        ("hooks.example.com", 80, False),
        ("hooks.example.com", 443, False),
        ("2001:db8::1", 8443, False),
    ]


def test_webhook_allow_private_lets_production_reach_them(settings):
    allowed = settings.model_copy(
        update={"environment": "production", "webhook_allow_private": True}
    )
    assert allowed.webhooks_reach_private_addresses
    assert not settings.model_copy(
        update={"environment": "production"}
    ).webhooks_reach_private_addresses


# Secrets


async def test_rotate_secret_keeps_the_previous_one_for_the_overlap(
    app, admin_client, db_connection
):
    created = await add_webhook(admin_client)
    path = f"/api/webhooks/{created['id']}/rotate-secret"
    overlap = timedelta(seconds=app.state.settings.webhook_secret_overlap)

    before = datetime.now(UTC)
    response = await admin_client.post(path)
    after = datetime.now(UTC)
    assert response.status_code == 200
    assert list(response.json()) == ["secret"]
    first = response.json()["secret"]
    assert_secret(first)
    assert first != created["secret"]
    row = await stored(db_connection, WebhookEndpoint, created["id"])
    assert (row.secret, row.previous_secret) == (first, created["secret"])
    expires_at = row.previous_secret_expires_at.replace(tzinfo=UTC)
    assert before + overlap <= expires_at <= after + overlap

    second = (await admin_client.post(path + "/")).json()["secret"]
    row = await stored(db_connection, WebhookEndpoint, created["id"])
    assert (row.secret, row.previous_secret) == (second, first)  # the oldest is dropped
    assert second not in (await admin_client.get(f"/api/webhooks/{created['id']}")).text


# Deliveries


@pytest.fixture
async def endpoint(app, db_connection):
    return await create_webhook(app)


@pytest.fixture
async def other_endpoint(app, db_connection):
    return await create_webhook(app, url="https://other.example.com/")


async def test_deliveries_newest_first_paged_and_filtered(
    app, admin_client, endpoint, other_endpoint
):
    failed = await create_webhook_delivery(
        app, endpoint.id, status="failed", attempts=7, last_status_code=500, last_error="HTTP 500"
    )
    succeeded = await create_webhook_delivery(
        app, endpoint.id, status="succeeded", attempts=1, last_status_code=204, type="tag.updated"
    )
    pending = await create_webhook_delivery(app, endpoint.id)
    await create_webhook_delivery(app, other_endpoint.id)
    path = f"/api/webhooks/{endpoint.id}/deliveries/"

    page = (await admin_client.get(path, params={"limit": 2})).json()
    assert page["count"] == 3
    assert [item["id"] for item in page["results"]] == [pending.id, succeeded.id]
    assert page["next"] == f"http://testserver{path}?limit=2&offset=2"
    rest = (await admin_client.get(path, params={"limit": 2, "offset": 2})).json()
    assert [item["id"] for item in rest["results"]] == [failed.id]

    newest = page["results"][0]
    assert list(newest) == DELIVERY_FIELDS
    assert newest["status"] == "pending"
    assert newest["next_attempt_at"].endswith("Z")
    assert newest["event_id"] == pending.event_id
    assert rest["results"][0] == {
        "id": failed.id,
        "event_id": failed.event_id,
        "type": "portfolio.created",
        "status": "failed",
        "attempts": 7,
        "last_status_code": 500,
        "last_error": "HTTP 500",
        "next_attempt_at": None,
        "created_at": rest["results"][0]["created_at"],
    }

    for status, expected in [("failed", [failed.id]), ("succeeded", [succeeded.id]), ("", None)]:
        response = await admin_client.get(path, params={"status": status})
        ids = [item["id"] for item in response.json()["results"]]
        assert ids == (expected or [pending.id, succeeded.id, failed.id])
    bad = await admin_client.get(path, params={"status": "done"})
    assert bad.status_code == 400
    assert list(bad.json()) == ["status"]


async def test_an_endpoint_without_deliveries_has_an_empty_page(admin_client, endpoint):
    page = (await admin_client.get(f"/api/webhooks/{endpoint.id}/deliveries")).json()
    assert page == {"count": 0, "next": None, "previous": None, "results": []}
    far = await admin_client.get(f"/api/webhooks/{endpoint.id}/deliveries/?offset=50")
    assert far.json()["count"] == 0


async def test_retry_makes_the_delivery_due_now(app, admin_client, db_connection, endpoint):
    failed = await create_webhook_delivery(
        app, endpoint.id, status="failed", attempts=7, last_error="timed out"
    )
    before = datetime.now(UTC)
    response = await admin_client.post(f"/api/webhooks/{endpoint.id}/deliveries/{failed.id}/retry")
    assert response.status_code == 202
    body = response.json()
    assert list(body) == DELIVERY_FIELDS
    assert (body["id"], body["status"], body["attempts"]) == (failed.id, "pending", 7)
    row = await stored(db_connection, WebhookDelivery, failed.id)
    assert row.status == "pending"
    assert row.next_attempt_at.replace(tzinfo=UTC) >= before
    assert row.updated_at.replace(tzinfo=UTC) >= before
    assert body["next_attempt_at"] is not None


async def test_retry_of_another_endpoints_delivery_is_404(
    app, admin_client, db_connection, endpoint, other_endpoint
):
    theirs = await create_webhook_delivery(app, other_endpoint.id, status="failed")
    for path in (
        f"/api/webhooks/{endpoint.id}/deliveries/{theirs.id}/retry",
        f"/api/webhooks/{endpoint.id}/deliveries/{MISSING}/retry",
        f"/api/webhooks/{MISSING}/deliveries/{theirs.id}/retry",
    ):
        response = await admin_client.post(path)
        assert response.status_code == 404, path
    assert (await stored(db_connection, WebhookDelivery, theirs.id)).status == "failed"


async def test_ping_records_an_event_and_a_pending_delivery(admin_client, db_connection, endpoint):
    before = await event_count(db_connection)
    response = await admin_client.post(f"/api/webhooks/{endpoint.id}/ping")
    assert response.status_code == 202
    body = response.json()
    assert list(body) == DELIVERY_FIELDS
    assert body["type"] == "webhook.ping"
    assert (body["status"], body["attempts"], body["last_status_code"]) == ("pending", 0, None)
    assert body["next_attempt_at"].endswith("Z")
    assert await event_count(db_connection) == before + 1

    event = (
        await db_connection.execute(
            select(Event.__table__).where(Event.__table__.c.id == body["event_id"])
        )
    ).one()
    assert (event.type, event.endpoint_id, event.dispatched) == (
        "webhook.ping",
        endpoint.id,
        True,
    )
    assert json.loads(event.body)["data"] == {"webhook_id": endpoint.id}
    delivery = await stored(db_connection, WebhookDelivery, body["id"])
    assert (delivery.endpoint_id, delivery.event_seq, delivery.event_id) == (
        endpoint.id,
        event.seq,
        event.id,
    )
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert delivery.next_attempt_at is not None
    listed = (await admin_client.get(f"/api/webhooks/{endpoint.id}/deliveries/")).json()
    assert listed["results"] == [body]


async def test_failed_requests_record_no_event(admin_client, db_connection):
    before = await event_count(db_connection)
    assert (await admin_client.post("/api/webhooks/", json={"url": "ftp://x"})).status_code == 400
    assert (await admin_client.post(f"/api/webhooks/{MISSING}/ping")).status_code == 404
    assert (
        await admin_client.post(
            "/api/webhooks/", content=b"{", headers={"content-type": "application/json"}
        )
    ).status_code == 400
    assert await event_count(db_connection) == before


async def test_delete_takes_the_deliveries_and_pings_along(
    app, admin_client, db_connection, endpoint
):
    delivery = await create_webhook_delivery(app, endpoint.id)
    ping = (await admin_client.post(f"/api/webhooks/{endpoint.id}/ping")).json()
    assert (await admin_client.delete(f"/api/webhooks/{endpoint.id}")).status_code == 204
    table = WebhookDelivery.__table__
    remaining = select(func.count()).where(table.c.id.in_([delivery.id, ping["id"]]))
    assert (await db_connection.execute(remaining)).scalar_one() == 0
    events = select(func.count()).where(Event.__table__.c.id == ping["event_id"])
    assert (await db_connection.execute(events)).scalar_one() == 0


# Access


async def test_each_route_needs_its_code(app, client, endpoint):
    delivery = await create_webhook_delivery(app, endpoint.id, status="failed")
    item = f"/api/webhooks/{endpoint.id}"
    routes = [
        ("GET", "/api/webhooks/", None, Permission.WEBHOOK_VIEW, 200),
        ("POST", "/api/webhooks/", {"url": HOOK}, Permission.WEBHOOK_CREATE, 201),
        ("GET", item, None, Permission.WEBHOOK_VIEW, 200),
        ("PATCH", item, {"description": "x"}, Permission.WEBHOOK_UPDATE, 200),
        ("PUT", item, {"url": HOOK}, Permission.WEBHOOK_UPDATE, 200),
        ("POST", f"{item}/rotate-secret", None, Permission.WEBHOOK_UPDATE, 200),
        ("GET", f"{item}/deliveries/", None, Permission.WEBHOOK_VIEW, 200),
        (
            "POST",
            f"{item}/deliveries/{delivery.id}/retry",
            None,
            Permission.WEBHOOK_UPDATE,
            202,
        ),
        ("POST", f"{item}/ping", None, Permission.WEBHOOK_UPDATE, 202),
        ("DELETE", item, None, Permission.WEBHOOK_DELETE, 204),
    ]
    nobody = await create_staff(app)
    every_other = {
        code: await create_staff(app, *(c.value for c in Permission if c is not code))
        for code in {route[3] for route in routes}
    }
    for method, path, body, code, status in routes:
        assert (await client.request(method, path, json=body)).status_code == 401
        for caller in (nobody, every_other[code]):
            response = await client.request(method, path, json=body, headers=caller.headers)
            assert response.status_code == 403, (method, path)
        holder = await create_staff(app, code.value)
        response = await client.request(method, path, json=body, headers=holder.headers)
        assert response.status_code == status, (method, path, response.text)


def test_codes_and_labels():
    assert [p.value for p in Permission if p.name.startswith("WEBHOOK_")] == [
        4501,
        4502,
        4503,
        4504,
    ]
    assert Permission.WEBHOOK_CREATE.label == "webhook: create"
    assert Permission.WEBHOOK_DELETE.label == "webhook: delete"


# Read model and OpenAPI


async def test_builders_match_the_documented_models(app, admin_client, endpoint):
    created = await create_webhook_delivery(app, endpoint.id, status="failed", last_error="x")
    for payload in (webhook_payload(endpoint),):
        assert list(payload) == FIELDS
        assert WebhookOut.model_validate(payload).model_dump(mode="json") == payload
    payload = delivery_payload(created)
    assert list(payload) == DELIVERY_FIELDS
    assert DeliveryOut.model_validate(payload).model_dump(mode="json") == payload
    answered = (await admin_client.get(f"/api/webhooks/{endpoint.id}")).json()
    assert answered == webhook_payload(endpoint)
    assert "secret" not in webhook_payload(endpoint)


def test_openapi_documents_the_routes(app):
    paths = app.openapi()["paths"]
    expected = {
        ("/api/webhooks/", "get"): ("list_webhooks", {"200", "400", "401", "403", "503"}),
        ("/api/webhooks/", "post"): (
            "create_webhook",
            {"201", "400", "401", "403", "413", "415", "503"},
        ),
        ("/api/webhooks/{id}", "get"): ("get_webhook", {"200", "401", "403", "404", "503"}),
        ("/api/webhooks/{id}", "patch"): (
            "update_webhook",
            {"200", "400", "401", "403", "404", "413", "415", "503"},
        ),
        ("/api/webhooks/{id}", "put"): (
            "replace_webhook",
            {"200", "400", "401", "403", "404", "413", "415", "503"},
        ),
        ("/api/webhooks/{id}", "delete"): (
            "delete_webhook",
            {"204", "401", "403", "404", "503"},
        ),
        ("/api/webhooks/{id}/rotate-secret", "post"): (
            "rotate_webhook_secret",
            {"200", "401", "403", "404", "503"},
        ),
        ("/api/webhooks/{webhook_id}/deliveries/", "get"): (
            "list_webhook_deliveries",
            {"200", "400", "401", "403", "404", "503"},
        ),
        ("/api/webhooks/{webhook_id}/deliveries/{id}/retry", "post"): (
            "retry_webhook_delivery",
            {"202", "401", "403", "404", "503"},
        ),
        ("/api/webhooks/{id}/ping", "post"): (
            "ping_webhook",
            {"202", "401", "403", "404", "503"},
        ),
    }
    for (path, method), (operation_id, statuses) in expected.items():
        operation = paths[path][method]
        assert operation["operationId"] == operation_id
        assert set(operation["responses"]) == statuses, (path, method)
    created = paths["/api/webhooks/"]["post"]["responses"]["201"]
    assert "secret" in json.dumps(app.openapi()["components"]["schemas"]["WebhookCreatedOut"])
    assert "ping_webhook" in created["links"]
    events = app.openapi()["components"]["schemas"]["WebhookIn"]["properties"]["events"]
    assert "portfolio.*" in events["items"]["enum"]
    assert "webhook.ping" in events["items"]["enum"]


async def test_turning_a_deactivated_endpoint_on_again_starts_its_failure_clock_afresh(
    app, admin_client, db_connection
):
    hook = await create_webhook(
        app, is_active=False, failing_since=datetime.now(UTC) - timedelta(days=6)
    )
    response = await admin_client.patch(f"/api/webhooks/{hook.id}", json={"is_active": True})
    assert response.status_code == 200
    row = await stored(db_connection, WebhookEndpoint, hook.id)
    assert row.is_active is True
    assert row.failing_since is None  # else its next failure would deactivate it at once
