"""Moving an object into the trash and back, by rows: what each kind takes with it, what
pointed at it, which of its values stay reserved. Knows tables only (every feature's delete
uses it); reading objects back for the API is app.trash.service's."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import BadRequest, NotFound
from app.events.outbox import current_actor
from app.models import (
    Base,
    Employer,
    MediaFile,
    MediaThumbnail,
    MediaVariant,
    Portfolio,
    PortfolioLink,
    PortfolioMeta,
    Tag,
    TrashItem,
    TrashReservation,
    portfolio_images,
    portfolio_tags,
)
from app.models.base import UTCDateTime, utcnow


def _table(model: Any) -> Table:
    table: Table = model if isinstance(model, Table) else model.__table__
    return table


@dataclass(frozen=True)
class Taken:
    """Rows of `table` whose `column` is the object's id go with it."""

    table: Table
    column: str


@dataclass(frozen=True)
class Kind:
    name: str
    table: Table
    label: str
    unique: tuple[str, ...] = ()
    scope: str | None = None  # the column a unique value is unique within (meta: portfolio)
    parent: str | None = None  # the column naming the portfolio of a child
    takes: tuple[Taken, ...] = ()
    # References to the object that the database empties when it goes (ON DELETE SET NULL).
    referenced_by: tuple[Taken, ...] = field(default_factory=tuple)

    @property
    def tables(self) -> tuple[Table, ...]:
        """Where the rows kept for this kind come from."""
        return (self.table, *(taken.table for taken in self.takes))


def _media_references() -> tuple[Taken, ...]:
    return (
        Taken(_table(Portfolio), "image_id"),
        Taken(_table(PortfolioLink), "image_id"),
        Taken(_table(Employer), "image_id"),
        Taken(_table(Tag), "image_id"),
        Taken(_table(PortfolioMeta), "value_file_id"),
    )


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "portfolio",
            _table(Portfolio),
            "title",
            unique=("title", "slug"),
            takes=(
                Taken(_table(PortfolioLink), "portfolio_id"),
                Taken(_table(PortfolioMeta), "portfolio_id"),
                Taken(portfolio_tags, "portfolio_id"),
                Taken(portfolio_images, "portfolio_id"),
            ),
        ),
        Kind("link", _table(PortfolioLink), "name", parent="portfolio_id"),
        Kind(
            "meta",
            _table(PortfolioMeta),
            "key",
            unique=("key",),
            scope="portfolio_id",
            parent="portfolio_id",
        ),
        Kind(
            "employer",
            _table(Employer),
            "name",
            unique=("name",),
            referenced_by=(Taken(_table(Portfolio), "employer_id"),),
        ),
        Kind(
            "tag", _table(Tag), "name", unique=("name",), takes=(Taken(portfolio_tags, "tag_id"),)
        ),
        Kind(
            "media",
            _table(MediaFile),
            "name",
            takes=(
                Taken(_table(MediaThumbnail), "file_id"),
                Taken(_table(MediaVariant), "file_id"),
                Taken(portfolio_images, "media_id"),
            ),
            referenced_by=_media_references(),
        ),
    )
}


_KIND_OF_TABLE = {kind.table.name: kind.name for kind in KINDS.values()}


def _stored(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _loaded(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: datetime.fromisoformat(value)
        if value is not None and isinstance(table.c[name].type, UTCDateTime)
        else value
        for name, value in row.items()
    }


async def _rows(session: AsyncSession, table: Table, condition: Any) -> list[dict[str, Any]]:
    found = await session.execute(select(table).where(condition))
    return [{key: _stored(value) for key, value in row.items()} for row in found.mappings()]


async def move_to_trash(
    session: AsyncSession, kind_name: str, object_id: int, files: Sequence[str] = ()
) -> TrashItem:
    """Take the (locked) object and what goes with it out of the live tables, into the trash,
    deleted by the session's actor. Objects of it the session holds are forgotten."""
    kind = KINDS[kind_name]
    actor, _via = current_actor(session)
    found = await _rows(session, kind.table, kind.table.c.id == object_id)
    if not found:
        raise NotFound()
    row = found[0]
    rows = {kind.table.name: [row]}
    for taken in kind.takes:
        rows.setdefault(taken.table.name, []).extend(
            await _rows(session, taken.table, taken.table.c[taken.column] == object_id)
        )
    repairs = []
    for reference in kind.referenced_by:
        table = reference.table
        ids = await session.scalars(
            select(table.c.id).where(table.c[reference.column] == object_id)
        )
        repairs += [[table.name, reference.column, row_id] for row_id in ids]
    item = TrashItem(
        kind=kind.name,
        object_id=object_id,
        label=str(row[kind.label])[:500],
        parent_id=row[kind.parent] if kind.parent else None,
        rows=rows,
        repairs=repairs,
        files=list(files),
        deleted_at=utcnow(),
        deleted_by_id=actor["id"] if actor else None,
        deleted_by_username=actor["username"] if actor else None,
    )
    session.add(item)
    await session.flush()
    scope = str(row[kind.scope]) if kind.scope else ""
    for column in kind.unique:
        session.add(
            TrashReservation(
                table=kind.table.name,
                column=column,
                scope=scope,
                value=str(row[column]),
                item_id=item.id,
            )
        )
    # The database takes what goes with it (ON DELETE CASCADE) and empties references to it.
    await session.execute(delete(kind.table).where(kind.table.c.id == object_id))
    for held in list(session.identity_map.values()):
        if (
            getattr(held, "__table__", None) is kind.table
            and getattr(held, "id", None) == object_id
        ):
            session.expunge(held)
    return item


async def locked_item(session: AsyncSession, kind_name: str, object_id: int) -> TrashItem:
    if kind_name not in KINDS:
        raise NotFound()
    item = await session.scalar(
        select(TrashItem)
        .where(TrashItem.kind == kind_name, TrashItem.object_id == object_id)
        .with_for_update()
    )
    if item is None:
        raise NotFound()
    return item


async def _exists(session: AsyncSession, table: Table, row_id: Any) -> bool:
    """Whether the row is live; it then stays so until this transaction ends (FOR KEY SHARE:
    a concurrent delete of it waits, rather than break the reference restored to it)."""
    found = await session.execute(
        select(table.c.id).where(table.c.id == row_id).with_for_update(read=True, key_share=True)
    )
    return found.first() is not None


async def _in_trash(session: AsyncSession, table: Table, object_id: Any) -> TrashItem | None:
    kind = _KIND_OF_TABLE.get(table.name)
    if kind is None:
        return None
    found: TrashItem | None = await session.scalar(
        select(TrashItem)
        .where(TrashItem.kind == kind, TrashItem.object_id == object_id)
        .with_for_update()
    )
    return found


async def _resolved(
    session: AsyncSession, table: Table, stored: dict[str, Any]
) -> dict[str, Any] | None:
    """The row as it can come back. A reference to an object that is not live is emptied where
    the column allows it (a link's image), else the row stays out (a tag's place in a portfolio
    that is not live). When that object waits in the trash, it takes the reference along, to
    set it back on its own restore; when it was purged, the reference is gone."""
    row = _loaded(table, stored)
    for foreign_key in table.foreign_keys:
        name = foreign_key.parent.name
        value = row.get(name)
        if value is None or await _exists(session, foreign_key.column.table, value):
            continue
        waiting = await _in_trash(session, foreign_key.column.table, value)
        if not foreign_key.parent.nullable:
            if waiting is not None:
                waiting.rows = {
                    **waiting.rows,
                    table.name: [*waiting.rows.get(table.name, []), stored],
                }
            return None
        row = {**row, name: None}
        if waiting is not None:
            waiting.repairs = [*waiting.repairs, [table.name, name, row["id"]]]
    return row


async def put_back(session: AsyncSession, item: TrashItem) -> None:
    """The object's rows back in the live tables, with their ids and timestamps; references to it
    that nobody changed meanwhile come back (without moving the `updated_at` of what they are
    in: nobody edited those)."""
    kind = KINDS[item.kind]
    parent_gone = kind.parent is not None and item.parent_id is not None
    if parent_gone and not await _exists(session, _table(Portfolio), item.parent_id):
        raise BadRequest(f"Restore portfolio {item.parent_id} first.")
    await _free_reservations(session, item)
    tables = Base.metadata.tables
    for table_name, rows in item.rows.items():
        table = tables[table_name]
        for stored in rows:
            row = await _resolved(session, table, stored)
            if row is not None:
                await session.execute(insert(table).values(row))
    for table_name, column, row_id in item.repairs:
        await _repair(session, tables[table_name], column, row_id, item.object_id)
    await session.delete(item)
    await session.flush()


async def _repair(
    session: AsyncSession, table: Table, column: str, row_id: int, object_id: int
) -> None:
    """Point the row back at the restored object, if nobody changed the reference meanwhile.
    A row that is in the trash itself gets it in its kept copy, for its own restore."""
    unchanged = {"updated_at": table.c.updated_at} if "updated_at" in table.c else {}
    repaired = await session.execute(
        update(table)
        .where(and_(table.c.id == row_id, table.c[column].is_(None)))
        .values({column: object_id, **unchanged})
    )
    if repaired.rowcount:  # type: ignore[attr-defined]
        return
    holders = [kind.name for kind in KINDS.values() if table in kind.tables]
    for holder in await session.scalars(
        select(TrashItem).where(TrashItem.kind.in_(holders)).with_for_update()
    ):
        kept = holder.rows.get(table.name, [])
        if any(row.get("id") == row_id and row.get(column) is None for row in kept):
            rows = [{**row, column: object_id} if row.get("id") == row_id else row for row in kept]
            holder.rows = {**holder.rows, table.name: rows}
            return


async def _free_reservations(session: AsyncSession, item: TrashItem) -> None:
    await session.execute(delete(TrashReservation).where(TrashReservation.item_id == item.id))


async def purge(session: AsyncSession, item: TrashItem) -> tuple[list[str], list[TrashItem]]:
    """Gone for good (a portfolio with its trashed links and meta): the storage keys to remove
    once this commits, and the children purged with it."""
    files = list(item.files)
    await _free_reservations(session, item)
    await session.delete(item)
    children: list[TrashItem] = []
    if item.kind == "portfolio":
        children = list(
            await session.scalars(
                select(TrashItem)
                .where(TrashItem.kind.in_(("link", "meta")), TrashItem.parent_id == item.object_id)
                .with_for_update()
            )
        )
        for child in children:
            await _free_reservations(session, child)
            await session.delete(child)
    await session.flush()
    return files, children
