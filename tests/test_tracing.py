"""Tracing: off unless the OTEL_* variables ask for it; on, a request's span with its SQL and
storage spans inside, each carrying the request's id."""

import io
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from PIL import Image
from sqlalchemy import Integer, cast, literal, select

from app.common import tracing
from app.common.sql import Prepared
from app.common.tracing_setup import tracer_provider
from app.main import create_app
from app.media.storage.tracing import TracedStorage
from app.models import Portfolio
from app.portfolios.read_model import PLAIN_PAGE_JSON
from app.settings import Settings
from tests.conftest import make_client, rolled_back, started
from tests.factories import create_row, create_superuser

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "portfolio"}, False),  # a name alone sends nothing anywhere
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_on_only_when_the_otel_variables_ask(environ, on):
    assert tracing.enabled(environ) is on


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    """The process traces into memory while the test runs."""
    saved = tracing._Process.configured, tracing._Process.provider, tracing._Process.tracer
    exporter = InMemorySpanExporter()
    provider = tracer_provider([exporter])
    tracing.use_provider(provider)
    try:
        yield exporter
    finally:
        provider.shutdown()
        tracing._Process.configured, tracing._Process.provider, tracing._Process.tracer = saved


@pytest.fixture
async def traced_app(settings: Settings, exported: InMemorySpanExporter) -> AsyncIterator[FastAPI]:
    async for running in started(create_app(settings)):
        async with rolled_back(running):
            yield running


def finished(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    tracing.flush()
    return list(exporter.get_finished_spans())


def ancestors(span: ReadableSpan, spans: list[ReadableSpan]) -> list[ReadableSpan]:
    by_id = {each.context.span_id: each for each in spans}
    found = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        found.append(span)
    return found


def server_span(spans: list[ReadableSpan]) -> ReadableSpan:
    [server] = [span for span in spans if span.kind is SpanKind.SERVER]
    return server


def sql_spans(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    return [span for span in spans if span.attributes and "db.system.name" in span.attributes]


async def test_a_list_request_is_a_trace_of_its_sql(traced_app, exported, backend):
    admin = await create_superuser(traced_app)
    await create_row(traced_app, Portfolio, title="traced", slug="traced")
    finished(exported)
    exported.clear()
    async with make_client(traced_app) as http:
        response = await http.get(
            "/api/portfolios/", headers={**admin.headers, "X-Request-ID": "list-1"}
        )
    assert response.json()["count"] == 1
    spans = finished(exported)
    request = server_span(spans)
    assert request.name == "GET /api/portfolios"
    assert request.attributes is not None
    assert request.attributes["http.route"] == "/api/portfolios"
    assert request.attributes["http.response.status_code"] == 200
    assert request.attributes["request_id"] == "list-1"
    statements = sql_spans(spans)
    assert statements, "no SQL span"
    for span in statements:
        assert span.kind is SpanKind.CLIENT
        assert span.attributes is not None
        assert span.attributes["request_id"] == "list-1"
        assert span.attributes["db.system.name"] == backend
        assert span.context.trace_id == request.context.trace_id
        assert span.parent is not None
        assert span.parent.span_id == request.context.span_id
    texts = [span.attributes["db.query.text"] for span in statements if span.attributes]
    if backend == "postgresql":  # statements run straight through asyncpg are traced too
        assert PLAIN_PAGE_JSON._postgres is not None
        assert PLAIN_PAGE_JSON._postgres[0] in texts
    # Every span of the request is in one trace and knows the request.
    assert {span.context.trace_id for span in spans} == {request.context.trace_id}
    assert all(span.attributes and span.attributes["request_id"] == "list-1" for span in spans)


async def test_a_get_requests_own_connection_is_traced_too(settings, exported, backend):
    """A GET request's prepared statements run on a pooled connection outside any SQLAlchemy
    Connection (`ReadSession`): their spans end, and a failed one ends as an error."""
    if backend != "postgresql":
        pytest.skip("SQLite's read sessions run through SQLAlchemy")
    broken = Prepared(select(cast(literal("not a number"), Integer)))
    async for running in started(create_app(settings)):
        async with running.state.read_sessionmaker() as session:
            assert (await Prepared(select(literal(7))).scalar(session, {})) == 7
            with pytest.raises(asyncpg.exceptions.InvalidTextRepresentationError):
                await broken.rows(session, {})
    fine, failed = sql_spans(finished(exported))
    assert fine.status.status_code is StatusCode.UNSET
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes is not None
    assert "CAST" in failed.attributes["db.query.text"]


async def test_an_incoming_traceparent_is_continued(traced_app, exported):
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    async with make_client(traced_app) as http:
        await http.get("/healthz", headers={"traceparent": parent})
    request = server_span(finished(exported))
    assert format(request.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert request.parent is not None
    assert format(request.parent.span_id, "016x") == parent[36:52]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


async def test_storage_writes_are_spans_of_the_request(traced_app, exported):
    assert isinstance(traced_app.state.storage, TracedStorage)
    admin = await create_superuser(traced_app)
    async with make_client(traced_app) as http:
        http.headers.update(admin.headers)
        created = await http.post(
            "/api/media/",
            files={"file": ("teal.png", png(), "image/png")},
            data={"name": "teal"},
            headers={"X-Request-ID": "upload-1"},
        )
        assert created.status_code == 201, created.text
        finished(exported)
        exported.clear()
        # A delete moves the file to the trash, bytes kept; the purge removes them.
        trashed = await http.delete(f"/api/media/{created.json()['id']}")
        assert trashed.status_code == 204
        finished(exported)
        exported.clear()
        purged = await http.delete(
            f"/api/trash/media/{created.json()['id']}", headers={"X-Request-ID": "purge-1"}
        )
        assert purged.status_code == 204
    spans = finished(exported)
    [delete] = [span for span in spans if span.name == "storage delete"]
    assert delete.attributes is not None
    assert delete.attributes["request_id"] == "purge-1"
    assert delete.attributes["storage.backend"] == traced_app.state.storage.name
    assert delete.attributes["storage.count"] == 5  # the image and its four thumbnails
    assert server_span(spans) in ancestors(delete, spans)


async def test_a_failed_storage_write_is_an_error_span(traced_app, exported, monkeypatch):
    storage: TracedStorage = traced_app.state.storage

    async def refuse(*_args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(storage.storage, "delete", refuse)
    finished(exported)
    exported.clear()
    with pytest.raises(OSError, match="disk full"):
        await storage.delete(["a/b.png"])
    [span] = finished(exported)
    assert span.name == "storage delete"
    assert not span.status.is_ok
    assert span.events[0].name == "exception"


async def test_an_outgoing_request_is_a_client_span_that_joins_the_trace(exported):
    headers: dict[str, str] = {}
    url = "https://hooks.example/deliver?secret=s3cr3t"
    with tracing.outgoing_request("POST", url, headers) as answered:
        answered(503)
    [span] = finished(exported)
    assert span.kind is SpanKind.CLIENT
    assert span.attributes is not None
    assert span.attributes["url.full"] == "https://hooks.example/deliver"  # no secret
    assert span.attributes["http.response.status_code"] == 503
    assert not span.status.is_ok
    assert headers["traceparent"].split("-")[1] == format(span.context.trace_id, "032x")


def test_off_the_webhook_helper_makes_no_span():
    saved = tracing._Process.configured, tracing._Process.provider, tracing._Process.tracer
    tracing.use_provider(None)
    try:
        headers: dict[str, str] = {}
        with tracing.outgoing_request("POST", "https://hooks.example/", headers) as answered:
            answered(200)
        assert headers == {}
    finally:
        tracing._Process.configured, tracing._Process.provider, tracing._Process.tracer = saved


CONSOLE_RUN = """
import asyncio
from app.common import tracing
from app.main import create_app
from app.models import Portfolio
from app.settings import get_settings
from tests.conftest import make_client, rolled_back, started
from tests.factories import create_row, create_superuser

async def main():
    async for app in started(create_app(get_settings())):
        async with rolled_back(app):  # nothing stays in the test database
            admin = await create_superuser(app)
            await create_row(app, Portfolio, title="printed", slug="printed")
            tracing.flush()
            print("-- the list request --", flush=True)
            async with make_client(app) as http:
                headers = {**admin.headers, "X-Request-ID": "console-1"}
                response = await http.get("/api/portfolios/", headers=headers)
            assert response.status_code == 200, response.text
            tracing.flush()

asyncio.run(main())
"""


def run_app(script: str, settings: Settings, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("OTEL_") and name != "FASTAPI_OTEL_AUTO_CONFIGURE"
    }
    env |= {"DATABASE_URL": settings.database_url, "MEDIA_ROOT": str(settings.media_root)}
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env | environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_console_exporter_prints_the_trace_of_a_list_request(settings):
    """OTEL_TRACES_EXPORTER=console: the spans on stdout, one JSON object a line."""
    result = run_app(CONSOLE_RUN, settings, OTEL_TRACES_EXPORTER="console")
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split("-- the list request --\n", 1)[1]
    spans = [json.loads(line) for line in printed.splitlines()]
    [request] = [span for span in spans if span["kind"] == "SpanKind.SERVER"]
    assert request["name"] == "GET /api/portfolios"
    assert request["attributes"]["request_id"] == "console-1"
    assert request["resource"]["attributes"]["service.name"] == "portfolio-api"
    statements = [span for span in spans if "db.system.name" in span["attributes"]]
    assert statements
    trace_id = request["context"]["trace_id"]
    assert {span["context"]["trace_id"] for span in spans} == {trace_id}
    for span in statements:
        assert span["attributes"]["request_id"] == "console-1"
        assert span["parent_id"] == request["context"]["span_id"]


OFF_RUN = """
import asyncio, sys
from app.common import tracing
from app.main import create_app
from app.settings import get_settings
from tests.conftest import make_client, started

async def main():
    async for app in started(create_app(get_settings())):
        async with make_client(app) as http:
            assert (await http.get("/readyz")).status_code == 200  # it runs SQL
    assert tracing.current_tracer() is None
    loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry.sdk"))
    print(loaded)

asyncio.run(main())
"""


def test_off_the_sdk_is_not_even_imported(settings):
    result = run_app(OFF_RUN, settings, OTEL_SERVICE_NAME="portfolio")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_an_unknown_exporter_is_refused_at_start():
    from app.common.tracing_setup import provider_from_environment

    with pytest.raises(ValueError, match="no span exporter 'zipkin'"):
        provider_from_environment({"OTEL_TRACES_EXPORTER": "zipkin"})
    # An endpoint alone: OTLP over HTTP, the exporter installed with the app.
    otlp = provider_from_environment({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    otlp.shutdown()  # nothing to send
