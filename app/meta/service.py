"""Meta item reads and writes: the portfolio must exist, a key is unique within it, and
`value_file` names a media file. Adds and flushes; the request's unit of work commits."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import FieldChanges, apply_changes, get_or_404
from app.common.listing import ListQuery
from app.common.pagination import PageRequest
from app.common.parents import require_portfolio
from app.common.references import ErrorCollector, check_files, check_unique
from app.meta import repository
from app.models import PortfolioMeta
from app.trash.bin import move_to_trash

RENAMED = {"value_file": "value_file_id"}


async def validate(
    session: AsyncSession, portfolio_id: int, changes: dict[str, Any], meta_id: int | None = None
) -> None:
    errors = ErrorCollector()
    if "key" in changes:
        await check_unique(
            session,
            errors,
            PortfolioMeta.key,
            changes["key"],
            except_id=meta_id,
            scope=PortfolioMeta.portfolio_id == portfolio_id,
            scope_key=portfolio_id,
        )
    await check_files(session, errors, "value_file", [changes.get("value_file")])
    errors.raise_if_any()


async def list_page(
    session: AsyncSession, page: PageRequest, portfolio_id: int, query: ListQuery
) -> tuple[int, list[Any]]:
    """The total and one page of rows; 404 if the portfolio does not exist."""
    count, rows = await repository.list_page(session, page, portfolio_id, query)
    if not rows:  # items found prove the portfolio exists; none might mean it does not
        await require_portfolio(session, portfolio_id)
    return count, rows


async def get_any(session: AsyncSession, meta_id: int) -> PortfolioMeta:
    """The item whatever its portfolio, or 404."""
    return await get_or_404(session, PortfolioMeta, meta_id)


async def get(session: AsyncSession, portfolio_id: int, meta_id: int) -> PortfolioMeta:
    return await repository.get(session, portfolio_id, meta_id)


async def create(
    session: AsyncSession, portfolio_id: int, changes: dict[str, Any]
) -> PortfolioMeta:
    await require_portfolio(session, portfolio_id)
    await validate(session, portfolio_id, changes)
    item = PortfolioMeta(portfolio_id=portfolio_id)
    apply_changes(item, changes, RENAMED)
    session.add(item)
    await session.flush()
    return item


async def update(
    session: AsyncSession, portfolio_id: int, meta_id: int, changes: dict[str, Any]
) -> tuple[PortfolioMeta, FieldChanges]:
    """Apply the validated changes to the item, locked until the request commits."""
    item = await repository.get(session, portfolio_id, meta_id, for_update=True)
    await validate(session, portfolio_id, changes, item.id)
    changed = apply_changes(item, changes, RENAMED)
    await session.flush()
    return item, changed


async def locked(session: AsyncSession, portfolio_id: int, meta_id: int) -> PortfolioMeta:
    """The item, locked for a delete (404 if the portfolio has no such item)."""
    return await repository.get(session, portfolio_id, meta_id, for_update=True)


async def delete(session: AsyncSession, item: PortfolioMeta) -> None:
    """Into the trash."""
    await move_to_trash(session, "meta", item.id)
