"""The account commands of `portfolio-api`: users, tokens and permission codes.

Each runs one short transaction against the configured database and raises `CommandError`
(one line, non-zero exit) for anything a script could get wrong.
"""

import getpass
import os
import sys

from app.auth import repository
from app.auth.permissions import Permission
from app.auth.schemas import PASSWORD_MIN_LENGTH
from app.auth.secrets import hash_password, password_pool
from app.common.commands import CommandError
from app.db import standalone_session
from app.models import User
from app.settings import get_settings

# Where `createsuperuser` and `createuser` read the password when `--password` is not given.
PASSWORD_VARIABLE = "PORTFOLIO_API_PASSWORD"


def read_password(given: str | None) -> str:
    """`--password` if given, else `$PORTFOLIO_API_PASSWORD` if set, else typed twice on a
    terminal. With none of them (a script, a container without a TTY) the command fails
    rather than wait for input nobody will type."""
    if given is not None:
        return given
    from_environment = os.environ.get(PASSWORD_VARIABLE)
    if from_environment is not None:
        return from_environment
    if not sys.stdin.isatty():
        raise CommandError(
            f"no password: give --password, set {PASSWORD_VARIABLE}, "
            "or run it on a terminal to be asked"
        )
    try:
        password = getpass.getpass("Password: ")
        again = getpass.getpass("Password (again): ")
    except EOFError:
        raise CommandError("no password typed") from None
    if password != again:
        raise CommandError("the two passwords typed differ")
    return password


def permission_codes(values: list[str]) -> list[int]:
    known = {str(permission.value): permission.value for permission in Permission}
    unknown = [value for value in values if value not in known]
    if unknown:
        raise CommandError(f"unknown permission code: {', '.join(unknown)} (see `perms list`)")
    return sorted({known[value] for value in values})


async def _hashed(password: str) -> str:
    """Hashed in a password pool of the command's own, opened and shut around it."""
    passwords = password_pool(get_settings())
    try:
        with passwords.reserve() as slot:
            return await hash_password(password, slot)
    finally:
        passwords.shutdown()


async def create_user(
    username: str,
    password: str,
    *,
    email: str = "",
    staff: bool = False,
    superuser: bool = False,
    permissions: list[str] | None = None,
) -> User:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise CommandError(f"password must have at least {PASSWORD_MIN_LENGTH} characters")
    codes = permission_codes(permissions or [])
    async with standalone_session() as session:
        if await repository.username_taken(session, username):
            raise CommandError(f"user {username!r} already exists")
        user = User(
            username=username,
            email=email,
            password_hash=await _hashed(password),
            is_staff=staff or superuser,
            is_superuser=superuser,
            permissions=codes,
        )
        session.add(user)
        await session.flush()
        return user


async def create_token(username: str, name: str, expires_days: int | None) -> str:
    async with standalone_session() as session:
        user = await repository.get_user_by_username(session, username)
        if user is None:
            raise CommandError(f"no user {username!r}")
        _, key = await repository.issue_token(
            session, user.id, name, repository.expiry(expires_days)
        )
        return key


async def revoke_token(key_or_id: str) -> int:
    async with standalone_session() as session:
        token = await repository.find_token(session, key_or_id)
        if token is None:
            raise CommandError("no such token")
        await repository.revoke_token(session, token.id)
        return token.id
