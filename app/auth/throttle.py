"""Failed logins counted in the database, so that every replica refuses the same guesser.

An attempt is recorded as a failure before its password is checked, and the record is removed
if the password was right: the check and the count happen under one lock, so a burst cannot
overshoot the limit (at most the limit reach the password check, the rest are refused).

Three limits, so that nobody can lock an account for everyone: failures for one username from
one address (low), from one address for any username (higher: a guesser trying many names), and
for one username from every address (highest: guessing spread over many addresses). The owner,
from an address that did not fail, is refused only past that last ceiling.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Throttled
from app.models import LoginFailure
from app.settings import Settings

# pg_advisory_xact_lock(class, object): one class per kind of key, always taken in this order.
_USERNAME_LOCK, _ADDRESS_LOCK = 1, 2


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class LoginKeys:
    """Who is guessing: digests of the username (case-insensitive) and the client address."""

    username: str
    address: str

    @classmethod
    def of(cls, username: str, address: str) -> "LoginKeys":
        return cls(_digest(username.lower()), _digest(address))

    def same_username(self) -> ColumnElement[bool]:
        return LoginFailure.username_digest == self.username

    def same_address(self) -> ColumnElement[bool]:
        return LoginFailure.address_digest == self.address

    def same_pair(self) -> ColumnElement[bool]:
        return and_(self.same_username(), self.same_address())


async def _seconds_until_allowed(
    session: AsyncSession, scope: ColumnElement[bool], limit: int, now: datetime, window: timedelta
) -> int:
    """0 when fewer than `limit` failures fall in the window, else when the oldest that still
    blocks expires."""
    blocking = (
        await session.execute(
            select(LoginFailure.created_at)
            .where(scope, LoginFailure.created_at > now - window)
            .order_by(LoginFailure.created_at.desc())
            .offset(limit - 1)
            .limit(1)
        )
    ).scalar_one_or_none()
    if blocking is None:
        return 0
    return max(1, int((blocking + window - now).total_seconds() + 0.999))


async def _lock(session: AsyncSession, keys: LoginKeys) -> None:
    """Serialise attempts on this username and on this address until the transaction ends.
    SQLite needs nothing: the unit of work began with BEGIN IMMEDIATE, one writer at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for lock_class, digest in ((_USERNAME_LOCK, keys.username), (_ADDRESS_LOCK, keys.address)):
        lock_object = int(digest[:8], 16) - 2**31  # a signed 32-bit number
        await session.execute(select(func.pg_advisory_xact_lock(lock_class, lock_object)))


async def record_attempt(
    session: AsyncSession, keys: LoginKeys, now: datetime, settings: Settings
) -> None:
    """Refuse (429) when a limit is reached, else count this attempt as a failure until
    `forget_failures` says it succeeded. Commit before checking the password."""
    await _lock(session, keys)
    window = timedelta(seconds=settings.login_failure_window_seconds)
    limits = (
        (keys.same_pair(), settings.login_failures_per_username_and_address),
        (keys.same_address(), settings.login_failures_per_address),
        (keys.same_username(), settings.login_failures_per_username),
    )
    wait = 0
    for scope, limit in limits:
        wait = max(wait, await _seconds_until_allowed(session, scope, limit, now, window))
    if wait:
        raise Throttled(wait)
    # Failures outside the window no longer count: drop this caller's, keeping the table small.
    await session.execute(
        delete(LoginFailure).where(
            or_(keys.same_username(), keys.same_address()),
            LoginFailure.created_at <= now - window,
        )
    )
    session.add(
        LoginFailure(username_digest=keys.username, address_digest=keys.address, created_at=now)
    )
    await session.flush()


async def forget_failures(session: AsyncSession, keys: LoginKeys) -> None:
    """The password was right: this username's failures from this address no longer count."""
    await session.execute(delete(LoginFailure).where(keys.same_pair()))
