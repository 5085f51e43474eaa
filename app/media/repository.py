"""Media SQL: the list page from the parsed list request, the file objects other resources embed,
a file with its thumbnails (locked for a write), the used storage names, and the ORM writes (add
and flush, never commit). Reads select only the columns a response needs; writes stay ORM."""

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any, NamedTuple

from sqlalchemy import String, bindparam, cast, null, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.common.crud import FieldChanges, apply_changes
from app.common.listing import ListQuery, apply_list_query
from app.common.pagination import PageRequest, fetch_page
from app.common.sql import AnySelect, read
from app.media.naming import with_random_suffix
from app.media.read_model import MediaType, file_payload, media_payload
from app.media.serialize import UrlFor
from app.models import MediaFile, MediaThumbnail, MediaVariant, UsedMediaName

ORDERING_FIELDS = ("id", "name", "size", "created_at", "updated_at")
DEFAULT_ORDER = ("-created_at",)
ORDERING_COLUMNS: dict[str, Any] = {name: getattr(MediaFile, name) for name in ORDERING_FIELDS}

FILE_COLUMNS = (
    MediaFile.id,
    MediaFile.kind,
    MediaFile.name,
    MediaFile.size,
    MediaFile.path,
    MediaFile.mime_type,
    MediaFile.width,
    MediaFile.height,
    MediaFile.mode,
    MediaFile.alt,
    MediaFile.placeholder,
    MediaFile.focal_x,
    MediaFile.focal_y,
    MediaFile.created_at,
    MediaFile.updated_at,
)


def _renditions() -> Any:
    """Thumbnails and variants as one row set (a thumbnail's `format` is NULL), so that a file's
    image fields come in the query that reads it."""
    no_format = cast(null(), String).label("format")
    thumbnails = select(
        MediaThumbnail.file_id,
        MediaThumbnail.id,
        MediaThumbnail.box,
        no_format,
        MediaThumbnail.width,
        MediaThumbnail.height,
        MediaThumbnail.size,
        MediaThumbnail.path,
    )
    variants = select(
        MediaVariant.file_id,
        MediaVariant.id,
        MediaVariant.box,
        MediaVariant.format,
        MediaVariant.width,
        MediaVariant.height,
        MediaVariant.size,
        MediaVariant.path,
    )
    return union_all(thumbnails, variants).subquery("rendition")


RENDITION = _renditions()


NAME_ATTEMPTS = 10
RECORD_NAME = {
    backend.dialect.name: backend.insert(UsedMediaName).on_conflict_do_nothing(
        index_elements=["path"]
    )
    for backend in (postgresql, sqlite)
}


async def claim_name(session: AsyncSession, key: str) -> bool:
    """Record a storage key as used; whether no upload had used it before (it is now ours)."""
    statement = RECORD_NAME[session.get_bind().dialect.name].returning(UsedMediaName.path)
    return (await session.execute(statement, {"path": key})).first() is not None


async def unused_name(session: AsyncSession, key: str) -> str:
    """`key`, or a variant with a random suffix, never given to any upload before (claimed in
    the request's transaction: an upload of the same name at the same time waits for it)."""
    candidate = key
    for _ in range(NAME_ATTEMPTS):
        if await claim_name(session, candidate):
            return candidate
        candidate = with_random_suffix(key)
    raise AssertionError(f"no unused name for {key!r} in {NAME_ATTEMPTS} random attempts")


async def record_names(session: AsyncSession, keys: list[str]) -> None:
    """Record storage keys as used, in one statement (thumbnails of a claimed original)."""
    statement = RECORD_NAME[session.get_bind().dialect.name]
    await session.execute(statement, [{"path": key} for key in keys])


class Rendition(NamedTuple):
    """A thumbnail (no `format`) or a variant of an image."""

    id: int
    box: int
    format: str | None
    width: int
    height: int
    size: int
    path: str


class Renditions(NamedTuple):
    thumbnails: list[Rendition]
    variants: list[Rendition]


def _grouped(rows: Iterable[Any]) -> dict[int, Renditions]:
    """Rows with `rendition_*` columns (NULL id: none), by file, each list by box then format."""
    grouped: dict[int, Renditions] = defaultdict(lambda: Renditions([], []))
    for row in rows:
        if row.rendition_id is None:
            continue
        rendition = Rendition(
            row.rendition_id,
            row.rendition_box,
            row.rendition_format,
            row.rendition_width,
            row.rendition_height,
            row.rendition_size,
            row.rendition_path,
        )
        found = grouped[row.rendition_file_id]
        (found.thumbnails if rendition.format is None else found.variants).append(rendition)
    for found in grouped.values():
        found.thumbnails.sort(key=lambda rendition: rendition.box)
        found.variants.sort(key=lambda rendition: (rendition.box, rendition.format or ""))
    return grouped


NO_RENDITIONS = Renditions([], [])


def image_payload(row: Any, renditions: Renditions, url_for: UrlFor) -> dict[str, Any]:
    return media_payload(row, renditions.thumbnails, url_for, renditions.variants)


RENDITION_COLUMNS = tuple(column.label(f"rendition_{column.name}") for column in RENDITION.c)


def select_files() -> AnySelect:
    return select(*FILE_COLUMNS)


async def list_page(
    session: AsyncSession, page: PageRequest, query: ListQuery, kind: MediaType | None
) -> tuple[int, list[Any]]:
    """The total and one page of file rows (`FILE_COLUMNS`): `query`'s files (of the type
    `kind`, if given), in its order."""
    statement = apply_list_query(select_files(), query, MediaFile.__table__)
    if kind is not None:
        statement = statement.where(MediaFile.kind == kind.value)
    statement = statement.order_by(*query.ordering.clauses(ORDERING_COLUMNS))
    return await fetch_page(session, statement, page)


RENDITIONS_OF_FILES = select(*RENDITION_COLUMNS).where(
    RENDITION.c.file_id.in_(bindparam("ids", expanding=True))
)


async def renditions_by_file(
    session: AsyncSession, file_ids: Collection[int]
) -> dict[int, Renditions]:
    if not file_ids:
        return {}
    return _grouped(await read(session, RENDITIONS_OF_FILES, {"ids": list(file_ids)}))


async def payloads_for_rows(
    session: AsyncSession, rows: list[Any], url_for: UrlFor
) -> list[dict[str, Any]]:
    """File objects for these rows, with their thumbnails and variants in one more query."""
    images = [row.id for row in rows if row.kind == "image"]
    renditions = await renditions_by_file(session, images)
    return [image_payload(row, renditions.get(row.id, NO_RENDITIONS), url_for) for row in rows]


# The files with their thumbnails and variants in one query (a file's row repeats per each).
FILES_WITH_RENDITIONS = (
    select(*FILE_COLUMNS, *RENDITION_COLUMNS)
    .outerjoin(RENDITION, RENDITION.c.file_id == MediaFile.id)
    .where(MediaFile.id.in_(bindparam("ids", expanding=True)))
)


async def _files_with_renditions(
    session: AsyncSession, ids: Collection[int]
) -> tuple[list[Any], dict[int, Renditions]]:
    rows = list(await read(session, FILES_WITH_RENDITIONS, {"ids": list(ids)}))
    files = {row.id: row for row in rows}
    return sorted(files.values(), key=lambda row: row.id), _grouped(rows)


async def load_media(
    session: AsyncSession, ids: Collection[int], url_for: UrlFor
) -> dict[int, dict[str, Any]]:
    """Image objects by id, for resources that embed them: one query, whatever the count."""
    media, _files = await load_media_and_files(session, ids, (), url_for)
    return media


async def load_files(
    session: AsyncSession, ids: Collection[int], url_for: UrlFor
) -> dict[int, dict[str, Any]]:
    """File objects without image fields (meta `value_file`): one query."""
    wanted = {media_id for media_id in ids if media_id is not None}
    if not wanted:
        return {}
    rows = await session.execute(select_files().where(MediaFile.id.in_(wanted)))
    return {row.id: file_payload(row, url_for) for row in rows}


async def load_media_and_files(
    session: AsyncSession, media_ids: Collection[int], file_ids: Collection[int], url_for: UrlFor
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """Image objects for `media_ids` and plain file objects for `file_ids`, in one query."""
    media_wanted = {pk for pk in media_ids if pk is not None}
    file_wanted = {pk for pk in file_ids if pk is not None}
    if not media_wanted and not file_wanted:
        return {}, {}
    rows, renditions = await _files_with_renditions(session, media_wanted | file_wanted)
    media = {
        row.id: image_payload(row, renditions.get(row.id, NO_RENDITIONS), url_for)
        for row in rows
        if row.id in media_wanted
    }
    files = {row.id: file_payload(row, url_for) for row in rows if row.id in file_wanted}
    return media, files


async def get_with_renditions(
    session: AsyncSession, media_id: int, *, for_update: bool = False
) -> MediaFile | None:
    """The file with its thumbnails and variants; a write locks its row (see
    `crud.get_or_404`)."""
    statement = (
        select(MediaFile)
        .where(MediaFile.id == media_id)
        .options(selectinload(MediaFile.thumbnails), selectinload(MediaFile.variants))
    )
    if for_update:
        statement = statement.with_for_update(key_share=True)
    return (await session.execute(statement)).scalar_one_or_none()


async def update(session: AsyncSession, media: MediaFile, changes: dict[str, Any]) -> FieldChanges:
    """The given fields set (and `updated_at` moved), flushed; what changed."""
    changed = apply_changes(media, changes, {})
    await session.flush()
    return changed
