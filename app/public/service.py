"""The public bodies: active portfolios (without private meta), and the tags and employers they
use, in the staff shapes, with URLs a cache may keep (never presigned ones)."""

from urllib.parse import quote

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import json_body
from app.common.listing import ListQuery
from app.common.pagination import PageRequest
from app.employers.service import employers
from app.errors import NotFound
from app.media.dependencies import MediaUrls
from app.media.storage import Storage
from app.models import Employer, Portfolio, Tag, portfolio_tags
from app.portfolios import read_model as portfolios
from app.portfolios.schemas import PortfolioQuery
from app.tags.service import tags


class PublicMediaUrls(MediaUrls):
    """File URLs for bodies that caches keep: a bucket whose URLs would be presigned gets its
    public base URL (S3_PUBLIC_BASE_URL, a CDN that can read it) or its plain URL instead."""

    def __init__(self, storage: Storage, origin: str) -> None:
        super().__init__(storage, origin)
        if self.prefix is None:
            unsigned = getattr(storage, "unsigned_url_prefix", None)
            assert unsigned is not None, "only a bucket's URLs are ever signed"
            self.prefix = unsigned()

    def __call__(self, key: str) -> str:
        assert self.prefix is not None
        return f"{self.prefix}{quote(key)}"


def _active(query: PortfolioQuery) -> PortfolioQuery:
    return PortfolioQuery(
        query.filters,
        query.ordering,
        query.search,
        present=query.present,
        flags={"is_active": True},
        employer=query.employer,
        tags=query.tags,
        completed_from=query.completed_from,
        completed_to=query.completed_to,
    )


async def portfolio_page(
    session: AsyncSession, query: PortfolioQuery, page: PageRequest, url_for: MediaUrls
) -> tuple[int, bytes, portfolios.Described | None]:
    return await portfolios.public_page(session, _active(query), page, url_for)


async def portfolio_by_slug(session: AsyncSession, slug: str, url_for: MediaUrls) -> bytes:
    if "\x00" in slug:  # PostgreSQL text holds no NUL: no slug has one
        raise NotFound()
    found = await session.scalar(
        select(Portfolio.id).where(Portfolio.slug == slug, Portfolio.is_active)
    )
    if found is None:
        raise NotFound()
    return await portfolios.one_portfolio(session, found, url_for, public=True)


def _used_tags() -> ColumnElement[bool]:
    active = (
        select(portfolio_tags.c.tag_id)
        .join(Portfolio, Portfolio.id == portfolio_tags.c.portfolio_id)
        .where(Portfolio.is_active)
    )
    return Tag.id.in_(active)


def _used_employers() -> ColumnElement[bool]:
    return Employer.id.in_(select(Portfolio.employer_id).where(Portfolio.is_active))


async def tag_page(
    session: AsyncSession, query: ListQuery, page: PageRequest, url_for: MediaUrls
) -> tuple[int, bytes]:
    count, results = await tags.list_page(session, query, page, url_for, _used_tags())
    return count, json_body(results)


async def employer_page(
    session: AsyncSession, query: ListQuery, page: PageRequest, url_for: MediaUrls
) -> tuple[int, bytes]:
    count, results = await employers.list_page(session, query, page, url_for, _used_employers())
    return count, json_body(results)


def not_found_body() -> bytes:
    return json_body(NotFound().body())
