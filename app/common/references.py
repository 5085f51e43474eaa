"""Checks that ids in a request name existing objects, collected so that one 400 names all."""

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import ValidationFailed
from app.models import MediaFile, TrashReservation


def does_not_exist(pk: int) -> str:
    return f'Invalid pk "{pk}" - object does not exist.'


class ErrorCollector:
    """Field messages gathered across several checks, raised together as one DRF 400."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


async def existing_ids(
    session: AsyncSession, id_column: InstrumentedAttribute[int], ids: Collection[int]
) -> set[int]:
    if not ids:
        return set()
    return set((await session.execute(select(id_column).where(id_column.in_(ids)))).scalars())


async def check_exist(
    session: AsyncSession,
    errors: ErrorCollector,
    field: str,
    id_column: InstrumentedAttribute[int],
    ids: Iterable[int | None],
) -> None:
    wanted = [pk for pk in ids if pk is not None]
    found = await existing_ids(session, id_column, wanted)
    for pk in wanted:
        if pk not in found:
            errors.add(field, does_not_exist(pk))


async def check_images(
    session: AsyncSession, errors: ErrorCollector, field: str, ids: Iterable[int | None]
) -> None:
    """Each id must name a media file that is an image."""
    await _check_media(session, errors, field, ids, images_only=True)


async def check_files(
    session: AsyncSession, errors: ErrorCollector, field: str, ids: Iterable[int | None]
) -> None:
    await _check_media(session, errors, field, ids, images_only=False)


async def _check_media(
    session: AsyncSession,
    errors: ErrorCollector,
    field: str,
    ids: Iterable[int | None],
    *,
    images_only: bool,
) -> None:
    wanted = [pk for pk in ids if pk is not None]
    if not wanted:
        return
    rows: Any = await session.execute(
        select(MediaFile.id, MediaFile.kind).where(MediaFile.id.in_(wanted))
    )
    kinds = {row.id: row.kind for row in rows}
    for pk in wanted:
        if pk not in kinds:
            errors.add(field, does_not_exist(pk))
        elif images_only and kinds[pk] != "image":
            errors.add(field, f"File {pk} is not an image.")


async def check_unique(
    session: AsyncSession,
    errors: ErrorCollector,
    column: InstrumentedAttribute[Any],
    value: Any,
    *,
    except_id: int | None = None,
    scope: Any = None,
    scope_key: Any = None,
) -> None:
    """DRF's UniqueValidator: `"<model> with this <field> already exists."`. A value a trashed
    object holds is taken too (`scope_key`: the value of `scope`'s column, e.g. the portfolio).

    A race past this check still ends as the same 400: the database constraint decides, and
    its violation is translated by the error handler.
    """
    table = column.class_.__table__
    id_column = column.class_.id
    live = select(id_column).where(column == value)
    if except_id is not None:
        live = live.where(id_column != except_id)
    if scope is not None:
        live = live.where(scope)
    trashed = select(TrashReservation.item_id).where(
        TrashReservation.table == table.name,
        TrashReservation.column == column.key,
        TrashReservation.scope == ("" if scope_key is None else str(scope_key)),
        TrashReservation.value == str(value),
    )
    statement = union_all(live, trashed)  # each at most one row: both are unique
    if (await session.execute(statement)).first() is not None:
        name = table.info.get("verbose_name", table.name)
        errors.add(column.key, f"{name} with this {column.key} already exists.")
