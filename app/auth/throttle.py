"""Failed logins counted in the database, so that every replica refuses the same guesser."""

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import Throttled
from app.models import LoginFailure
from app.settings import Settings


async def _seconds_until_allowed(
    session: AsyncSession,
    column: InstrumentedAttribute[str],
    value: str,
    limit: int,
    now: datetime,
    window: timedelta,
) -> int:
    """0 when fewer than `limit` failures fall in the window, else when the next one expires."""
    blocking = (
        await session.execute(
            select(LoginFailure.created_at)
            .where(column == value, LoginFailure.created_at > now - window)
            .order_by(LoginFailure.created_at.desc())
            .offset(limit - 1)
            .limit(1)
        )
    ).scalar_one_or_none()
    if blocking is None:
        return 0
    return max(1, int((blocking + window - now).total_seconds() + 0.999))


async def check_login_allowed(
    session: AsyncSession, username: str, address: str, now: datetime, settings: Settings
) -> None:
    window = timedelta(seconds=settings.login_failure_window_seconds)
    wait = max(
        await _seconds_until_allowed(
            session,
            LoginFailure.username,
            username.lower(),
            settings.login_failures_per_username,
            now,
            window,
        ),
        await _seconds_until_allowed(
            session,
            LoginFailure.client_address,
            address,
            settings.login_failures_per_address,
            now,
            window,
        ),
    )
    if wait:
        raise Throttled(wait)


async def record_login_failure(
    session: AsyncSession, username: str, address: str, now: datetime, settings: Settings
) -> None:
    window = timedelta(seconds=settings.login_failure_window_seconds)
    # Failures outside the window no longer count: drop this caller's, keeping the table small.
    await session.execute(
        delete(LoginFailure).where(
            or_(LoginFailure.username == username.lower(), LoginFailure.client_address == address),
            LoginFailure.created_at <= now - window,
        )
    )
    session.add(LoginFailure(username=username.lower(), client_address=address, created_at=now))
    await session.flush()


async def forget_login_failures(session: AsyncSession, username: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.username == username.lower()))
