"""SQL of `/api/users/` beyond what `app.auth.repository` already holds."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import User


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
