"""Link writes and their rules: the portfolio must exist, the image must be an image."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import FieldChanges
from app.common.parents import require_portfolio
from app.common.references import ErrorCollector, check_images
from app.links import repository
from app.models import PortfolioLink
from app.trash.bin import move_to_trash


async def _validate_image(session: AsyncSession, changes: dict[str, Any]) -> None:
    errors = ErrorCollector()
    await check_images(session, errors, "image", [changes.get("image")])
    errors.raise_if_any()


async def create(
    session: AsyncSession, portfolio_id: int, changes: dict[str, Any]
) -> PortfolioLink:
    """A new link of the portfolio (404 if there is none), flushed: it has its id."""
    await require_portfolio(session, portfolio_id)
    await _validate_image(session, changes)
    return await repository.create(session, portfolio_id, changes)


async def update(
    session: AsyncSession, portfolio_id: int, link_id: int, changes: dict[str, Any]
) -> tuple[PortfolioLink, FieldChanges]:
    """The link with the fields in `changes` set (all of them for a replace), flushed, and
    what that changed."""
    link = await repository.get(session, link_id, portfolio_id, for_update=True)
    await _validate_image(session, changes)
    return link, await repository.update(session, link, changes)


async def locked(session: AsyncSession, portfolio_id: int, link_id: int) -> PortfolioLink:
    """The link, locked for a delete (404 if the portfolio has no such link)."""
    return await repository.get(session, link_id, portfolio_id, for_update=True)


async def delete(session: AsyncSession, link: PortfolioLink) -> None:
    """Into the trash."""
    await move_to_trash(session, "link", link.id)
