"""Nested resources: the parent must exist, and a child of another parent is not found."""

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import get_or_404
from app.errors import NotFound
from app.models import Portfolio, PortfolioLink, PortfolioMeta

Child = TypeVar("Child", PortfolioLink, PortfolioMeta)


async def require_portfolio(session: AsyncSession, portfolio_id: int) -> None:
    """404 unless the portfolio exists (on every method, listing included)."""
    if (
        await session.execute(select(Portfolio.id).where(Portfolio.id == portfolio_id))
    ).first() is None:
        raise NotFound()


async def child_or_404(
    session: AsyncSession,
    model: type[Child],
    child_id: int,
    portfolio_id: int | None,
    *,
    for_update: bool = False,
) -> Child:
    """A portfolio's link or meta item, 404 if it belongs to another portfolio (`None`: any
    portfolio, for the link alias route); a write locks it (see `get_or_404`)."""
    child = await get_or_404(session, model, child_id, for_update=for_update)
    if portfolio_id is not None and child.portfolio_id != portfolio_id:
        raise NotFound()
    return child
