"""Request ids, access log lines, CORS, streamed body limits and allowed hosts."""

import json
import logging
import re

import pytest

from app.common.logs import JsonFormatter
from app.common.middleware import AllowedHostsMiddleware, ProxyHeadersMiddleware
from app.common.routing import TrailingSlashMiddleware
from app.main import create_app
from app.settings import Settings
from tests.common.notes import router as notes_router
from tests.conftest import make_client, rolled_back, started


async def test_incoming_request_id_is_echoed(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


async def test_request_id_is_generated_when_absent_or_unsafe(client):
    generated = await client.get("/healthz")
    unsafe = await client.get("/healthz", headers={"X-Request-ID": "x" * 500})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["X-Request-ID"])
    assert re.fullmatch(r"[0-9a-f]{32}", unsafe.headers["X-Request-ID"])


async def test_error_responses_carry_the_request_id_too(client):
    response = await client.get("/no/such/route", headers={"X-Request-ID": "trace-me"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "trace-me"


async def test_one_structured_access_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="app.access"):
        await client.get("/healthz?probe=1", headers={"X-Request-ID": "log-me"})
    formatter = JsonFormatter()  # the line as stdout shows it
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "app.access"]
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert line["request_id"] == "log-me"
    assert isinstance(line["duration_ms"], float)
    assert line["client"] == "127.0.0.1"
    assert line["message"] == f"GET /healthz 200 {line['duration_ms']:.2f}ms"


async def test_cors_lets_a_page_read_every_header_a_client_acts_on(client):
    """Retry-After on a 429, Allow on a 405, WWW-Authenticate on a 401, ETag: a page on another
    origin sees them only when they are exposed (fetch() shows null otherwise)."""
    origin = {"Origin": "http://spa.example"}
    unauthenticated = await client.get("/api/portfolios/", headers=origin)
    wrong_method = await client.put("/api/portfolios/", headers=origin)
    for response in (unauthenticated, wrong_method):
        exposed = response.headers["access-control-expose-headers"].split(", ")
        assert {"X-Request-ID", "ETag", "Retry-After", "Allow", "WWW-Authenticate"} <= set(exposed)
    assert unauthenticated.headers["www-authenticate"] == "Token"
    assert wrong_method.headers["allow"]


async def test_cors_allows_configured_origins_only(client):
    allowed = await client.options(
        "/healthz",
        headers={"Origin": "http://spa.example", "Access-Control-Request-Method": "GET"},
    )
    refused = await client.options(
        "/healthz",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert allowed.headers["access-control-allow-origin"] == "http://spa.example"
    assert "access-control-allow-origin" not in refused.headers


async def test_streamed_body_over_the_limit_is_refused_while_reading(notes, notes_app):
    limit = notes_app.state.settings.json_body_max_bytes

    async def chunks():
        yield b'{"title": "'
        for _ in range(limit // 1024 + 2):
            yield b"y" * 1024
        yield b'"}'

    response = await notes.post(
        "/test/notes/", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert set(response.json()) == {"detail"}


# Allowed hosts: ALLOWED_HOSTS, or in production PUBLIC_BASE_URL's host.

ALLOWED = ["api.example", "admin.example:8443", ".example.org", "[::1]"]
INVALID_HOST = {"detail": "Invalid host header."}


@pytest.fixture
async def guarded_app(notes_app, settings):
    """The notes app with ALLOWED_HOSTS set (its table was created by `notes_app`)."""
    app = create_app(settings.model_copy(update={"allowed_hosts": ALLOWED}))
    app.include_router(notes_router)
    async for running in started(app):
        async with rolled_back(running):
            yield running


@pytest.fixture
async def guarded(guarded_app):
    async with make_client(guarded_app) as http:
        yield http


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("api.example", True),
        ("API.Example:8000", True),  # a host listed without a port: any port
        ("admin.example:8443", True),
        ("admin.example", False),  # listed with a port: that port only
        ("admin.example:9000", False),
        ("example.org", True),
        ("www.a.example.org:81", True),
        ("badexample.org", False),
        ("[::1]", True),
        ("[::1]:8000", True),
        ("[::2]", False),
        ("evil.example", False),
        ("api.example.evil.example", False),
        ("", False),
        ("api.example:", False),
        ("api.example:\uff18\uff10", False),  # full-width digits
        ("api.example:1@evil.example", False),  # links would point at evil.example
        ("evil.example/x.example.org", False),
        ("evil.example#.example.org", False),
    ],
)
def test_allowed_hosts_match_host_port_and_subdomains(host, allowed):
    assert AllowedHostsMiddleware(app=None, allowed=ALLOWED).allows(host) is allowed


async def test_a_host_not_allowed_is_refused_with_400_before_routing(guarded):
    for path in ("/test/notes/", "/no/such/route"):
        response = await guarded.get(
            path, headers={"Host": "evil.example", "X-Request-ID": "bad-host"}
        )
        assert response.status_code == 400
        assert response.json() == INVALID_HOST
        assert response.headers["content-type"] == "application/json"
        assert response.headers["X-Request-ID"] == "bad-host"


async def test_allowed_hosts_are_answered(guarded):
    for host in ("api.example", "api.example:8000", "admin.example:8443", "www.example.org"):
        response = await guarded.get("/test/notes/", headers={"Host": host})
        assert response.status_code == 200, host
    refused = await guarded.get("/test/notes/", headers={"Host": "admin.example"})
    assert refused.status_code == 400


async def test_probes_answer_any_host(guarded):
    by_address = {"Host": "10.1.2.3:8000"}
    for path in ("/healthz", "/healthz/", "/readyz", "/readyz/"):
        assert (await guarded.get(path, headers=by_address)).status_code == 200, path
    assert (await guarded.get("/metrics", headers=by_address)).status_code == 200
    assert (await guarded.get("/test/notes/", headers=by_address)).status_code == 400


async def test_a_trusted_proxys_forwarded_host_is_the_one_checked(guarded, guarded_app):
    behind_proxy = {"Host": "app:8000"}  # the test client's 127.0.0.1 is a trusted proxy
    forwarded = await guarded.get(
        "/test/notes/", headers={**behind_proxy, "X-Forwarded-Host": "api.example"}
    )
    poisoned = await guarded.get(
        "/test/notes/", headers={"Host": "api.example", "X-Forwarded-Host": "evil.example"}
    )
    assert forwarded.status_code == 200
    assert (poisoned.status_code, poisoned.json()) == (400, INVALID_HOST)
    async with make_client(guarded_app, client=("203.0.113.7", 5000)) as stranger:
        ignored = await stranger.get(
            "/test/notes/", headers={"Host": "api.example", "X-Forwarded-Host": "evil.example"}
        )
        not_trusted = await stranger.get(
            "/test/notes/", headers={**behind_proxy, "X-Forwarded-Host": "api.example"}
        )
    assert ignored.status_code == 200
    assert not_trusted.status_code == 400


async def test_next_links_use_the_allowed_host(guarded):
    for number in range(11):
        created = await guarded.post(
            "/test/notes/", json={"title": f"n{number}"}, headers={"Host": "api.example:8000"}
        )
        assert created.status_code == 201
    direct = await guarded.get("/test/notes/", headers={"Host": "api.example:8000"})
    proxied = await guarded.get(
        "/test/notes/",
        headers={
            "Host": "app:8000",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "www.example.org",
        },
    )
    poisoned = await guarded.get("/test/notes/", headers={"Host": "evil.example"})
    assert direct.json()["next"] == "http://api.example:8000/test/notes/?limit=10&offset=10"
    assert proxied.json()["next"] == "https://www.example.org/test/notes/?limit=10&offset=10"
    assert (poisoned.status_code, poisoned.json()) == (400, INVALID_HOST)


async def test_production_answers_only_the_public_base_urls_host(tmp_path):
    settings = Settings(
        _env_file=None,
        environment="production",
        database_url="postgresql+asyncpg://app@db/portfolio",
        public_base_url="https://api.example.org",
        media_root=tmp_path,
    )
    async with make_client(create_app(settings)) as http:  # no database needed for these
        refused = await http.get("/openapi.json")  # Host: testserver
        answered = await http.get("/openapi.json", headers={"Host": "api.example.org"})
        probe = await http.get("/healthz")
    assert (refused.status_code, refused.json()) == (400, INVALID_HOST)
    assert answered.status_code == 200
    assert probe.status_code == 200


@pytest.mark.parametrize(
    ("allowed_hosts", "checked"), [([], False), (["*"], False), (ALLOWED, True)]
)
def test_the_host_is_checked_after_proxy_headers_only_when_hosts_are_listed(
    settings, allowed_hosts, checked
):
    app = create_app(settings.model_copy(update={"allowed_hosts": allowed_hosts}))
    order = [middleware.cls for middleware in app.user_middleware]  # outermost first
    assert (AllowedHostsMiddleware in order) is checked
    if checked:
        proxies, hosts = order.index(ProxyHeadersMiddleware), order.index(AllowedHostsMiddleware)
        assert proxies < hosts < order.index(TrailingSlashMiddleware)
