"""`POST /api/portfolios/reorder`: the staff SPA's drag and drop. The portfolios listed get
`order` 0, 1, 2... in the sequence given, in one transaction; the others are left as they are.

The rules (`ReorderIn`, `check_ids`, `new_orders`) serve the links' reorder too. The SQL is
here rather than in `repository`: two statements that only this write runs."""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends
from pydantic import BeforeValidator, Field, WithJsonSchema
from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import Principal, require
from app.auth.permissions import Permission
from app.common.query import MAX_LIST_ITEMS, too_many_items
from app.common.references import ErrorCollector, does_not_exist
from app.common.routing import APIRouter
from app.common.schemas import REFERENCE_SCHEMA, Reference, RequestSchema
from app.db import SessionDep
from app.events import outbox as events
from app.models import Portfolio
from app.models.base import utcnow

router = APIRouter(tags=["portfolios"])

PortfolioUpdate = Annotated[Principal, Depends(require(Permission.PORTFOLIO_UPDATE))]


def _at_most_max_items(values: Any) -> Any:
    """At most `MAX_LIST_ITEMS` ids, with DRF's ListField message."""
    error = too_many_items(len(values)) if isinstance(values, list) else None
    if error is not None:
        raise error
    return values


# Repeats are kept (unlike `ReferenceList`): a repeated id is the client's error to hear of.
IdSequence = Annotated[
    list[Reference],
    BeforeValidator(_at_most_max_items),
    WithJsonSchema({"type": "array", "items": REFERENCE_SCHEMA, "maxItems": MAX_LIST_ITEMS}),
]


class ReorderIn(RequestSchema):
    ids: IdSequence = Field(
        description="Every id once, in the new order: they get `order` 0, 1, 2... "
        "An empty list changes nothing."
    )


def check_ids(ids: Sequence[int], found: Collection[int]) -> None:
    """400 naming, in the order sent, each id that names nothing (among those `found`) and
    each id sent more than once."""
    errors = ErrorCollector()
    seen: set[int] = set()
    repeated: set[int] = set()
    for pk in ids:
        if pk not in seen:
            seen.add(pk)
            if pk not in found:
                errors.add("ids", does_not_exist(pk))
        elif pk not in repeated:
            repeated.add(pk)
            errors.add("ids", f"Duplicate id {pk}.")
    errors.raise_if_any()


def new_orders(ids: Sequence[int], current: Mapping[int, int]) -> dict[int, int]:
    """The new `order` of each listed object whose order changes (the others are not written:
    their `updated_at` stays)."""
    return {pk: position for position, pk in enumerate(ids) if current[pk] != position}


async def lock_orders(session: AsyncSession, ids: Collection[int]) -> dict[int, int]:
    """The `order` of each of the portfolios `ids` that exists, by id. Their rows stay locked
    until the request commits, taken in id order: concurrent reorders queue, never deadlock."""
    rows = await session.execute(
        select(Portfolio.id, Portfolio.order)
        .where(Portfolio.id.in_(ids))
        .order_by(Portfolio.id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE, as `crud.ROW_LOCK`
    )
    return dict(rows.all())


async def set_orders(session: AsyncSession, orders: Mapping[int, int], now: datetime) -> None:
    """One UPDATE: each portfolio of `orders` gets its new `order`, and `updated_at` `now` (none
    is loaded in the session: nothing there to bring up to date)."""
    if orders:
        await session.execute(
            update(Portfolio)
            .where(Portfolio.id.in_(orders))
            .values(order=case(dict(orders), value=Portfolio.id), updated_at=now)
            .execution_options(synchronize_session=False)
        )


async def reorder(session: AsyncSession, ids: list[int]) -> None:
    """Give the portfolios `ids` `order` 0, 1, 2..., with one event and one history entry; 400
    (nothing written) if an id names no portfolio or comes twice. An empty list: nothing."""
    if not ids:
        return
    current = await lock_orders(session, set(ids))
    check_ids(ids, current)
    await set_orders(session, new_orders(ids, current), utcnow())
    await events.reordered(session, "portfolio", ids)


@router.post(
    "/api/portfolios/reorder",
    status_code=204,
    summary="Reorder portfolios: the ids listed get `order` 0, 1, 2... in that sequence",
)
async def reorder_portfolios(
    session: SessionDep, _caller: PortfolioUpdate, payload: ReorderIn
) -> None:
    await reorder(session, payload.ids)
