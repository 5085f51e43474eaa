"""SQL of `/api/users/` beyond what `app.auth.repository` already holds (token statements,
username checks): the user list, the locked user, the active superusers."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.schemas import UserOut
from app.common.crud import get_or_404
from app.common.listing import ListQuery, apply_list_query
from app.common.pagination import PageRequest, fetch_page
from app.models import User
from app.users.schemas import ORDERING_FIELDS

ORDERING_COLUMNS: dict[str, Any] = {name: getattr(User, name) for name in ORDERING_FIELDS}
# A page selects what `UserOut` shows, not ORM objects.
USER_COLUMNS = [getattr(User, name) for name in UserOut.model_fields]


async def list_page(
    session: AsyncSession, page: PageRequest, query: ListQuery
) -> tuple[int, list[Any]]:
    """The total and one page of user rows (`USER_COLUMNS`), filtered and ordered."""
    statement = apply_list_query(select(*USER_COLUMNS), query, User.__table__)
    statement = statement.order_by(*query.ordering.clauses(ORDERING_COLUMNS))
    return await fetch_page(session, statement, page)


async def user_or_404(session: AsyncSession, user_id: int, *, for_update: bool = False) -> User:
    """The user, or 404; a write locks the row until it commits (see `get_or_404`)."""
    return await get_or_404(session, User, user_id, for_update=for_update)


async def lock_active_superusers(session: AsyncSession) -> list[int]:
    """The ids of the active superusers, each row locked until the transaction ends.

    In id order, so every writer that takes these locks takes them in the same order and two
    never wait on each other. A writer that was waiting reads the rows again once they are
    released (PostgreSQL re-checks the WHERE of a locked row): a superuser demoted meanwhile
    drops out of its list. On SQLite `FOR UPDATE` is not written: writers take turns already
    (BEGIN IMMEDIATE)."""
    statement = (
        select(User.id)
        .where(User.is_superuser.is_(True), User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update()
    )
    return list((await session.scalars(statement)).all())
