"""Nested resources: the parent must exist, and a child of another parent is not found."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.models import Portfolio


async def require_portfolio(session: AsyncSession, portfolio_id: int) -> None:
    """404 unless the portfolio exists (on every method, listing included)."""
    if (
        await session.execute(select(Portfolio.id).where(Portfolio.id == portfolio_id))
    ).first() is None:
        raise NotFound()
