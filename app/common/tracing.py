"""OpenTelemetry spans for requests, SQL, storage and outgoing HTTP; off unless asked for.

Tracing is on when the standard variables ask for it: `OTEL_TRACES_EXPORTER` (other than
`none`) or an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`),
and `OTEL_SDK_DISABLED` is not `true`. Off, the SDK is not even imported and nothing is
installed (FastAPI's request spans are switched off, no SQL listeners, no storage wrapper): no
span object is ever made, and the request middleware tests one boolean.

Every span started while a request runs carries the request's id (`request_id`), the same id as
its log lines and its `X-Request-ID` header.
"""

import os
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi.telemetry import TelemetryConfig

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer
    from sqlalchemy.ext.asyncio import AsyncEngine

REQUEST_ID_ATTRIBUTE = "request_id"
_SQL_SPAN = "_trace_span"  # a connection's info key: its statement's span


def enabled(environ: Mapping[str, str]) -> bool:
    """Whether the OTEL_* variables ask for traces."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters:
        return exporters != "none"
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


class _Process:
    """The process's tracer: configured once from the environment, on first use."""

    configured = False
    provider: "TracerProvider | None" = None
    tracer: "Tracer | None" = None


def current_tracer() -> "Tracer | None":
    """The tracer to make spans with, or None when tracing is off."""
    if not _Process.configured:
        provider = None
        if enabled(os.environ):
            from opentelemetry import trace

            from app.common.tracing_setup import provider_from_environment

            provider = provider_from_environment(os.environ)
            trace.set_tracer_provider(provider)  # for any library instrumented later
        use_provider(provider)
    return _Process.tracer


def use_provider(provider: "TracerProvider | None") -> None:
    """Trace with this provider from now on (None: off); tests give one of their own."""
    _Process.provider = provider
    _Process.tracer = provider.get_tracer("portfolio-api") if provider is not None else None
    _Process.configured = True


def flush() -> None:
    """Export the spans still buffered (at shutdown: a worker process exits without atexit)."""
    if _Process.provider is not None:
        _Process.provider.force_flush()


# Requests: FastAPI's own spans


def fastapi_telemetry() -> TelemetryConfig:
    """For `FastAPI(telemetry=...)`: FastAPI's own request spans, with our provider.

    FastAPI makes the SERVER span of each request: named by its route template, with its status
    and error, continuing an incoming `traceparent`. Its spans for dependencies, endpoint and
    serialization stay off: they would triple the spans of a request (each costs tens of
    microseconds), and the SQL spans under the request span already show where time goes.
    Off, none of it runs. FastAPI's OpenTelemetry metrics and log records stay off either way:
    the metrics are Prometheus's (/metrics), the logs our lines on stdout.
    """
    current_tracer()
    return {
        "tracing": _Process.provider is not None,
        "tracer_provider": _Process.provider,
        "operation_spans": False,
        "metrics": False,
        "logs": False,
        "auto_configure": False,  # FASTAPI_OTEL_AUTO_CONFIGURE would add a pipeline of its own
    }


def tag_request_span(request_id: str) -> None:
    """Put the request id on the request's span, started before the id was known."""
    from opentelemetry import trace

    trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


# SQL


def trace_sql(engine: "AsyncEngine", tracer: "Tracer | None" = None) -> None:
    """A CLIENT span per statement, from SQLAlchemy's cursor events (which `common.sql.Prepared`
    fires too, around the statements it runs straight through asyncpg). Off: nothing."""
    tracer = tracer or current_tracer()
    if tracer is None:
        return
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from sqlalchemy import event

    sync_engine = engine.sync_engine
    system = sync_engine.dialect.name

    def close(span: "Span | None", error: BaseException | None = None) -> None:
        if span is None:
            return
        if error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()

    @event.listens_for(sync_engine, "before_cursor_execute")
    def start(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        operation = statement.lstrip().partition(" ")[0].upper() or "SQL"
        # A span left by a statement that never reported its end (it cannot have succeeded).
        close(conn.info.pop(_SQL_SPAN, None), RuntimeError("statement not finished"))
        conn.info[_SQL_SPAN] = tracer.start_span(
            operation,
            kind=SpanKind.CLIENT,
            attributes={
                "db.system.name": system,
                "db.operation.name": operation,
                "db.query.text": statement,  # placeholders only: values are never recorded
            },
        )

    @event.listens_for(sync_engine, "after_cursor_execute")
    def finish(conn: Any, *_args: Any) -> None:
        close(conn.info.pop(_SQL_SPAN, None))

    @event.listens_for(sync_engine, "handle_error")
    def fail(context: Any) -> None:
        if context.connection is not None:
            close(context.connection.info.pop(_SQL_SPAN, None), context.original_exception)

    @event.listens_for(sync_engine, "invalidate")
    def lose(_dbapi_connection: Any, record: Any, error: BaseException | None) -> None:
        # A `Prepared` statement that failed invalidates its connection (no handle_error).
        close(record.info.pop(_SQL_SPAN, None), error or RuntimeError("connection invalidated"))


# Outgoing HTTP (webhook deliveries: none yet)


def _ignore_status(_status: int) -> None:
    pass


@contextmanager
def outgoing_request(
    method: str, url: str, headers: MutableMapping[str, str] | None = None
) -> Iterator[Callable[[int], None]]:
    """A CLIENT span around one outgoing HTTP call; yields `answered(status)` to record the
    answer. Given `headers`, it adds `traceparent` so that a traced receiver joins the trace.

        with outgoing_request("POST", url, headers) as answered:
            response = await client.post(url, content=body, headers=headers)
            answered(response.status_code)

    Off, it yields a function that does nothing, and makes no span.
    """
    tracer = current_tracer()
    if tracer is None:
        yield _ignore_status
        return
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind, Status, StatusCode

    parts = urlsplit(url)
    # Neither the query nor credentials: a webhook URL may hold its secret there.
    shown = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"
    with tracer.start_as_current_span(
        method,
        kind=SpanKind.CLIENT,
        attributes={
            "http.request.method": method,
            "url.full": shown + parts.path,
            "server.address": parts.hostname or "",
        },
    ) as span:
        if headers is not None:
            propagate.inject(headers)

        def answered(status: int) -> None:
            span.set_attribute("http.response.status_code", status)
            if status >= 400:
                span.set_status(Status(StatusCode.ERROR))

        yield answered
