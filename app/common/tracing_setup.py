"""The OpenTelemetry SDK, set up from the standard OTEL_* variables: imported only when tracing
is on (`common.tracing.enabled`).

The SDK itself reads the rest of them: `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER` and its argument, `OTEL_EXPORTER_OTLP_*` (endpoint, headers, timeout),
`OTEL_BSP_*` (the batch processor), `OTEL_PROPAGATORS`.
"""

from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points

from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from app.common.logs import REQUEST_ID
from app.common.tracing import REQUEST_ID_ATTRIBUTE

DEFAULT_SERVICE_NAME = "portfolio-api"


class RequestIdProcessor(SpanProcessor):
    """Put the current request's id on every span as it starts."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        request_id = REQUEST_ID.get()
        if request_id is not None:
            span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


def console_exporter() -> ConsoleSpanExporter:
    """Spans on stdout, one JSON object a line (the SDK's default spreads one over 40 lines)."""

    def one_line(span: ReadableSpan) -> str:
        return str(span.to_json(indent=None)) + "\n"

    return ConsoleSpanExporter(formatter=one_line)


def exporter(name: str, environ: Mapping[str, str]) -> SpanExporter:
    """An exporter by its OTEL_TRACES_EXPORTER name: `console`, `otlp` (OTLP over HTTP, the one
    installed), or any other one an installed package registers."""
    if name == "console":
        return console_exporter()
    if name == "otlp":
        protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get(
            "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
        )
        name = "otlp_proto_grpc" if protocol == "grpc" else "otlp_proto_http"
    found = entry_points(group="opentelemetry_traces_exporter", name=name)
    if not found:
        raise ValueError(f"OTEL_TRACES_EXPORTER: no span exporter {name!r} is installed")
    exporter_class: type[SpanExporter] = next(iter(found)).load()
    return exporter_class()


def tracer_provider(
    exporters: Sequence[SpanExporter], resource: Resource | None = None
) -> TracerProvider:
    """A provider that batches spans to these exporters, each span with its request's id."""
    resource = resource or Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(RequestIdProcessor())
    for each in exporters:
        provider.add_span_processor(BatchSpanProcessor(each))
    return provider


def provider_from_environment(environ: Mapping[str, str]) -> TracerProvider:
    """Unset, OTEL_TRACES_EXPORTER is `otlp` (tracing is on because an endpoint is set)."""
    listed = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() or "otlp"
    names = [name.strip() for name in listed.split(",") if name.strip() not in ("", "none")]
    return tracer_provider([exporter(name, environ) for name in names])
