"""`POST /api/portfolios/{portfolio_id}/links/reorder`: the portfolio's links listed get
`order` 0, 1, 2... in the sequence given, in one transaction; its other links are left as they
are. A link of another portfolio is an unknown id. The rules are the portfolios' reorder's."""

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import Principal, require
from app.auth.permissions import Permission
from app.common.parents import require_portfolio
from app.common.query import PathId
from app.common.routing import APIRouter
from app.db import SessionDep
from app.events import outbox as events
from app.models import PortfolioLink
from app.models.base import utcnow
from app.portfolios.reorder import ReorderIn, check_ids, new_orders

router = APIRouter(tags=["portfolio links"])

LinkUpdate = Annotated[Principal, Depends(require(Permission.LINK_UPDATE))]


async def lock_orders(
    session: AsyncSession, portfolio_id: int, ids: Collection[int]
) -> dict[int, int]:
    """The `order` of each of the links `ids` that the portfolio has, by id. Their rows stay
    locked until the request commits, taken in id order: concurrent reorders queue, never
    deadlock."""
    rows = await session.execute(
        select(PortfolioLink.id, PortfolioLink.order)
        .where(PortfolioLink.portfolio_id == portfolio_id, PortfolioLink.id.in_(ids))
        .order_by(PortfolioLink.id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE, as `crud.ROW_LOCK`
    )
    return dict(rows.all())


async def set_orders(session: AsyncSession, orders: Mapping[int, int], now: datetime) -> None:
    """One UPDATE: each link of `orders` gets its new `order`, and `updated_at` `now` (none
    is loaded in the session: nothing there to bring up to date)."""
    if orders:
        await session.execute(
            update(PortfolioLink)
            .where(PortfolioLink.id.in_(orders))
            .values(order=case(dict(orders), value=PortfolioLink.id), updated_at=now)
            .execution_options(synchronize_session=False)
        )


async def reorder(session: AsyncSession, portfolio_id: int, ids: list[int]) -> None:
    """Give the portfolio's links `ids` `order` 0, 1, 2..., with one event and one history
    entry; 404 without the portfolio; 400 (nothing written) if an id names none of its links or
    comes twice. An empty list: nothing."""
    await require_portfolio(session, portfolio_id)
    if not ids:
        return
    current = await lock_orders(session, portfolio_id, set(ids))
    check_ids(ids, current)
    await set_orders(session, new_orders(ids, current), utcnow())
    await events.reordered(session, "link", ids, portfolio_id=portfolio_id)


@router.post(
    "/api/portfolios/{portfolio_id}/links/reorder",
    status_code=204,
    summary="Reorder a portfolio's links: the ids listed get `order` 0, 1, 2... in that sequence",
)
async def reorder_portfolio_links(
    session: SessionDep, _caller: LinkUpdate, portfolio_id: PathId, payload: ReorderIn
) -> None:
    await reorder(session, portfolio_id, payload.ids)
