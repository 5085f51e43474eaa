"""Routes in the DRF dialect: both trailing slashes, strict JSON bodies, documented errors."""

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import fastapi
from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.utils import create_model_field
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from app.common.access import AccessKind, AccessRule, access_rules, declares_access
from app.errors import (
    APIError,
    D,
    NotFound,
    ParseError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    errors_raised_by,
    openapi_responses,
)

# Every route is matched without its trailing slash (TrailingSlashMiddleware removes the one a
# request has); OpenAPI shows the path as the route declared it: `/api/portfolios/` for a list.
CANONICAL_PATHS: dict[str, str] = {}


def without_trailing_slash(path: str) -> str:
    return path.rstrip("/") or "/"


# Dependencies that stand in for another in routes that only read (`reads_for`).
_READING_VARIANTS: dict[Callable[..., Any], Callable[..., Any]] = {}
READING_METHODS = frozenset({"GET", "HEAD"})


def reads_for(dependency: Callable[..., Any]) -> Callable[[D], D]:
    """Declare the decorated dependency the one that routes answering only GET (and HEAD) get
    in place of `dependency`, wherever they depend on it: same parameters, same errors."""

    def register(variant: D) -> D:
        _READING_VARIANTS[dependency] = variant
        return variant

    return register


class DRFRoute(APIRoute):
    """A route whose JSON body is parsed as DRF parses it and whose errors are all documented.

    It answers its path with and without the trailing slash: it is registered without it,
    and requests arrive without it.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.canonical_path = path
        super().__init__(without_trailing_slash(path), endpoint, **kwargs)
        self.literal_prefix = self.path_format.partition("{")[0]
        CANONICAL_PATHS[self.path_format] = path
        self.access = self._declared_access()
        documented = openapi_responses(self._possible_errors())
        self.responses = {**documented, **self.responses}
        self._document_bodies(documented)
        if self.methods and self.methods <= READING_METHODS:
            self._use_reading_variants()
        if self.access.kind is AccessKind.PUBLIC and self.body_field is None:
            self._skip_public_check()
        self.description = f"{self.description}\n\n{self.access.describe()}".strip()
        security = [] if self.access.kind is AccessKind.PUBLIC else AUTHENTICATED
        self.openapi_extra = {"security": security, **(self.openapi_extra or {})}

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The app tries its routes in turn: a path that does not begin as this route's does is
        # turned away by a string comparison, before FastAPI's bookkeeping and the regex.
        if scope["type"] == "http" and not get_route_path(scope).startswith(self.literal_prefix):
            return Match.NONE, {}
        return super().matches(scope)

    def _use_reading_variants(self) -> None:
        for dependant in walk(self.dependant):  # FastAPI builds these afresh for each route
            variant = _READING_VARIANTS.get(dependant.call)  # type: ignore[arg-type]
            if variant is not None:
                dependant.call = variant

    def _skip_public_check(self) -> None:
        """`public` raises a body error held back until access is granted; a route that takes
        no body has none to raise, so it is not solved on each request (a tenth of `/healthz`).
        The route still declares public access: `self.access` was read above."""
        self.dependant.dependencies[:] = [
            dependant for dependant in self.dependant.dependencies if dependant.call is not public
        ]

    def _document_bodies(self, documented: dict[int | str, dict[str, Any]]) -> None:
        """The error bodies' models, as FastAPI prepares those given to the route itself (it
        reads `response_fields` when it writes the document)."""
        for status, response in documented.items():
            model = response.get("model")
            if model is not None and status not in self.response_fields:
                name = f"Response_{status}_{self.unique_id}"
                self.response_fields[status] = create_model_field(
                    name=name, type_=model, mode="serialization"
                )

    def _declared_access(self) -> AccessRule:
        rules = access_rules(d.call for d in walk(self.dependant))
        if len(set(rules)) != 1:
            raise TypeError(
                f"{self.path} ({self.name}) must depend on exactly one access dependency "
                f"(public, any_active_user, require(code) or superuser); found {rules}"
            )
        return rules[0]

    @property
    def takes_json_body(self) -> bool:
        return self.body_field is not None and not self.takes_form_body

    @property
    def takes_form_body(self) -> bool:
        return self.body_field is not None and isinstance(self.body_field.field_info, params.Form)

    def _possible_errors(self) -> list[type[APIError]]:
        dependants = [self.dependant, *walk(self.dependant)]
        errors: list[type[APIError]] = []
        if self.body_field is not None or any(
            d.query_params or d.header_params for d in dependants
        ):
            errors.append(ValidationFailed)
        if self.body_field is not None:
            errors += [PayloadTooLarge, UnsupportedMediaType]
        if any(d.path_params for d in dependants):
            errors.append(NotFound)
        for dependant in dependants:
            if dependant.call is not None:
                errors += errors_raised_by(dependant.call)
        return sorted(set(errors), key=lambda error: error.status_code)

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        if self.takes_json_body:

            async def parse_json_then_handle(request: Request) -> Response:
                if self.access.kind is not AccessKind.PUBLIC and has_body(request):
                    await _body_gate(request, self.access)
                await load_json_body(request)
                response: Response = await handler(request)
                return response

            return parse_json_then_handle
        if self.takes_form_body:

            async def check_form_then_handle(request: Request) -> Response:
                if self.access.kind is not AccessKind.PUBLIC and has_body(request):
                    await _body_gate(request, self.access)
                content_type = request.headers.get("content-type", "")
                if content_type and not is_form_media_type(content_type):
                    _defer(request, UnsupportedMediaType(content_type))
                response: Response = await handler(request)
                return response

            return check_form_then_handle
        return handler


BodyGate = Callable[[Request, AccessRule], Awaitable[None]]


async def _no_gate(_request: Request, _rule: AccessRule) -> None:
    raise RuntimeError("app.auth.dependencies sets the body gate when imported")


_body_gate: BodyGate = _no_gate


def set_body_gate(gate: BodyGate) -> None:
    """The check that runs before a protected route reads a body (authentication lives in
    `app.auth`, which imports this module)."""
    global _body_gate
    _body_gate = gate


def has_body(request: Request) -> bool:
    headers = request.headers
    return headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in headers


# Either header form authenticates: `Authorization: Token <key>` or `Bearer <key>`.
AUTHENTICATED: list[dict[str, list[str]]] = [{"TokenAuth": []}, {"BearerAuth": []}]
_DEFERRED_BODY_ERROR = "deferred_body_error"


def walk(dependant: Dependant) -> Iterator[Dependant]:
    for child in dependant.dependencies:
        yield child
        yield from walk(child)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name}")


async def load_json_body(request: Request) -> None:
    """Parse the body as DRF's JSONParser would, leaving the result where FastAPI reads it.

    An empty body is an empty object, whatever its declared type (a PATCH with nothing to
    change); any other body, white space alone included, must be declared JSON (415) and parse
    (400 "JSON parse error"), as in DRF.
    Those errors wait until the route's access dependency has let the caller in, because DRF
    authenticates before it parses: a stranger gets 401, not a hint about the body.
    """
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if not body:
        _hand_over_json(request, {})
        return
    if content_type and not is_json_media_type(content_type):
        _defer(request, UnsupportedMediaType(content_type))
        _hand_over_json(request, {})
        return
    try:
        parsed = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        _defer(request, ParseError(f"JSON parse error - {exc}"))
        _hand_over_json(request, {})
        return
    _hand_over_json(request, parsed)


def _defer(request: Request, error: APIError) -> None:
    request.scope.setdefault("state", {})[_DEFERRED_BODY_ERROR] = error


def raise_deferred_body_error(request: Request) -> None:
    """Called by every access dependency once access is granted."""
    error = request.scope.get("state", {}).pop(_DEFERRED_BODY_ERROR, None)
    if error is not None:
        raise error


@declares_access(AccessRule(AccessKind.PUBLIC))
async def public(request: Request) -> None:
    """The access dependency of a route anyone may call (the others are in `app.auth`)."""
    raise_deferred_body_error(request)


Public = fastapi.Depends(public)


def _hand_over_json(request: Request, parsed: Any) -> None:
    """Leave the parsed body where FastAPI's own handler reads it, declared as JSON."""
    if not is_json_media_type(request.headers.get("content-type", "")):
        headers = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"]
        request.scope["headers"] = [*headers, (b"content-type", b"application/json")]
        request.__dict__.pop("_headers", None)
    request.__dict__["_body"] = request.__dict__.get("_body") or b"{}"
    request.__dict__["_json"] = parsed


def is_form_media_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ("multipart/form-data", "application/x-www-form-urlencoded")


def is_json_media_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def operation_id(route: APIRoute) -> str:
    """The endpoint's function name: stable and readable in generated clients."""
    return route.name


class APIRouter(fastapi.APIRouter):
    """A router of `DRFRoute`s, named by `operation_id`. Paths are written as the seeds write
    them (collections end in `/`, items do not); both spellings answer, directly, never by
    redirect."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", DRFRoute)
        kwargs.setdefault("generate_unique_id_function", operation_id)
        super().__init__(**kwargs)


def install_routes(app: fastapi.FastAPI, router: fastapi.APIRouter) -> None:
    """The router's routes, as they are, into the app's own route table.

    FastAPI 0.165 includes a router lazily: the app walks one wrapper per included router, and
    each walks its routes with scope bookkeeping around every match. A request for a route of
    the last router (`/healthz`) paid some 80 such matches, 60% of its whole cost in process
    (bench/request_path.py). A route already carries its router's dependencies (merged when it
    was declared) and nothing is given at inclusion here, so adding it directly loses nothing:
    the app matches each route's own regex, as FastAPI did before lazy inclusion. (What is lost
    is what this app does not use: `app.dependency_overrides` and routers' own lifespans.)
    """
    app.router.routes.extend(router.routes)


class TrailingSlashMiddleware:
    """Routes are matched without a trailing slash; the path as sent stays for page links."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": without_trailing_slash(path)}
            scope.setdefault("state", {})["request_path"] = path
        await self.app(scope, receive, send)
