"""Async helpers that create rows through the app's own sessionmaker (so tests see them)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from app.auth import repository
from app.auth.permissions import Permission
from app.auth.secrets import hash_password_sync
from app.models import User

PASSWORD = "correct horse battery"
# Hashed once: argon2 is deliberately slow, and most tests never log in.
PASSWORD_HASH = hash_password_sync(PASSWORD)
ALL_CODES = [permission.value for permission in Permission]


@dataclass
class Caller:
    user_id: int
    username: str
    key: str
    token_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.key}"}


_counter = 0


def unique(prefix: str) -> str:
    global _counter
    _counter += 1
    return f"{prefix}{_counter}"


async def create_user(app: FastAPI, **fields: Any) -> User:
    fields.setdefault("username", unique("user"))
    fields.setdefault("password_hash", PASSWORD_HASH)
    async with app.state.sessionmaker() as session:
        user = User(**fields)
        session.add(user)
        await session.commit()
        return user


async def create_token(
    app: FastAPI, user_id: int, *, expires_in: timedelta | None = timedelta(days=1)
) -> tuple[int, str]:
    expires_at = None if expires_in is None else datetime.now(UTC) + expires_in
    async with app.state.sessionmaker() as session:
        token, key = await repository.issue_token(session, user_id, "test", expires_at)
        await session.commit()
        return token.id, key


async def create_caller(app: FastAPI, **fields: Any) -> Caller:
    user = await create_user(app, **fields)
    token_id, key = await create_token(app, user.id)
    return Caller(user.id, user.username, key, token_id)


async def create_superuser(app: FastAPI) -> Caller:
    return await create_caller(app, is_staff=True, is_superuser=True)


async def create_staff(app: FastAPI, *codes: int) -> Caller:
    return await create_caller(app, is_staff=True, permissions=list(codes))
