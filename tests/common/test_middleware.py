"""Request ids, access log lines, CORS and streamed body limits."""

import json
import logging
import re


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
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "app.access"]
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert line["request_id"] == "log-me"
    assert isinstance(line["duration_ms"], float)


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
