"""Plain ASGI middleware: trusted proxy headers, allowed hosts, request ids and access logs."""

import functools
import ipaddress
import json
import logging
import os
import re
import time
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.common.logs import REQUEST_ID, info_without_caller
from app.common.tracing import tag_request_span
from app.errors import APIError, ParseError, PayloadTooLarge

access_logger = logging.getLogger("app.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def first_values(scope: Scope, names: frozenset[bytes]) -> dict[bytes, str]:
    """The first value sent of each header of `names` (lower case, as ASGI gives them): one
    pass over the request's headers, where each `Headers(scope=scope).get` makes one of its own
    (a third of what proxy headers cost a request that sends none)."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in names and name not in found:
            found[name] = value.decode("latin-1")
    return found


FORWARDED = frozenset((b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host"))


class ProxyHeadersMiddleware:
    """Apply `X-Forwarded-For`, `-Proto` and `-Host` when the peer is a trusted proxy."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.trust_all = "*" in trusted
        self.networks: list[Network] = [
            ipaddress.ip_network(entry, strict=False) for entry in trusted if entry != "*"
        ]
        # Parsing an address costs more than the rest of this middleware: the answer is kept
        # per address (bounded, so a crowd of addresses only evicts).
        self._trusted = functools.lru_cache(maxsize=4096)(self._is_trusted)

    def is_trusted(self, host: str) -> bool:
        # An address is at most 45 characters; anything longer (a forged header) is not kept.
        return self._trusted(host) if len(host) <= 45 else self._is_trusted(host)

    def _is_trusted(self, host: str) -> bool:
        if self.trust_all:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] == "http" and client and self.is_trusted(client[0]):
            self._apply_forwarded(scope)
        await self.app(scope, receive, send)

    def _apply_forwarded(self, scope: Scope) -> None:
        headers = first_values(scope, FORWARDED)
        if not headers:
            return
        proto = headers.get(b"x-forwarded-proto", "").split(",")[0].strip().lower()
        if proto in {"http", "https"}:
            scope["scheme"] = proto
        host = headers.get(b"x-forwarded-host", "").split(",")[0].strip()
        if host:
            mutable = MutableHeaders(scope=scope)
            mutable["host"] = host
        forwarded_for = [h.strip() for h in headers.get(b"x-forwarded-for", "").split(",")]
        # The client is the nearest address not itself a trusted proxy.
        for address in reversed([h for h in forwarded_for if h]):
            if not self.is_trusted(address):
                scope["client"] = (address, 0)
                break


class AllowedHostsMiddleware:
    """Answer 400 to a `Host` not allowed, so that no absolute URL built from it points elsewhere.

    It runs inside ProxyHeadersMiddleware: the host checked is the one the links are built from,
    a trusted proxy's `X-Forwarded-Host` included. `host` allows that host on any port,
    `host:port` on that port only, `.example.com` the domain and its subdomains on any port.
    The probes answer any host: orchestrators call them by address.
    """

    EXEMPT = frozenset(
        f"/{probe}{slash}" for probe in ("healthz", "readyz", "metrics") for slash in ("", "/")
    )

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        entries = {entry.strip().lower() for entry in allowed}
        self.domains = tuple(entry for entry in entries if entry.startswith("."))
        self.hosts = frozenset(entries.difference(self.domains))  # host:port, or host: any port

    def allows(self, host: str) -> bool:
        host = host.lower()
        if host in self.hosts:
            return True
        name, port = host, ""
        if not host.endswith("]") and ":" in host:  # not a bare [IPv6]
            name, _, port = host.rpartition(":")
            # Only digits: "api.example:1@evil.example" would make links point at evil.example.
            if not (port.isascii() and port.isdigit()):
                return False
        if name in self.hosts:
            return True
        # A wildcard only for a plain DNS name: "evil.example/x.example.com" ends in one too.
        if not (self.domains and name.isascii()):
            return False
        if not name.replace(".", "").replace("-", "").isalnum():
            return False
        dotted = "." + name
        return any(dotted.endswith(domain) for domain in self.domains)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
        if self.allows(host):
            await self.app(scope, receive, send)
            return
        await send_error(send, ParseError("Invalid host header."))


# The response headers a page on another origin may read (`Access-Control-Expose-Headers`):
# every one this API sets that a client acts on. Cache-Control, Content-Type and Last-Modified
# are readable without being listed.
EXPOSED_HEADERS = [
    "X-Request-ID", "ETag", "Retry-After", "Allow", "WWW-Authenticate",
    "Surrogate-Key", "Cache-Tag",  # the public API's (CORSMiddleware sets the list for it too)
]  # fmt: skip


REQUEST_ID_HEADER = frozenset((b"x-request-id",))


class RequestContextMiddleware:
    """Keep or assign `X-Request-ID`, echo it, make it the id of every log line and span of the
    request (`REQUEST_ID`), and log one access line. `tracing`: FastAPI's request span is
    current here; it gets the id too."""

    def __init__(self, app: ASGIApp, tracing: bool = False) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = first_values(scope, REQUEST_ID_HEADER).get(b"x-request-id", "")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        REQUEST_ID.set(request_id)
        if self.tracing:
            tag_request_span(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            method, path = scope["method"], scope["path"]
            info_without_caller(
                access_logger,
                "%s %s %s %.2fms",
                (method, path, status, duration_ms),
                {
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": duration_ms,
                    "request_id": request_id,
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )


class BodyLimitMiddleware:
    """Refuse request bodies over the limit while they stream in (413), never buffering them.

    Multipart uploads get the upload limit plus room for the form framing; everything else the
    JSON limit. A declared Content-Length over the limit is refused before reading a byte.
    """

    MULTIPART_OVERHEAD = 64 * 1024

    def __init__(self, app: ASGIApp, json_limit: int, upload_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit + self.MULTIPART_OVERHEAD

    BODY_HEADERS = frozenset((b"content-type", b"content-length"))

    def limit_for(self, content_type: str) -> int:
        is_multipart = content_type.lower().startswith("multipart/")
        return self.upload_limit if is_multipart else self.json_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = first_values(scope, self.BODY_HEADERS)
        limit = self.limit_for(headers.get(b"content-type", ""))
        declared = headers.get(b"content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await send_error(send, PayloadTooLarge(), close=True)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException, so that form parsing passes it on instead of a 400.
                    raise HTTPException(status_code=413)
            return message

        await self.app(scope, counting_receive, send)


async def send_error(send: Send, error: APIError, *, close: bool = False) -> None:
    """Answer with the error's JSON body from middleware, before any route was reached;
    `close` the connection when the request's body is left unread."""
    body = json.dumps(error.body()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
