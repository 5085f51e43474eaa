"""`/api/users/`: account reads and writes, their tokens, and the rule that some active
superuser always remains.

Without one, nobody could manage accounts through the API any more. So the last active
superuser can be neither demoted, nor deactivated, nor deleted. Concurrent requests are
safe: every write that could take the status away first locks all active superuser rows
(`repository.lock_active_superusers`), then counts them, so two of them each taking it from
one of two superusers run one after the other, and the second one is refused.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository as auth_repository
from app.auth import service as auth_service
from app.auth.schemas import UserCreate
from app.auth.secrets import hash_password
from app.common.listing import ListQuery
from app.common.pagination import PageRequest
from app.common.workers import BoundedPool
from app.errors import APIError, BadRequestBody, ValidationFailed
from app.models import ApiToken, User
from app.users import repository

USERNAME_TAKEN = "A user with that username already exists."
# The fields whose `false` takes the status away, with the message each gets when it would
# leave no active superuser.
LAST_SUPERUSER_FIELDS = {
    "is_superuser": "The last active superuser cannot lose this status.",
    "is_active": "The last active superuser cannot be deactivated.",
}


class LastSuperuserDeletion(APIError):
    """400 `{"detail": ...}`: a DELETE has no body, so no field to name (as the 400 for
    restoring a link before its portfolio, whose reason is the object's state too)."""

    status_code = 400
    default_detail = "The last active superuser cannot be deleted."
    description = "Invalid input"
    openapi_model = BadRequestBody


async def _locked_user(session: AsyncSession, user_id: int, *, guarded: bool) -> tuple[User, bool]:
    """The user, locked until commit (or 404), and whether they are the last active superuser.

    `guarded`: the write could take the status away, so all active superusers are locked
    first (always before the user's own row: one order for every writer, no deadlock).
    Otherwise the answer is False without asking."""
    superusers = await repository.lock_active_superusers(session) if guarded else []
    user = await repository.user_or_404(session, user_id, for_update=True)
    return user, superusers == [user.id]


async def list_page(
    session: AsyncSession, page: PageRequest, query: ListQuery
) -> tuple[int, list[Any]]:
    return await repository.list_page(session, page, query)


async def get_user(session: AsyncSession, user_id: int, *, for_update: bool = False) -> User:
    """The user, or 404; a write locks the row until it commits."""
    return await repository.user_or_404(session, user_id, for_update=for_update)


async def _hashed(passwords: BoundedPool, password: str) -> str:
    with passwords.reserve() as slot:  # `Busy` (429) when every place is taken
        return await hash_password(password, slot)


async def create_user(session: AsyncSession, passwords: BoundedPool, payload: UserCreate) -> User:
    if await auth_repository.username_taken(session, payload.username):
        raise ValidationFailed.field("username", USERNAME_TAKEN)
    fields = payload.model_dump(exclude={"password"})
    user = User(**fields, password_hash=await _hashed(passwords, payload.password))
    session.add(user)
    await session.flush()
    return user


async def update_user(
    session: AsyncSession, passwords: BoundedPool, user_id: int, changes: dict[str, Any]
) -> User:
    """Apply validated changes (a new `password` is hashed and revokes the user's tokens)."""
    losing = [field for field in LAST_SUPERUSER_FIELDS if changes.get(field) is False]
    user, last = await _locked_user(session, user_id, guarded=bool(losing))
    errors: dict[str, list[str]] = {}
    if last:
        errors.update({field: [LAST_SUPERUSER_FIELDS[field]] for field in losing})
    if "username" in changes and await auth_repository.username_taken(
        session, changes["username"], except_id=user.id
    ):
        errors["username"] = [USERNAME_TAKEN]
    if errors:
        raise ValidationFailed(errors)
    password = changes.pop("password", None)
    for field, value in changes.items():
        setattr(user, field, value)
    if password is not None:
        user.password_hash = await _hashed(passwords, password)
        # A reset password shuts out whoever held the old one.
        await auth_repository.revoke_tokens_of(session, user.id)
    await session.flush()
    return user


async def delete_user(session: AsyncSession, user_id: int) -> None:
    """Delete the user and their tokens (ON DELETE CASCADE); never the last active superuser."""
    user, last = await _locked_user(session, user_id, guarded=True)
    if last:
        raise LastSuperuserDeletion()
    await session.delete(user)
    await session.flush()


async def token_page(
    session: AsyncSession, user_id: int, page: PageRequest
) -> tuple[int, list[Any]]:
    return await auth_repository.token_page(session, user_id, page)


async def issue_token(
    session: AsyncSession, user_id: int, name: str, expires_days: int | None
) -> tuple[ApiToken, str]:
    """A new token for the user, expiring after `expires_days` (None: never), and its key."""
    return await auth_repository.issue_token(
        session, user_id, name, auth_repository.expiry(expires_days)
    )


async def revoke_token(session: AsyncSession, user_id: int, token_id: int) -> None:
    """Delete the user's token; 404 if it is not theirs."""
    await auth_service.revoke_token_of(session, user_id, token_id)
