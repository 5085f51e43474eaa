"""The rules of `/api/auth/`: logging in for a token and changing one's own password (both
throttled, and neither holding a database connection while a password is hashed), and one's own
account and tokens (another user's token is a 404, as a missing one)."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import repository, throttle
from app.auth.dependencies import Principal
from app.auth.schemas import LoginIn, PasswordChangeIn
from app.auth.secrets import hash_password, needs_rehash, verify_password
from app.common.drf_messages import NON_FIELD_ERRORS
from app.common.pagination import PageRequest
from app.common.workers import BoundedPool
from app.db import end_read_transaction, unit_of_work
from app.errors import NotFound, ValidationFailed
from app.models import ApiToken, User
from app.settings import Settings

LOGIN_FAILED = "Unable to log in with provided credentials."


async def log_in(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    passwords: BoundedPool,
    payload: LoginIn,
    address: str,
) -> str:
    """The key of a new login token, for valid credentials sent from `address`."""
    # A place for the password check is reserved first (429 at once when hashing is full), so a
    # flood costs neither database work nor memory. No connection is held while the password is
    # checked: each of the two short transactions (count the attempt, then issue the token)
    # takes one from the pool and returns it.
    now = datetime.now(UTC)
    keys = throttle.LoginKeys.of(payload.username, address)
    with passwords.reserve() as hashing:
        async with unit_of_work(sessionmaker) as session:
            await throttle.record_attempt(session, keys, now, settings)
            user = await repository.get_user_by_username(session, payload.username)
        # Verified even for an unknown user, so the answer takes the same time either way.
        password_hash = user.password_hash if user else None
        valid = await verify_password(password_hash, payload.password, hashing)
        if user is None or not valid or not user.is_active:
            raise ValidationFailed.field(NON_FIELD_ERRORS, LOGIN_FAILED)
        new_hash = None
        if needs_rehash(user.password_hash):  # made with older argon2 parameters
            new_hash = await hash_password(payload.password, hashing)
    async with unit_of_work(sessionmaker) as session:
        await throttle.forget_failures(session, keys)
        current = await repository.get_user(session, user.id)
        if current is None or not current.is_active:  # deleted or deactivated meanwhile
            raise ValidationFailed.field(NON_FIELD_ERRORS, LOGIN_FAILED)
        current.last_login = now
        if new_hash is not None and current.password_hash == user.password_hash:
            current.password_hash = new_hash
        _, key = await repository.issue_token(
            session,
            user.id,
            name=f"login from {address} at {now:%Y-%m-%d %H:%M} UTC",
            expires_at=repository.expiry(settings.login_token_ttl_days),
        )
    return key


async def change_password(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    passwords: BoundedPool,
    principal: Principal,
    address: str,
    payload: PasswordChangeIn,
) -> None:
    """The caller's new password, from `address`; every other token of theirs is revoked."""
    # Throttled as logins are (a stolen token must not let anyone guess the password), and
    # likewise no connection is held while the passwords are hashed.
    await end_read_transaction(session)
    keys = throttle.LoginKeys.of(principal.username, address)
    with passwords.reserve() as hashing:
        async with unit_of_work(sessionmaker) as attempts:
            now = datetime.now(UTC)
            await throttle.record_attempt(attempts, keys, now, settings)
            user = await repository.get_user(attempts, principal.user_id)
        password_hash = user.password_hash if user else None
        if not await verify_password(password_hash, payload.old_password, hashing):
            raise ValidationFailed.field("old_password", "Wrong password.")
        new_hash = await hash_password(payload.new_password, hashing)
    await throttle.forget_failures(session, keys)
    current = await repository.get_user(session, principal.user_id)
    if current is None:
        raise NotFound()
    current.password_hash = new_hash
    await repository.revoke_tokens_of(session, principal.user_id, keep=principal.token_id)


async def log_out(session: AsyncSession, principal: Principal) -> None:
    """Revoke the token the caller used."""
    await repository.revoke_token(session, principal.token_id)


async def current_user(session: AsyncSession, principal: Principal) -> User:
    user = await repository.get_user(session, principal.user_id)
    if user is None:
        raise NotFound()
    return user


async def token_page(
    session: AsyncSession, principal: Principal, page: PageRequest
) -> tuple[int, list[Any]]:
    """The total and one page of the caller's tokens (`repository.TOKEN_COLUMNS`), newest
    first."""
    return await repository.token_page(session, principal.user_id, page)


async def token_of(session: AsyncSession, user_id: int, token_id: int) -> ApiToken:
    """One of the user's tokens, or 404 (another user's too)."""
    token = await repository.get_token_of(session, user_id, token_id)
    if token is None:
        raise NotFound()
    return token


async def own_token(session: AsyncSession, principal: Principal, token_id: int) -> ApiToken:
    return await token_of(session, principal.user_id, token_id)


async def revoke_token_of(session: AsyncSession, user_id: int, token_id: int) -> None:
    """Delete one of the user's tokens; 404 if it is not theirs."""
    await repository.revoke_token(session, (await token_of(session, user_id, token_id)).id)


async def revoke_own_token(session: AsyncSession, principal: Principal, token_id: int) -> None:
    await revoke_token_of(session, principal.user_id, token_id)
