"""JSON built by PostgreSQL, byte for byte the values the Python serialisers produce.

Hot read paths on PostgreSQL ask the database for the finished JSON of a whole page: one query,
no rows turned into Python objects and back. Each helper mirrors a Python function, and tests
compare the two outputs on the same data.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Float,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.util import ClauseAdapter, unwrap_order_by

from app.common.pagination import PageRequest
from app.common.sql import AnySelect, Prepared, read
from app.models import MediaFile, MediaThumbnail, MediaVariant

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


def json_array(element: Any, *order_by: Any) -> ColumnElement[Any]:
    """`json_agg` in a given order, `[]` rather than NULL when there is nothing."""
    return func.coalesce(
        func.json_agg(aggregate_order_by(element, *order_by)), constant("'[]'::json")
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


def built_media_object_sql(media: Any, prefix: Any) -> ColumnElement[Any]:
    """`media_payload` built from the file's row and renditions: an image object for images, a
    file object otherwise, NULL for none. What the triggers keep in `media_file.object_json`
    (with an empty prefix): tests/media/test_stored_objects.py holds the two equal."""
    focal_point = case(
        (media.focal_x.is_(None), null()),
        else_=func.json_build_object("x", media.focal_x, "y", media.focal_y),
    )
    image = func.json_build_object(
        *file_json(media, prefix),
        "width", media.width,
        "height", media.height,
        "mode", media.mode,
        "thumbnails", thumbnails_sql(media, prefix),
        "focal_point", focal_point,
        "placeholder", media.placeholder,
        "variants", variants_sql(media, prefix),
        *file_extras(media),
    )  # fmt: skip
    other = func.json_build_object(*file_json(media, prefix), *file_extras(media))
    return case((media.id.is_(None), null()), (media.kind == "image", image), else_=other)


# The key of every URL in a file object; within a JSON string a quote is always escaped, so
# this text can only be a key.
_URL_KEY = """'"f" : "'"""  # as SQL text, quoted


def media_object_sql(media: Any, prefix: Any) -> ColumnElement[Any]:
    """`media_payload` as the triggers keep it (`media.object_json`, URLs without a prefix)
    with `prefix` put in front of each URL, NULL for none. Building the object on each read
    cost PostgreSQL about 30 µs a file (its thumbnails, variants, size and times)."""
    escaped = func.left(cast(func.to_json(prefix), Text), constant("-1"))  # "…, no closing "
    with_prefix = func.replace(
        media.object_json, constant(_URL_KEY), constant("""'"f" : '""").op("||")(escaped)
    )
    return case((media.id.is_(None), null()), else_=cast(with_prefix, JSON))


def as_text(element: Any) -> ColumnElement[str]:
    """JSON handed over as text, so that nothing parses it on the way to the client."""
    return cast(element, Text)


def as_utf8(element: Any) -> ColumnElement[bytes]:
    """JSON handed over as the UTF-8 bytes of a response body: nothing decodes it into a
    string on the way to the client, nor encodes it back. Text holding any non-ASCII character
    goes through Python's slow paths both ways: 30 µs and 130 µs for a 46 KB portfolio with a
    Persian title, a sixth of a retrieve."""
    return func.convert_to(as_text(element), constant("'UTF8'"))


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


def variants_sql(media: Any, prefix: Any) -> ColumnElement[Any]:
    """The `variants` list of one media row, by box then format: a correlated subquery."""
    variant = aliased(MediaVariant)
    item = func.json_build_object(
        "box", variant.box,
        "format", variant.format,
        "width", variant.width,
        "height", variant.height,
        "f", prefix + variant.url_path,
        "bytes", variant.size,
    )  # fmt: skip
    return (
        select(json_array(item, variant.box, variant.format))
        .where(variant.file_id == media.id)
        .scalar_subquery()
    )


def file_by_id_sql(media_id: Any, prefix: Any) -> ColumnElement[Any]:
    """The file object of `media_id`, without image fields (meta `value_file`)."""
    media = aliased(MediaFile)
    found = func.json_build_object(*file_json(media, prefix), *file_extras(media))
    return select(found).where(media.id == media_id).scalar_subquery()


# Where file URLs start (the storage's prefix for this request), bound at execution.
MEDIA_PREFIX = bindparam("media_prefix", type_=Text)


def embedded_media_sql(prefix: Any) -> tuple[Any, ColumnElement[Any]]:
    """An aliased media table to outer-join, and the file object built from it."""
    media = aliased(MediaFile)
    return media, media_object_sql(media, prefix)


PAGE_IDS = bindparam("ids", type_=ARRAY(BigInteger))


def ordered_json_array(element: Any, id_column: Any, ids: Any = PAGE_IDS) -> ColumnElement[Any]:
    """The objects of the rows whose ids are in `ids` (`:ids`), in the order of `ids`."""
    return json_array(element, func.array_position(ids, id_column))


def whole_page_json(
    statement: AnySelect,
    id_column: Any,
    order_by: Sequence[Any],
    objects: Callable[[Any], AnySelect],
) -> Prepared:
    """A list's unfiltered page in one statement, built once: the total and the JSON array.

    `statement` selects the list's rows (its scope as bound parameters, such as the parent's
    id), `order_by` is the list's default ordering, `:limit` and `:offset` bind the page, and
    `objects(ids)` is the JSON array of the rows whose ids are in the array `ids`, in order.
    The page most requests ask for then costs one round trip and no statement building.

    The page is the first rows by a bounded sort, numbered once they are cut, and the list is
    counted apart: numbering and counting every row in one window (`count(*) OVER ()`) sorted
    the whole list, a third of the statement for a page of portfolios.
    """
    sort_columns = [column for clause in order_by for column in unwrap_order_by(clause)]
    ordered = (
        statement.with_only_columns(id_column.label("id"), *sort_columns)
        .order_by(*order_by)
        .limit(bindparam("limit", type_=BigInteger))
        .offset(bindparam("offset", type_=BigInteger))
        .subquery("ordered")
    )
    in_ordered = ClauseAdapter(ordered)
    position = func.row_number().over(order_by=[in_ordered.traverse(c) for c in order_by])
    page = select(ordered.c.id, position.label("position")).cte("page")
    in_order = select(func.array_agg(aggregate_order_by(page.c.id, page.c.position)))
    ids = cast(in_order.scalar_subquery(), ARRAY(BigInteger))  # an array, not a row set
    total = statement.with_only_columns(func.count(), maintain_column_froms=True)
    return Prepared(select(total.scalar_subquery(), objects(ids).scalar_subquery()))


async def whole_page(
    session: AsyncSession, statement: Prepared, page: PageRequest, params: dict[str, Any]
) -> tuple[int | None, bytes]:
    """Run a `whole_page_json` statement: (total, JSON), or (None, b"[]") for an empty page
    (the caller tells a page past the end from a parent that does not exist)."""
    limits = {"limit": page.limit, "offset": page.offset}
    total, results = (await statement.rows(session, {**params, **limits}))[0]
    return (None, b"[]") if results == b"[]" else (int(total), results)


async def page_ids(
    session: AsyncSession,
    statement: AnySelect,
    id_column: Any,
    order_by: Sequence[Any],
    page: PageRequest,
) -> tuple[int | None, list[int]]:
    """The total and the ids of one page (None and [] for an empty page)."""
    ids_query = (
        statement.with_only_columns(id_column, func.count().over().label("total"))
        .order_by(*order_by)
        .limit(page.limit)
        .offset(page.offset)
    )
    rows = [tuple(row) for row in await read(session, ids_query)]
    if not rows:
        return None, []
    return int(rows[0][1]), [row[0] for row in rows]


async def json_page(
    session: AsyncSession,
    statement: AnySelect,
    id_column: Any,
    order_by: Sequence[Any],
    page: PageRequest,
    objects: Prepared,
    params: dict[str, Any],
) -> tuple[int | None, bytes]:
    """One page as a JSON array written by PostgreSQL, and the total count (None if empty).

    Two queries: the page's ids from `statement` (built per request, small), then `objects`,
    a statement built once at import that turns `:ids` into the JSON array in their order
    (with `params` for its other parameters, such as the media URL prefix).
    Building the JSON expression itself per request would cost more than it saves.
    """
    total, ids = await page_ids(session, statement, id_column, order_by, page)
    if total is None:
        return None, b"[]"
    results: bytes = await objects.scalar(session, {**params, "ids": ids})
    return total, results
