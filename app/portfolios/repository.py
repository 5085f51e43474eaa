"""Portfolio reads: the seed's full nested shape for any number of portfolios, in a fixed
number of queries (one per related table), selecting only the columns the response shows."""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, BindParameter, ColumnElement, bindparam, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.common.json_sql import (
    MEDIA_PREFIX,
    PAGE_IDS,
    as_text,
    drf_datetime_sql,
    file_by_id_sql,
    json_array,
    media_object_sql,
    ordered_json_array,
    thumbnails_sql,
)
from app.common.schemas import drf_datetime
from app.common.sql import AnySelect, Prepared, read
from app.employers.read_model import employer_payload
from app.links.read_model import link_data
from app.media.repository import load_media_and_files
from app.media.serialize import UrlFor
from app.meta.read_model import meta_payload
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
from app.tags.read_model import tag_payload

PORTFOLIO_COLUMNS = (
    Portfolio.id,
    Portfolio.title,
    Portfolio.slug,
    Portfolio.excerpt,
    Portfolio.order,
    Portfolio.image_id,
    Portfolio.employer_id,
    Portfolio.is_active,
    Portfolio.completed_at,
    Portfolio.created_at,
    Portfolio.updated_at,
    Portfolio.description,
)
LINK_ORDER = (PortfolioLink.order, PortfolioLink.created_at.desc(), PortfolioLink.id.desc())


def select_portfolios() -> AnySelect:
    return select(*PORTFOLIO_COLUMNS)


def _grouped(rows: Any) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.portfolio_id].append(row)
    return grouped


IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
# Built once: constructing and cache-keying statements costs more than running them.
TAGS = (
    select(portfolio_tags.c.portfolio_id, Tag.id, Tag.name, Tag.image_id)
    .join(Tag, Tag.id == portfolio_tags.c.tag_id)
    .where(portfolio_tags.c.portfolio_id.in_(IDS))
    .order_by(portfolio_tags.c.portfolio_id, portfolio_tags.c.position)
)
GALLERY = (
    select(portfolio_images.c.portfolio_id, portfolio_images.c.media_id)
    .where(portfolio_images.c.portfolio_id.in_(IDS))
    .order_by(portfolio_images.c.portfolio_id, portfolio_images.c.position)
)
LINKS = (
    select(
        PortfolioLink.portfolio_id,
        PortfolioLink.id,
        PortfolioLink.name,
        PortfolioLink.url,
        PortfolioLink.description,
        PortfolioLink.image_id,
    )
    .where(PortfolioLink.portfolio_id.in_(IDS))
    .order_by(PortfolioLink.portfolio_id, *LINK_ORDER)
)
META = (
    select(
        PortfolioMeta.portfolio_id,
        PortfolioMeta.id,
        PortfolioMeta.key,
        PortfolioMeta.value_text,
        PortfolioMeta.value_file_id,
    )
    .where(PortfolioMeta.portfolio_id.in_(IDS))
    .order_by(PortfolioMeta.portfolio_id, PortfolioMeta.id)
)
EMPLOYERS = select(Employer.id, Employer.name, Employer.description, Employer.image_id).where(
    Employer.id.in_(IDS)
)
ONE_PORTFOLIO = select(*PORTFOLIO_COLUMNS).where(Portfolio.id == bindparam("id"))


async def _related(session: AsyncSession, ids: list[int]) -> dict[str, dict[int, list[Any]]]:
    params = {"ids": ids}
    return {
        name: _grouped(await read(session, statement, params))
        for name, statement in (
            ("tags", TAGS),
            ("gallery", GALLERY),
            ("links", LINKS),
            ("meta", META),
        )
    }


async def get_portfolio_rows(session: AsyncSession, portfolio_id: int) -> list[Any]:
    return list(await read(session, ONE_PORTFOLIO, {"id": portfolio_id}))


async def portfolio_payloads(
    session: AsyncSession, rows: list[Any], url_for: UrlFor
) -> list[dict[str, Any]]:
    """The seed's portfolio objects for `rows` (anything with the portfolio columns)."""
    if not rows:
        return []
    related = await _related(session, [row.id for row in rows])
    employer_ids = {row.employer_id for row in rows if row.employer_id}
    employers = {}
    if employer_ids:
        result = await read(session, EMPLOYERS, {"ids": list(employer_ids)})
        employers = {employer.id: employer for employer in result}
    media_ids = [row.image_id for row in rows]
    media_ids += [employer.image_id for employer in employers.values()]
    for group in ("tags", "links"):
        media_ids += [item.image_id for items in related[group].values() for item in items]
    media_ids += [item.media_id for items in related["gallery"].values() for item in items]
    file_ids = [item.value_file_id for items in related["meta"].values() for item in items]
    media, files = await load_media_and_files(session, media_ids, file_ids, url_for)
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


def _page_media(in_page: Any) -> MediaLookup:
    """For a page (the portfolios whose id equals `in_page`): every media object the page
    shows, built once each in a CTE, then looked up.

    Tags, employers and galleries share images: building each object once per page rather
    than once per mention is what makes a nested page cheap for PostgreSQL.
    """
    referenced = union(
        select(Portfolio.image_id.label("id")).where(Portfolio.id == in_page),
        select(Tag.image_id)
        .join(portfolio_tags, portfolio_tags.c.tag_id == Tag.id)
        .where(portfolio_tags.c.portfolio_id == in_page),
        select(PortfolioLink.image_id).where(PortfolioLink.portfolio_id == in_page),
        select(portfolio_images.c.media_id).where(portfolio_images.c.portfolio_id == in_page),
        select(Employer.image_id)
        .join(Portfolio, Portfolio.employer_id == Employer.id)
        .where(Portfolio.id == in_page),
    ).subquery("referenced")
    media = aliased(MediaFile)
    objects = (
        select(
            media.id,
            media_object_sql(media, thumbnails_sql(media, MEDIA_PREFIX), MEDIA_PREFIX).label(
                "object"
            ),
        )
        .where(media.id.in_(select(referenced.c.id)))
        .cte("page_media")
    )

    def lookup(media_id: Any) -> ColumnElement[Any]:
        return select(objects.c.object).where(objects.c.id == media_id).scalar_subquery()

    return lookup


def _portfolio_json(media_object: MediaLookup) -> ColumnElement[Any]:
    """`_payload`, written by PostgreSQL for the portfolio row in scope."""
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
        select(json_array(link_item, *LINK_ORDER))
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
    meta = (
        select(json_array(meta_item, PortfolioMeta.id))
        .where(PortfolioMeta.portfolio_id == Portfolio.id)
        .scalar_subquery()
    )
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
PORTFOLIOS_JSON = Prepared(
    select(as_text(ordered_json_array(_portfolio_json(_page_media(_IN_PAGE)), Portfolio.id))).where(
        Portfolio.id == _IN_PAGE
    )
)
_PORTFOLIO_ID = bindparam("id", type_=BigInteger)
PORTFOLIO_JSON = Prepared(
    select(as_text(_portfolio_json(_page_media(_PORTFOLIO_ID)))).where(
        Portfolio.id == _PORTFOLIO_ID
    )
)


async def portfolio_json(session: AsyncSession, portfolio_id: int, prefix: str) -> str | None:
    """One portfolio's JSON written by PostgreSQL, or None if there is no such portfolio."""
    found: str | None = await PORTFOLIO_JSON.scalar(
        session, {"id": portfolio_id, "media_prefix": prefix}
    )
    return found
