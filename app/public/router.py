"""`/api/public/...`: what the website reads, with no token (one sent changes nothing).

A body is served from this process's cache when it has it: a conditional request with a current
ETag, or a cached body, costs no database round trip. Otherwise it is built, described (ETag,
Last-Modified, surrogate keys) and kept until a change it shows is committed.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response

from app.common.crud import raw_page_response
from app.common.filters import CommonFiltersDep
from app.common.listing import ListQuery
from app.common.middleware import EXPOSED_HEADERS
from app.common.ordering import Ordering, ordering_dependency
from app.common.pagination import Page, PageDep, PageRequest
from app.common.query import DateTimeQuery, Int64ListQuery, Int64Query
from app.common.routing import APIRouter, Public
from app.common.search import SearchQuery, search_description
from app.common.urls import public_origin
from app.db import SessionDep
from app.employers.read_model import EmployerOut
from app.errors import NotFound, Throttled, openapi_responses
from app.media.dependencies import StorageDep
from app.named.repository import ORDERING_FIELDS as NAMED_ORDERING
from app.portfolios.read_model import Described, PortfolioOut
from app.portfolios.repository import ORDERING_FIELDS
from app.portfolios.schemas import PortfolioQuery
from app.public import service
from app.public.cache import CachedResponse, ResponseCache
from app.public.caching import cached_response, matches
from app.settings import Settings
from app.tags.read_model import TagOut

router = APIRouter(tags=["public"], dependencies=[Public])

PUBLIC_ORDER = ("order", "-completed_at", "-id")
PublicOrdering = Annotated[Ordering, Depends(ordering_dependency(ORDERING_FIELDS, PUBLIC_ORDER))]
NamedOrdering = Annotated[Ordering, Depends(ordering_dependency(NAMED_ORDERING, ("name", "id")))]
EXPOSED = ", ".join(EXPOSED_HEADERS)
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` tag is current."}
}
CACHE_HEADERS = {
    "ETag": {"description": "A strong tag of the body.", "schema": {"type": "string"}},
    "Cache-Control": {"schema": {"type": "string"}},
    "Last-Modified": {"description": "The newest `updated_at` in the body."},
    "Surrogate-Key": {"description": "Space-separated keys of every object in the body."},
    "Cache-Tag": {"description": "The same keys, comma-separated."},
}
# A body, and what it shows when its query wrote that too (else it is read off the body).
Build = Callable[[], Awaitable[tuple[bytes, Described | None]]]
NamedPage = Callable[[Any, ListQuery, PageRequest, Any], Awaitable[tuple[int, bytes]]]


def _urls(request: Request, storage: Any) -> service.PublicMediaUrls:
    return service.PublicMediaUrls(storage, public_origin(request))


def _request_key(request: Request, *parts: str) -> str:
    """What the body depends on: the origin its URLs start with, the route, its query (every
    parameter, so that the `next` link a body carries is the one its own requests ask for)."""
    query = urlencode(sorted(request.query_params.multi_items()))
    return "|".join([public_origin(request), *parts, query])


def request_key_of(request: Request) -> tuple[str, str] | None:
    """`_request_key` of a public route's request from its (decoded) path alone, and the path
    of its route; None for other paths. The fast path computes it before routing and leaves it
    in the request's state for the route."""
    known: tuple[str, str] | None = getattr(request.state, "public_cache_key", None)
    if known is not None:
        return known
    path = request.scope["path"].rstrip("/")
    if path in LIST_PATHS:
        return _request_key(request, LIST_PATHS[path]), path
    prefix, _slash, slug = path.rpartition("/")
    if prefix == "/api/public/portfolios" and slug:
        return _request_key(request, "portfolio", slug), f"{prefix}/{{slug}}"
    return None


LIST_PATHS = {
    "/api/public/portfolios": "portfolios",
    "/api/public/tags": "tags",
    "/api/public/employers": "employers",
}


async def answer(request: Request, collection: str, kind: str, build: Build) -> Response:
    cache: ResponseCache = request.app.state.public_cache
    matched = request_key_of(request)
    assert matched is not None, "answer() serves the public routes only"
    key = matched[0]
    found = cache.get(key)
    if found is None:
        generation = cache.generation
        shown: Described | None = None
        try:
            status, (body, shown) = 200, await build()
        except NotFound:
            status, body = 404, service.not_found_body()
        found = cached_response(status, body, collection, kind, shown)
        cache.put(key, found, generation)
    return respond(request, found)


def respond(request: Request, found: CachedResponse) -> Response:
    settings: Settings = request.app.state.settings
    headers = {
        "ETag": found.etag,
        "Cache-Control": (
            f"public, max-age={settings.public_max_age},"
            f" stale-while-revalidate={settings.public_swr},"
            f" stale-if-error={settings.public_sie}"
        ),
        "Surrogate-Key": " ".join(found.keys),
        "Cache-Tag": ",".join(found.keys),
        **cors_headers(request, settings),
    }
    if found.last_modified:
        headers["Last-Modified"] = found.last_modified
    # A current tag is a 304 even with `Cache-Control: no-cache`, which asks to revalidate,
    # and this is a revalidation (Node's fetch sends it by default).
    if found.status == 200 and matches(request.headers.get("if-none-match"), found.etag):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(found.body))
        return Response(status_code=found.status, headers=headers, media_type="application/json")
    return Response(found.body, found.status, headers, media_type="application/json")


def cors_headers(request: Request, settings: Settings) -> dict[str, str]:
    """`*` without credentials, or the request's origin when PUBLIC_CORS_ORIGINS lists it."""
    if not settings.public_cors_origins:
        return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSED}
    headers = {"Vary": "Origin"}
    origin = request.headers.get("origin")
    if origin in settings.public_cors_origins:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = EXPOSED
    return headers


def _documented(model: Any) -> dict[int | str, dict[str, Any]]:
    """200 with its caching headers, 304, and 429 (only when PUBLIC_RATE_LIMIT is set)."""
    return {
        200: {"model": model, "headers": CACHE_HEADERS},
        **NOT_MODIFIED,
        **openapi_responses([Throttled]),
    }


@router.get(
    "/api/public/portfolios/",
    response_model=Page[PortfolioOut],
    responses=_documented(Page[PortfolioOut]),
    summary="List the published portfolios (no token; cacheable)",
)
async def list_public_portfolios(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    page: PageDep,
    ordering: PublicOrdering,
    filters: CommonFiltersDep,
    search: Annotated[
        SearchQuery, Query(description=search_description(["id", "title", "slug", "excerpt"]))
    ] = None,
    employer: Annotated[Int64Query, Query(description="Employer id.")] = None,
    tag: Annotated[Int64ListQuery, Query(description="Tag id; repeat for any of several.")] = [],  # noqa: B006
    completed_from: Annotated[DateTimeQuery, Query()] = None,
    completed_to: Annotated[
        DateTimeQuery, Query(description="A date alone covers that whole day.")
    ] = None,
) -> Response:
    """Active portfolios only, in the staff list's shape without private meta (keys starting
    with `_`)."""
    query = PortfolioQuery(
        filters,
        ordering,
        search,
        employer=employer,
        tags=tag,
        completed_from=completed_from,
        completed_to=completed_to,
    )

    async def build() -> tuple[bytes, Described | None]:
        urls = _urls(request, storage)
        total, results, shown = await service.portfolio_page(session, query, page, urls)
        return bytes(raw_page_response(request, page, total, results).body), shown

    return await answer(request, "portfolios", "portfolio", build)


@router.get(
    "/api/public/portfolios/{slug}",
    response_model=PortfolioOut,
    responses=_documented(PortfolioOut),
    summary="Retrieve a published portfolio by its slug (no token; cacheable)",
)
async def get_public_portfolio(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    slug: Annotated[str, Path(max_length=255, description="Unicode, percent-encoded or not.")],
) -> Response:
    """An inactive, trashed or unknown portfolio is a 404 (cached too, under `portfolios`)."""

    async def build() -> tuple[bytes, Described | None]:
        return await service.portfolio_by_slug(session, slug, _urls(request, storage)), None

    return await answer(request, "portfolios", "portfolio", build)


@router.get(
    "/api/public/tags/",
    response_model=Page[TagOut],
    responses=_documented(Page[TagOut]),
    summary="List the tags published portfolios use (no token; cacheable)",
)
async def list_public_tags(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    page: PageDep,
    ordering: NamedOrdering,
    filters: CommonFiltersDep,
) -> Response:
    query = ListQuery(filters, ordering)
    return await _named_list(request, session, storage, page, query, service.tag_page, "tag")


@router.get(
    "/api/public/employers/",
    response_model=Page[EmployerOut],
    responses=_documented(Page[EmployerOut]),
    summary="List the employers of published portfolios (no token; cacheable)",
)
async def list_public_employers(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    page: PageDep,
    ordering: NamedOrdering,
    filters: CommonFiltersDep,
) -> Response:
    query = ListQuery(filters, ordering)
    page_of = service.employer_page
    return await _named_list(request, session, storage, page, query, page_of, "employer")


async def _named_list(
    request: Request,
    session: Any,
    storage: Any,
    page: PageRequest,
    query: ListQuery,
    page_of: NamedPage,
    kind: str,
) -> Response:
    """The tags or employers active portfolios use: `page_of` builds the page."""

    async def build() -> tuple[bytes, Described | None]:
        total, results = await page_of(session, query, page, _urls(request, storage))
        return bytes(raw_page_response(request, page, total, results).body), None

    return await answer(request, f"{kind}s", kind, build)


# HEAD answers the headers of GET; left out of the OpenAPI document (one operation per path).
for route in list(router.routes):
    router.add_api_route(
        route.canonical_path,  # type: ignore[attr-defined]
        route.endpoint,  # type: ignore[attr-defined]
        methods=["HEAD"],
        include_in_schema=False,
        name=f"{route.name}_head",  # type: ignore[attr-defined]
    )
