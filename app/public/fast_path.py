"""Cached public bodies answered before routing: a body this process holds, or a 304 for its
tag, costs neither the database nor FastAPI's parsing of the query (the route does that on a
miss, then keeps the body). PUBLIC_RATE_LIMIT, when set, is applied here first. It sits inside
the request context, proxy, host and metrics middleware: what they do for every request they
still do."""

from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import Throttled, error_response
from app.public.cache import ResponseCache
from app.public.router import request_key_of, respond
from app.public.throttle import AddressThrottle

PREFIX = "/api/public/"


class PublicCacheMiddleware:
    def __init__(self, app: ASGIApp, rate_limit: int = 0) -> None:
        self.app = app
        self.throttle = AddressThrottle(rate_limit) if rate_limit else None
        self._routes: dict[str, Any] = {}  # path format: its GET route, for the metrics' label

    def _route(self, request: Request, path_format: str) -> Any:
        if not self._routes:
            self._routes = {
                route.path_format: route
                for route in request.app.router.routes
                if isinstance(route, APIRoute) and "GET" in (route.methods or ())
            }
        return self._routes.get(path_format)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope["path"].startswith(PREFIX)
        ):
            request = Request(scope, receive)
            if self.throttle is not None:
                client = scope.get("client")
                wait = self.throttle.wait(client[0] if client else "")
                if wait:
                    await error_response(Throttled(wait))(scope, receive, send)
                    return
            cache: ResponseCache = request.app.state.public_cache
            matched = request_key_of(request)
            found = cache.get(matched[0]) if matched is not None else None
            if found is not None:
                assert matched is not None
                scope["route"] = self._route(request, matched[1])
                await respond(request, found)(scope, receive, send)
                return
            if matched is not None:
                request.state.public_cache_key = matched  # the route need not work it out again
        await self.app(scope, receive, send)
