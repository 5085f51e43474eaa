"""JSON built by PostgreSQL, byte for byte the values the Python serialisers produce.

Hot read paths on PostgreSQL ask the database for the finished JSON of a whole page: one query,
no rows turned into Python objects and back. Each helper mirrors a Python function, and tests
compare the two outputs on the same data.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    FromClause,
    Subquery,
    Text,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.common.pagination import PageRequest
from app.common.sql import AnySelect, read
from app.models import MediaFile, MediaThumbnail

UNITS = ("B", "KB", "MB", "GB", "TB")


def constant(sql: str) -> ColumnElement[Any]:
    """Written into the statement, not sent as a parameter: the text stays one cached shape."""
    return literal_column(sql)


def drf_datetime_sql(column: Any) -> ColumnElement[str]:
    """`drf_datetime`: UTC, `Z`, microseconds only when not zero (NULL stays NULL)."""
    utc = func.timezone(constant("'UTC'"), column)
    fraction = case(
        (func.date_trunc(constant("'second'"), column) == column, constant("''")),
        else_=func.to_char(utc, constant("'.US'")),
    )
    return (
        func.to_char(utc, constant("'YYYY-MM-DD\"T\"HH24:MI:SS'"))
        .op("||")(fraction)
        .op("||")(constant("'Z'"))
    )


def human_size_sql(size: Any) -> ColumnElement[str]:
    """`human_readable_size`: /1024 per unit, two decimals rounded half to even as Python's
    format does (PostgreSQL's round() on float8 rounds ties to even too)."""
    branches = []
    for power, unit in enumerate(UNITS):
        scaled = cast(size, Float) / constant(f"{1024**power}.0")
        rounded = func.round(scaled * constant("100")) / constant("100.0")
        text = func.to_char(rounded, constant("'FM999999999990.00'")).op("||")(
            constant(f"' {unit}'")
        )
        if power < len(UNITS) - 1:
            branches.append((size < constant(str(1024 ** (power + 1))), text))
        else:
            return case(*branches, else_=text)
    raise AssertionError("unreachable")


def json_array(element: Any, order_by: Any) -> ColumnElement[Any]:
    """`json_agg` in a given order, `[]` rather than NULL when there is nothing."""
    return func.coalesce(
        func.json_agg(aggregate_order_by(element, order_by)), constant("'[]'::json")
    )


def file_json(media: Any, prefix: Any) -> list[Any]:
    """The key/value arguments of a file object, without image fields."""
    return [
        "id", media.id,
        "type", media.kind,
        "name", media.name,
        "size", media.size,
        "human_readable_size", human_size_sql(media.size),
        "f", prefix + media.url_path,
    ]  # fmt: skip


def file_extras(media: Any) -> list[Any]:
    return [
        "mime_type", media.mime_type,
        "alt", media.alt,
        "created_at", drf_datetime_sql(media.created_at),
        "updated_at", drf_datetime_sql(media.updated_at),
    ]  # fmt: skip


def media_object_sql(media: Any, thumbnails_json: Any, prefix: Any) -> ColumnElement[Any]:
    """`media_payload`: an image object for images, a file object otherwise, NULL for none."""
    image = func.json_build_object(
        *file_json(media, prefix),
        "width", media.width,
        "height", media.height,
        "mode", media.mode,
        "thumbnails", thumbnails_json,
        *file_extras(media),
    )  # fmt: skip
    other = func.json_build_object(*file_json(media, prefix), *file_extras(media))
    return case((media.id.is_(None), null()), (media.kind == "image", image), else_=other)


def as_text(element: Any) -> ColumnElement[str]:
    """JSON handed over as text, so that nothing parses it on the way to the client."""
    return cast(element, Text)


def thumbnails_sql(media: Any, prefix: Any) -> ColumnElement[Any]:
    """The `thumbnails` list of one media row: a correlated subquery."""
    thumbnail = aliased(MediaThumbnail)
    item = func.json_build_object(
        "id", thumbnail.id, "f", prefix + thumbnail.url_path, "size", thumbnail.box
    )  # fmt: skip
    return (
        select(json_array(item, thumbnail.box))
        .where(thumbnail.file_id == media.id)
        .scalar_subquery()
    )


def embedded_media_sql(media_id: Any, prefix: Any) -> tuple[Any, ColumnElement[Any]]:
    """An aliased media table to outer-join on `media_id`, and the object built from it."""
    media = aliased(MediaFile)
    return media, media_object_sql(media, thumbnails_sql(media, prefix), prefix)


PageItem = Callable[[Subquery], tuple[ColumnElement[Any], FromClause]]


async def json_page(
    session: AsyncSession,
    statement: AnySelect,
    order_by: Sequence[Any],
    page: PageRequest,
    build_item: PageItem,
) -> tuple[int | None, str]:
    """One page of `statement` as a JSON array built by PostgreSQL, with the total count.

    `build_item` turns the page subquery into the JSON object of one row and what to select
    it from (joins included). The count is None when the page is empty.
    """
    ordinal = func.row_number().over(order_by=order_by).label("ordinal")
    total = func.count().over().label("total")
    rows = (
        statement.add_columns(ordinal, total)
        .order_by(*order_by)
        .limit(page.limit)
        .offset(page.offset)
        .subquery("page")
    )
    item, source = build_item(rows)
    query = select(func.max(rows.c.total), as_text(json_array(item, rows.c.ordinal)))
    total_count, results = tuple((await read(session, query.select_from(source))).one())
    return total_count, results
