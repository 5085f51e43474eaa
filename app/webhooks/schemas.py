"""Webhook endpoint request bodies; the response shapes are in `app.webhooks.read_model`.

Only the form of `url` is checked here; where it may point (the SSRF guard, which resolves the
host) is a rule of `app.webhooks.service`.
"""

import ipaddress
import re
import unicodedata
from typing import Annotated, Any
from urllib.parse import SplitResult, urlsplit

from pydantic import AfterValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from app.common.schemas import Boolean, RequestSchema, omittable
from app.events.outbox import TYPES

URL_MAX_LENGTH = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}
_URL_MESSAGE = "Enter a valid URL."
_HOST_NAME = re.compile(r"[\w-]+(\.[\w-]+)*\.?")

# What `events` may list: every type (`*`), every type of a kind (`portfolio.*`), or one type.
EVENT_KINDS = tuple(dict.fromkeys(event_type.split(".", 1)[0] for event_type in TYPES))
EVENT_FILTERS = ("*", *(f"{kind}.*" for kind in EVENT_KINDS), *TYPES)
_KNOWN_FILTERS = frozenset(EVENT_FILTERS)


def split_url(value: str) -> SplitResult:
    """The URL's parts, or the 400 DRF's URLField gives: http(s), a valid host and port, no
    white space or control characters."""
    try:
        parts = urlsplit(value)
        port = parts.port  # a port that is not a number in range raises ValueError
    except ValueError:
        raise PydanticCustomError("invalid_url", _URL_MESSAGE) from None
    unprintable = any(c.isspace() or unicodedata.category(c) == "Cc" for c in value)
    if (
        parts.scheme.lower() not in DEFAULT_PORTS
        or not parts.hostname
        or unprintable
        or "\\" in parts.netloc  # read as `/` by browsers and some clients: another host
        or not _valid_host(parts.hostname, bracketed="[" in parts.netloc)
        or port == 0
    ):
        raise PydanticCustomError("invalid_url", _URL_MESSAGE)
    return parts


def _valid_host(hostname: str, *, bracketed: bool) -> bool:
    """A name of letters (any script), digits, `-`, `_` and dots, an IPv4 address, or an IPv6
    address in brackets: the host the guard checks is the host a client connects to."""
    if bracketed:
        try:
            ipaddress.IPv6Address(hostname)
        except ValueError:
            return False
        return True
    return _HOST_NAME.fullmatch(hostname) is not None


def host_and_port(value: str) -> tuple[str, int]:
    """The host to resolve and the port to connect to (by default the scheme's)."""
    parts = split_url(value)
    assert parts.hostname is not None
    return parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme.lower()]


def _webhook_url(value: str) -> str:
    split_url(value)
    return value


def _known_event_filter(value: str) -> str:
    if value not in _KNOWN_FILTERS:
        raise PydanticCustomError(
            "unknown_event_type", 'Unknown event type "{value}".', {"value": value}
        )
    return value


def _unique_non_empty(values: list[str]) -> list[str]:
    if not values:
        raise PydanticCustomError("empty", "This list may not be empty.")
    return list(dict.fromkeys(values))


WebhookUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=URL_MAX_LENGTH,
        description="Where events are sent: an http(s) URL.",
        examples=["https://example.com/hooks/portfolio"],
    ),
    AfterValidator(_webhook_url),
]
EVENTS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string", "enum": list(EVENT_FILTERS)},
    "minItems": 1,
    "description": (
        "Event types sent to this endpoint: `*` (every type), `<kind>.*` (every type of a "
        "kind) or a type. Repeats are dropped, the order is kept."
    ),
}
EventFilters = Annotated[
    list[Annotated[str, AfterValidator(_known_event_filter)]],
    AfterValidator(_unique_non_empty),
    WithJsonSchema(EVENTS_SCHEMA),
]


class WebhookIn(RequestSchema):
    url: WebhookUrl
    events: EventFilters = Field(default_factory=lambda: ["*"])
    is_active: Boolean = Field(default=True, description="Inactive endpoints receive nothing.")
    description: str = ""


class WebhookPatch(RequestSchema):
    url: WebhookUrl = omittable()
    events: EventFilters = omittable()
    is_active: Boolean = omittable()
    description: str = omittable()
