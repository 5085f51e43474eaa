"""The app's routes looked up by the start of a request's path instead of tried in turn.

FastAPI tries every route in order until one matches: a request for a portfolio tried 26 of the
app's 84 routes, 49 µs in all on the benchmark machine, a tenth of the instructions of the
whole request. A route can only match a request whose method it answers, whose path has as many
segments as its own (or more, for a `{name:path}` parameter) and whose first two segments equal
its own where those are not parameters. Those routes, in the app's order, are the candidates
for a request with that method, length and start; the first of them to match fully is the one
FastAPI would have chosen, and it is handled exactly as FastAPI's router handles it. A request
that none matches fully (404, 405), and every other kind of scope, goes to FastAPI's own loop.

The candidates are kept per method, length and start, where a start that no route spells is
one key: a crowd of made-up paths adds no entry.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.routing import (
    APIRouter,
    _apply_router_form_limits,
    _update_scope,
)
from fastapi.telemetry._api import _route_selected
from starlette._utils import get_route_path
from starlette.convertors import PathConvertor
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

Key = tuple[str, int, str | None, str | None]  # method, segments, first two (None: no route's)
INDEXED_SEGMENTS = 2  # after the leading "" of "/api/portfolios/5": "api", "portfolios"


@dataclass(frozen=True)
class Shape:
    """What a route's path asks of a request's path, in segments (`path_format.split("/")`)."""

    segments: tuple[str, ...]
    open_ended: bool  # a `{name:path}` parameter matches any number of segments
    methods: frozenset[str] | None  # None: any

    @classmethod
    def of(cls, route: BaseRoute) -> "Shape | None":
        """None for a route whose path is not known: it stays a candidate for every request."""
        path_format = getattr(route, "path_format", None)
        if not isinstance(path_format, str):
            return None
        convertors = getattr(route, "param_convertors", {}).values()
        methods = getattr(route, "methods", None)
        return cls(
            segments=tuple(path_format.split("/")),
            open_ended=isinstance(route, Mount)
            or any(isinstance(c, PathConvertor) for c in convertors),
            methods=frozenset(methods) if methods else None,
        )

    def literals(self) -> list[str]:
        return [s for s in self.segments[1 : INDEXED_SEGMENTS + 1] if "{" not in s]

    def admits(self, key: Key) -> bool:
        method, count, *start = key
        if self.methods is not None and method not in self.methods:
            return False
        # An open-ended parameter may match an empty remainder: one segment fewer.
        if count != len(self.segments) and not (
            self.open_ended and count >= len(self.segments) - 1
        ):
            return False
        own = self.segments[1:]  # zip stops at the shorter: a short route has no more to compare
        return all(
            segment == mine for mine, segment in zip(own, start, strict=False) if "{" not in mine
        )


class RouteIndex:
    """An ASGI app in place of the router's own dispatch (`Router.middleware_stack`)."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.fallback: ASGIApp = router.middleware_stack
        self._indexed = -1  # how many routes the index was built for
        self._shapes: list[tuple[BaseRoute, Shape | None]] = []
        self._spelled: frozenset[str] = frozenset()
        self._candidates: dict[Key, Sequence[BaseRoute]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.candidates(scope["method"], get_route_path(scope)):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    await self._handle(route, child_scope, scope, receive, send)
                    return
        await self.fallback(scope, receive, send)

    def candidates(self, method: str, path: str) -> Sequence[BaseRoute]:
        if self._indexed != len(self.router.routes):  # routes added since (tests add some)
            self._build()
        segments = path.split("/", INDEXED_SEGMENTS + 1)
        count = path.count("/") + 1
        start = [s if s in self._spelled else None for s in segments[1 : INDEXED_SEGMENTS + 1]]
        start += [None] * (INDEXED_SEGMENTS - len(start))
        key: Key = (method, count, start[0], start[1])
        found = self._candidates.get(key)
        if found is None:
            found = self._candidates[key] = tuple(
                route for route, shape in self._shapes if shape is None or shape.admits(key)
            )
        return found

    def _build(self) -> None:
        self._shapes = [(route, Shape.of(route)) for route in self.router.routes]
        self._spelled = frozenset(
            literal
            for _, shape in self._shapes
            if shape is not None
            for literal in shape.literals()
        )
        self._candidates = {}
        self._indexed = len(self.router.routes)

    async def _handle(
        self, route: BaseRoute, child_scope: Scope, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """What FastAPI's `APIRouter.app` does with the route it chose."""
        router: Any = self.router
        _apply_router_form_limits(scope, router.form_limits)
        if "router" not in scope:
            scope["router"] = router
        _update_scope(scope, child_scope)
        _route_selected(
            scope=scope,
            path=getattr(route, "path_format", None),
            mount=isinstance(route, Mount),
        )
        await route.handle(scope, receive, send)


def index_routes(router: APIRouter) -> None:
    """Dispatch the router's requests through a `RouteIndex`."""
    router.middleware_stack = RouteIndex(router)
