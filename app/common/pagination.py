"""DRF LimitOffsetPagination: `{count, next, previous, results}` with absolute page links."""

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from fastapi import Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.query import NonNegativeInt64Query, PositiveInt64Query
from app.common.sql import AnySelect
from app.common.urls import absolute_request_url

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    limit: int
    offset: int


class Page(BaseModel, Generic[T]):
    count: int
    next: str | None
    previous: str | None
    results: list[T]


async def page_request(
    request: Request,
    limit: Annotated[
        PositiveInt64Query,
        Query(
            description="Results per page (default 10; values above the cap of 100 are clipped)."
        ),
    ] = None,
    offset: Annotated[
        NonNegativeInt64Query, Query(description="Number of results to skip.")
    ] = None,
) -> PageRequest:
    settings = request.app.state.settings
    chosen = settings.page_size_default if limit is None else limit
    return PageRequest(limit=min(chosen, settings.page_size_max), offset=offset or 0)


PageDep = Annotated[PageRequest, Depends(page_request)]
TOTAL = "total_count"  # the window count's column; no table has one of that name


async def fetch_page(
    session: AsyncSession, statement: AnySelect, page: PageRequest
) -> tuple[int, list[Any]]:
    """One page of rows and the total count, in one query (a window count rides along).

    Only a page past the end needs a second query, to count what it skipped.
    """
    counted = statement.add_columns(func.count().over().label(TOTAL))
    rows = list(await session.execute(counted.limit(page.limit).offset(page.offset)))
    if rows:
        return int(getattr(rows[0], TOTAL)), rows
    if page.offset == 0:
        return 0, []
    count_statement = select(func.count()).select_from(statement.order_by(None).subquery())
    return (await session.execute(count_statement)).scalar_one(), []


def build_page(request: Request, page: PageRequest, count: int, results: list[T]) -> Page[T]:
    return Page(
        count=count,
        next=next_link(request, page, count),
        previous=previous_link(request, page),
        results=results,
    )


def next_link(request: Request, page: PageRequest, count: int) -> str | None:
    if page.offset + page.limit >= count:
        return None
    offset = page.offset + page.limit
    return _with_query(absolute_request_url(request), limit=page.limit, offset=offset)


def previous_link(request: Request, page: PageRequest) -> str | None:
    if page.offset <= 0:
        return None
    offset = page.offset - page.limit
    return _with_query(
        absolute_request_url(request), limit=page.limit, offset=offset if offset > 0 else None
    )


def _with_query(url: str, **changes: object) -> str:
    """`url` with each parameter of `changes` set (None: removed), its query's keys sorted."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = [str(value)]
    return urlunsplit(
        (scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment)
    )
