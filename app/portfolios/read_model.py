"""A portfolio as the API shows it, in its forms side by side: the Pydantic model (OpenAPI),
the Python builder and the SQL JSON builder, which tests/portfolios/test_read_model.py holds
equal. The nested shapes are those of the employer, tag, link and meta read models.

`one_portfolio` and `portfolio_page` are the one place that chooses between JSON written by
PostgreSQL and JSON serialised here.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Text,
    bindparam,
    cast,
    func,
    select,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.common.crud import json_body, uses_database_json
from app.common.json_sql import (
    MEDIA_PREFIX,
    PAGE_IDS,
    as_utf8,
    constant,
    drf_datetime_sql,
    file_by_id_sql,
    json_array,
    json_page,
    media_object_sql,
    ordered_json_array,
    page_ids,
    whole_page,
    whole_page_json,
)
from app.common.pagination import PageRequest, fetch_page
from app.common.schemas import DateTimeOut, drf_datetime
from app.common.sql import AnySelect, Prepared
from app.employers.read_model import EmployerData, employer_payload
from app.errors import NotFound
from app.links.read_model import LinkData, link_data
from app.media.dependencies import MediaUrls
from app.media.read_model import ImageOut
from app.media.repository import load_media_and_files
from app.media.serialize import UrlFor
from app.meta.read_model import MetaOut, meta_payload
from app.models import (
    Employer,
    MediaFile,
    Portfolio,
    PortfolioLink,
    PortfolioMeta,
    Tag,
    portfolio_images,
    portfolio_tags,
)
from app.portfolios import repository
from app.portfolios.schemas import PortfolioQuery
from app.tags.read_model import TagData, tag_payload


class PortfolioOut(BaseModel):
    id: int
    title: str
    slug: str
    excerpt: str | None
    order: int
    image_data: ImageOut | None
    employer_data: EmployerData | None
    tags_data: list[TagData]
    links_data: list[LinkData]
    is_active: bool
    completed_at: DateTimeOut | None
    created_at: DateTimeOut
    updated_at: DateTimeOut
    description: str | None
    images_data: list[ImageOut]
    meta: list[MetaOut]


def is_private(key: str) -> bool:
    """Meta whose key starts with `_` is for staff only: the public API leaves it out."""
    return key.startswith("_")


async def portfolio_payloads(
    session: AsyncSession, rows: list[Any], url_for: UrlFor, *, public: bool = False
) -> list[dict[str, Any]]:
    """The seed's portfolio objects for `rows` (anything with the columns of
    `repository.COLUMNS`), in a fixed number of queries whatever their number; `public`: without
    private meta."""
    if not rows:
        return []
    related = await repository.related(session, [row.id for row in rows])
    employers = await repository.employers(
        session, list({row.employer_id for row in rows if row.employer_id})
    )
    media_ids = [row.image_id for row in rows]
    media_ids += [employer.image_id for employer in employers.values()]
    for group in ("tags", "links"):
        media_ids += [item.image_id for items in related[group].values() for item in items]
    media_ids += [item.media_id for items in related["gallery"].values() for item in items]
    file_ids = [item.value_file_id for items in related["meta"].values() for item in items]
    media, files = await load_media_and_files(session, media_ids, file_ids, url_for)
    if public:
        for portfolio_id, items in related["meta"].items():
            related["meta"][portfolio_id] = [item for item in items if not is_private(item.key)]
    return [_payload(row, related, employers, media, files) for row in rows]


def _payload(
    row: Any,
    related: dict[str, dict[int, list[Any]]],
    employers: dict[int, Any],
    media: dict[int, dict[str, Any]],
    files: dict[int, dict[str, Any]],
) -> dict[str, Any]:
    employer = employers.get(row.employer_id) if row.employer_id else None
    gallery = [media.get(item.media_id) for item in related["gallery"].get(row.id, ())]
    return {
        "id": row.id,
        "title": row.title,
        "slug": row.slug,
        "excerpt": row.excerpt,
        "order": row.order,
        "image_data": media.get(row.image_id) if row.image_id else None,
        "employer_data": employer_payload(employer, media) if employer else None,
        "tags_data": [tag_payload(tag, media) for tag in related["tags"].get(row.id, ())],
        "links_data": [link_data(link, media) for link in related["links"].get(row.id, ())],
        "is_active": row.is_active,
        "completed_at": drf_datetime(row.completed_at) if row.completed_at else None,
        "created_at": drf_datetime(row.created_at),
        "updated_at": drf_datetime(row.updated_at),
        "description": row.description,
        "images_data": [image for image in gallery if image is not None],
        "meta": [meta_payload(item, files) for item in related["meta"].get(row.id, ())],
    }


MediaLookup = Callable[[Any], ColumnElement[Any]]


def _referenced_media(in_page: Any) -> Any:
    """The ids of the media files the portfolios `in_page` show as image objects."""
    return union(
        select(Portfolio.image_id.label("id")).where(Portfolio.id == in_page),
        select(Tag.image_id)
        .join(portfolio_tags, portfolio_tags.c.tag_id == Tag.id)
        .where(portfolio_tags.c.portfolio_id == in_page),
        select(PortfolioLink.image_id).where(PortfolioLink.portfolio_id == in_page),
        select(portfolio_images.c.media_id).where(portfolio_images.c.portfolio_id == in_page),
        select(Employer.image_id)
        .join(Portfolio, Portfolio.employer_id == Employer.id)
        .where(Portfolio.id == in_page),
    )


def _page_media(in_page: Any) -> MediaLookup:
    return _page_media_cte(in_page)[0]


def _page_media_cte(in_page: Any) -> tuple[MediaLookup, Any]:
    """For a page (the portfolios whose id equals `in_page`): every media object the page
    shows, built once each in a CTE, then looked up.

    Tags, employers and galleries share images: building each object once per page rather
    than once per mention is what makes a nested page cheap for PostgreSQL.
    """
    referenced = _referenced_media(in_page).subquery("referenced")
    media = aliased(MediaFile)
    objects = (
        select(
            media.id,
            media.updated_at,
            media_object_sql(media, MEDIA_PREFIX).label("object"),
        )
        .where(media.id.in_(select(referenced.c.id)))
        .cte("page_media")
    )

    def lookup(media_id: Any) -> ColumnElement[Any]:
        return select(objects.c.object).where(objects.c.id == media_id).scalar_subquery()

    return lookup, objects


def _portfolio_json(media_object: MediaLookup, *, public: bool = False) -> ColumnElement[Any]:
    """`_payload`, written by PostgreSQL for the portfolio row in scope (`public`: without
    private meta)."""
    prefix = MEDIA_PREFIX
    tag_item = func.json_build_object(
        "id", Tag.id, "name", Tag.name, "image_data", media_object(Tag.image_id)
    )  # fmt: skip
    tags = (
        select(json_array(tag_item, portfolio_tags.c.position))
        .select_from(portfolio_tags.join(Tag, Tag.id == portfolio_tags.c.tag_id))
        .where(portfolio_tags.c.portfolio_id == Portfolio.id)
        .scalar_subquery()
    )
    link_item = func.json_build_object(
        "id", PortfolioLink.id,
        "name", PortfolioLink.name,
        "url", PortfolioLink.url,
        "description", PortfolioLink.description,
        "image_data", media_object(PortfolioLink.image_id),
    )  # fmt: skip
    links = (
        select(json_array(link_item, *repository.LINK_ORDER))
        .where(PortfolioLink.portfolio_id == Portfolio.id)
        .scalar_subquery()
    )
    gallery = (
        select(json_array(media_object(portfolio_images.c.media_id), portfolio_images.c.position))
        .where(portfolio_images.c.portfolio_id == Portfolio.id)
        .scalar_subquery()
    )
    meta_item = func.json_build_object(
        "id", PortfolioMeta.id,
        "key", PortfolioMeta.key,
        "value_text", PortfolioMeta.value_text,
        "value_file", file_by_id_sql(PortfolioMeta.value_file_id, prefix),
    )  # fmt: skip
    meta_rows = select(json_array(meta_item, PortfolioMeta.id)).where(
        PortfolioMeta.portfolio_id == Portfolio.id
    )
    if public:
        meta_rows = meta_rows.where(func.left(PortfolioMeta.key, 1) != constant("'_'"))
    meta = meta_rows.scalar_subquery()
    employer = (
        select(
            func.json_build_object(
                "id",
                Employer.id,
                "name",
                Employer.name,
                "image_data",
                media_object(Employer.image_id),
                "description",
                Employer.description,
            )
        )
        .where(Employer.id == Portfolio.employer_id)
        .scalar_subquery()
    )
    return func.json_build_object(
        "id", Portfolio.id,
        "title", Portfolio.title,
        "slug", Portfolio.slug,
        "excerpt", Portfolio.excerpt,
        "order", Portfolio.order,
        "image_data", media_object(Portfolio.image_id),
        "employer_data", employer,
        "tags_data", tags,
        "links_data", links,
        "is_active", Portfolio.is_active,
        "completed_at", drf_datetime_sql(Portfolio.completed_at),
        "created_at", drf_datetime_sql(Portfolio.created_at),
        "updated_at", drf_datetime_sql(Portfolio.updated_at),
        "description", Portfolio.description,
        "images_data", gallery,
        "meta", meta,
    )  # fmt: skip


# Built once at import: the statements PostgreSQL answers with finished JSON. One portfolio
# has a statement of its own: its plan, made once, looks rows up by an `= $1` through the
# indexes, whatever the table size (an array of ids may be planned as a scan of the table).
_IN_PAGE = func.any(PAGE_IDS)
_PORTFOLIO_ID = bindparam("id", type_=BigInteger)


def _page_json(ids: Any, *, public: bool = False) -> AnySelect:
    """The JSON array of the portfolios whose ids are in the array `ids`, in that order."""
    in_page = func.any(ids)
    page = _portfolio_json(_page_media(in_page), public=public)
    return select(as_utf8(ordered_json_array(page, Portfolio.id, ids))).where(
        Portfolio.id == in_page
    )


def _pages_json(public: bool) -> Prepared:
    return Prepared(_page_json(PAGE_IDS, public=public))


def _one_json(public: bool) -> Prepared:
    one = _portfolio_json(_page_media(_PORTFOLIO_ID), public=public)
    return Prepared(select(as_utf8(one)).where(Portfolio.id == _PORTFOLIO_ID))


def _shown_keys_and_newest(page_media: Any) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """For the public page of `:ids`: the surrogate keys of every object its JSON shows (space
    separated), and the newest `updated_at` among them, so that the page's JSON need not be
    read again to describe it. `page_media` is the page's image objects, built once for its
    JSON; its meta's files are looked up here. What is shown is what exists: a trashed tag,
    employer or file keeps its references but is not in its table."""
    in_page = _IN_PAGE

    def keyed(prefix: str, column: Any) -> ColumnElement[Any]:
        return constant(f"'{prefix}-'").op("||")(cast(column, Text)).label("key")

    files = select(MediaFile.id, MediaFile.updated_at).where(
        MediaFile.id.in_(
            select(PortfolioMeta.value_file_id).where(
                PortfolioMeta.portfolio_id == in_page,
                func.left(PortfolioMeta.key, 1) != constant("'_'"),
            )
        )
    )
    shown_media = union(select(page_media.c.id, page_media.c.updated_at), files).subquery()
    keys = union_all(
        select(keyed("portfolio", Portfolio.id)).where(Portfolio.id == in_page),
        select(keyed("employer", Employer.id))
        .join(Portfolio, Portfolio.employer_id == Employer.id)
        .where(Portfolio.id == in_page)
        .distinct(),
        select(keyed("tag", Tag.id))
        .join(portfolio_tags, portfolio_tags.c.tag_id == Tag.id)
        .where(portfolio_tags.c.portfolio_id == in_page)
        .distinct(),
        select(keyed("media", shown_media.c.id)),
    ).subquery("shown")
    newest = union_all(
        select(Portfolio.updated_at.label("at")).where(Portfolio.id == in_page),
        select(shown_media.c.updated_at),
    ).subquery("times")
    return (
        select(func.string_agg(keys.c.key, constant("' '"))).scalar_subquery(),
        select(func.max(newest.c.at)).scalar_subquery(),
    )


def _public_pages_json() -> Prepared:
    lookup, page_media = _page_media_cte(_IN_PAGE)
    page = _portfolio_json(lookup, public=True)
    keys, newest = _shown_keys_and_newest(page_media)
    return Prepared(
        select(as_utf8(ordered_json_array(page, Portfolio.id)), keys, newest).where(
            Portfolio.id == _IN_PAGE
        )
    )


# By `public`: the staff's statements, and the website's (without private meta).
PORTFOLIOS_JSON = {public: _pages_json(public) for public in (False, True)}
# The staff's page without filters, search or ordering, in one statement.
PLAIN_PAGE_JSON = whole_page_json(
    select(Portfolio.id), Portfolio.id, repository.DEFAULT_ORDER_BY, _page_json
)
PUBLIC_PAGE_DESCRIBED = _public_pages_json()
PORTFOLIO_JSON = {public: _one_json(public) for public in (False, True)}


async def portfolio_json(
    session: AsyncSession, portfolio_id: int, prefix: str, *, public: bool = False
) -> bytes | None:
    """One portfolio's JSON written by PostgreSQL (UTF-8), or None if there is no such
    portfolio."""
    found: bytes | None = await PORTFOLIO_JSON[public].scalar(
        session, {"id": portfolio_id, "media_prefix": prefix}
    )
    return found


async def one_portfolio(
    session: AsyncSession, portfolio_id: int, url_for: MediaUrls, *, public: bool = False
) -> bytes:
    """The portfolio's JSON body as the seed shows it, or 404 (on PostgreSQL written by the
    database, in one statement)."""
    if uses_database_json(session, url_for.prefix):
        assert url_for.prefix is not None
        found = await portfolio_json(session, portfolio_id, url_for.prefix, public=public)
        if found is None:
            raise NotFound()
        return found
    rows = await repository.portfolio_rows(session, portfolio_id)
    if not rows:
        raise NotFound()
    payloads = await portfolio_payloads(session, rows, url_for, public=public)
    return json_body(payloads[0])


Described = tuple[list[str], datetime | None]  # surrogate keys, newest `updated_at`


async def public_page(
    session: AsyncSession, query: PortfolioQuery, page: PageRequest, url_for: MediaUrls
) -> tuple[int, bytes, Described | None]:
    """`portfolio_page(public=True)`, and on PostgreSQL what the page shows, written with it
    (None: read it off the JSON)."""
    if not uses_database_json(session, url_for.prefix):
        count, results = await portfolio_page(session, query, page, url_for, public=True)
        return count, results, None
    statement = repository.select_portfolios(query)
    total, ids = await page_ids(session, statement, Portfolio.id, repository.order_by(query), page)
    if total is None:
        count, _rows = await fetch_page(session, statement, page)
        return count, b"[]", ([], None)
    params = {"ids": ids, "media_prefix": url_for.prefix}
    results, keys, newest = (await PUBLIC_PAGE_DESCRIBED.rows(session, params))[0]
    return total, results, (keys.split(" ") if keys else [], newest)


async def portfolio_page(
    session: AsyncSession,
    query: PortfolioQuery,
    page: PageRequest,
    url_for: MediaUrls,
    *,
    public: bool = False,
) -> tuple[int, bytes]:
    """The total and the page's results as a JSON array (UTF-8).

    On PostgreSQL the staff's plain page takes one statement, any other two (ids, then JSON)
    and a count for an empty page; in Python
    the page's rows, then the related rows, a query per table."""
    database_json = uses_database_json(session, url_for.prefix)
    if database_json and not public and repository.is_plain(query):
        params = {"media_prefix": url_for.prefix}
        total, results = await whole_page(session, PLAIN_PAGE_JSON, page, params)
        if total is not None:
            return total, results
    statement = repository.select_portfolios(query)
    order_by = repository.order_by(query)
    if database_json:
        total, results = await json_page(
            session, statement, Portfolio.id, order_by, page,
            PORTFOLIOS_JSON[public], {"media_prefix": url_for.prefix},
        )  # fmt: skip
        if total is None:  # an empty page: how much was skipped?
            total, _rows = await fetch_page(session, statement, page)
        return total, results
    count, rows = await fetch_page(session, statement.order_by(*order_by), page)
    payloads = await portfolio_payloads(session, rows, url_for, public=public)
    return count, json_body(payloads)
