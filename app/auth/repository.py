"""Users and tokens in the database. Adds and flushes; the request's unit of work commits."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.secrets import PREFIX_LENGTH, key_digest, new_api_key
from app.common.pagination import PageRequest, fetch_page
from app.common.sql import AnySelect
from app.models import ApiToken, User

TOKEN_COLUMNS = (
    ApiToken.id,
    ApiToken.name,
    ApiToken.prefix,
    ApiToken.created_at,
    ApiToken.last_used_at,
    ApiToken.expires_at,
)


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_username(session: AsyncSession, username: str) -> User | None:
    return (
        await session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()


async def username_taken(
    session: AsyncSession, username: str, except_id: int | None = None
) -> bool:
    statement = select(func.count()).select_from(User).where(User.username == username)
    if except_id is not None:
        statement = statement.where(User.id != except_id)
    return bool((await session.execute(statement)).scalar_one())


async def issue_token(
    session: AsyncSession, user_id: int, name: str, expires_at: datetime | None
) -> tuple[ApiToken, str]:
    """A new token and its key; the key is returned here once and never stored."""
    key = new_api_key()
    token = ApiToken(
        user_id=user_id,
        name=name,
        digest=key_digest(key),
        prefix=key[:PREFIX_LENGTH],
        created_at=datetime.now(UTC),
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    return token, key


def expiry(days: int | None) -> datetime | None:
    return None if days is None else datetime.now(UTC) + timedelta(days=days)


def tokens_of(user_id: int) -> AnySelect:
    return (
        select(*TOKEN_COLUMNS)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )


async def token_page(
    session: AsyncSession, user_id: int, page: PageRequest
) -> tuple[int, list[Any]]:
    """The total and one page of the user's tokens (`TOKEN_COLUMNS`), newest first."""
    return await fetch_page(session, tokens_of(user_id), page)


async def get_token_of(session: AsyncSession, user_id: int, token_id: int) -> ApiToken | None:
    token = await session.get(ApiToken, token_id)
    return token if token is not None and token.user_id == user_id else None


async def revoke_token(session: AsyncSession, token_id: int) -> None:
    await session.execute(delete(ApiToken).where(ApiToken.id == token_id))


async def revoke_tokens_of(session: AsyncSession, user_id: int, keep: int | None = None) -> None:
    statement = delete(ApiToken).where(ApiToken.user_id == user_id)
    if keep is not None:
        statement = statement.where(ApiToken.id != keep)
    await session.execute(statement)


async def find_token(session: AsyncSession, key_or_id: str) -> ApiToken | None:
    """A token by its key, or by its id (for the CLI)."""
    if key_or_id.isdigit() and len(key_or_id) < 19:
        by_id = await session.get(ApiToken, int(key_or_id))
        if by_id is not None:
            return by_id
    return (
        await session.execute(select(ApiToken).where(ApiToken.digest == key_digest(key_or_id)))
    ).scalar_one_or_none()
