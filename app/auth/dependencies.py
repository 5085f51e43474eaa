"""Who is calling, and whether they may: one dependency per kind of route.

Every route depends on exactly one of `public`, `any_active_user`, `any_staff`,
`require(code)` or `superuser` (the router refuses a route that declares none). Each checks
access first and only then reports a body that failed to parse, in DRF's order: authenticate,
authorise, parse.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.permissions import Permission
from app.auth.secrets import key_digest
from app.common.access import AccessKind, AccessRule, PermissionCode, declares_access
from app.common.routing import raise_deferred_body_error, set_body_gate
from app.common.sql import Prepared
from app.common.workers import BoundedPool
from app.db import SessionDep
from app.errors import AuthenticationFailed, NotAuthenticated, PermissionDenied, raises
from app.events.outbox import act_as
from app.models import ApiToken, User

KEYWORDS = (b"token", b"bearer")
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_KEY_LENGTH = 128  # far above a real key; longer ones are refused without a query
SMALL_BODY = 16 * 1024  # read before its caller is known (JSON bodies are mostly far smaller)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, read with their token in one query."""

    user_id: int
    username: str
    is_staff: bool
    is_superuser: bool
    permissions: frozenset[int]
    token_id: int

    def may(self, permission: PermissionCode) -> bool:
        return self.is_superuser or (self.is_staff and permission.value in self.permissions)


def credentials_from_header(request: Request) -> str | None:
    """The key from `Authorization: Token <key>` (or `Bearer`), with DRF's parsing errors."""
    parts = request.headers.get("authorization", "").encode("latin-1").split()
    if not parts or parts[0].lower() not in KEYWORDS:
        return None
    if len(parts) == 1:
        raise AuthenticationFailed("Invalid token header. No credentials provided.")
    if len(parts) > 2:
        raise AuthenticationFailed("Invalid token header. Token string should not contain spaces.")
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError as exc:
        raise AuthenticationFailed(
            "Invalid token header. Token string should not contain invalid characters."
        ) from exc


async def touch_token(
    sessionmaker: async_sessionmaker[AsyncSession], token_id: int, now: datetime
) -> None:
    """Record use at most once a minute, in its own short transaction after the response."""
    async with sessionmaker() as session:
        await session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                or_(
                    ApiToken.last_used_at.is_(None),
                    ApiToken.last_used_at < now - LAST_USED_RESOLUTION,
                ),
            )
            .values(last_used_at=now)
        )
        await session.commit()


TOKEN_LOOKUP = Prepared(
    select(
        ApiToken.id,
        ApiToken.expires_at,
        ApiToken.last_used_at,
        User.id.label("user_id"),
        User.username,
        User.is_active,
        User.is_staff,
        User.is_superuser,
        User.permissions,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.digest == bindparam("digest"))
)


# Left in the request's state by `authorize_before_body` and `_authenticate`.
_PRINCIPAL = "principal"
_TOUCH = "touch_token"


async def _authenticate(request: Request, session: AsyncSession) -> Principal:
    """The caller of a valid token, or 401; the token's use is recorded after the response."""
    key = credentials_from_header(request)
    if key is None:
        raise NotAuthenticated()
    if len(key) > MAX_KEY_LENGTH:
        raise AuthenticationFailed("Invalid token.")
    rows = await TOKEN_LOOKUP.rows(session, {"digest": key_digest(key)})
    row = rows[0] if rows else None
    now = datetime.now(UTC)
    if row is None or (row["expires_at"] is not None and row["expires_at"] <= now):
        raise AuthenticationFailed("Invalid token.")
    if not row["is_active"]:
        raise AuthenticationFailed("User inactive or deleted.")
    last_used_at = row["last_used_at"]
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        request.scope.setdefault("state", {})[_TOUCH] = (row["id"], now)
    return Principal(
        user_id=row["user_id"],
        username=row["username"],
        is_staff=row["is_staff"],
        is_superuser=row["is_superuser"],
        permissions=frozenset(row["permissions"] or ()),
        token_id=row["id"],
    )


async def authenticated_user(
    request: Request, session: AsyncSession, background: BackgroundTasks
) -> Principal:
    """The caller (401 without a valid token). Called by each access dependency itself, not
    declared as their sub-dependency: FastAPI's solving of a dependency costs more than this."""
    state = request.scope.setdefault("state", {})
    principal: Principal | None = state.get(_PRINCIPAL)
    if principal is None:
        principal = await _authenticate(request, session)
    touch = state.pop(_TOUCH, None)
    if touch is not None:
        background.add_task(touch_token, request.app.state.sessionmaker, *touch)
    act_as(session, principal.user_id, principal.username)  # the actor of its change events
    return principal


def _allows(rule: AccessRule, principal: Principal) -> bool:
    if rule.kind is AccessKind.SUPERUSER:
        return principal.is_superuser
    if rule.kind is AccessKind.STAFF:
        return principal.is_staff or principal.is_superuser
    if rule.kind is AccessKind.PERMISSION:
        assert rule.permission is not None
        return principal.may(rule.permission)
    return True


def _large_body(request: Request) -> bool:
    headers = request.headers
    declared = headers.get("content-length", "")
    return (
        not declared.isdigit()  # chunked: any size
        or int(declared) > SMALL_BODY
        or headers.get("content-type", "").lower().startswith("multipart/")
    )


async def authorize_before_body(request: Request, rule: AccessRule) -> None:
    """Refuse a request before a byte of its body is read, so that a stranger's 20 MB upload
    costs no disk and no memory; the connection is closed after the refusal instead of reading
    the rest. Without credentials that costs nothing; with them, a large body (an upload, a
    JSON body over `SMALL_BODY`) is authenticated and authorised first, in a session of its
    own, and the route's access dependency then finds the caller here. A small JSON body is
    read first, as before: looking its caller up apart would cost more than reading it."""
    try:
        if credentials_from_header(request) is None:
            raise NotAuthenticated()
        if not _large_body(request):
            return
        async with request.app.state.read_sessionmaker() as session:
            principal = await _authenticate(request, session)
        if not _allows(rule, principal):
            raise PermissionDenied()
    except (NotAuthenticated, AuthenticationFailed, PermissionDenied) as refused:
        refused.headers["Connection"] = "close"
        raise
    request.scope.setdefault("state", {})[_PRINCIPAL] = principal


set_body_gate(authorize_before_body)


async def password_pool(request: Request) -> BoundedPool:
    """The app's password threads (opened by its lifespan)."""
    pool: BoundedPool = request.app.state.password_pool
    return pool


Passwords = Annotated[BoundedPool, Depends(password_pool)]


@declares_access(AccessRule(AccessKind.ANY_USER))
@raises(NotAuthenticated, AuthenticationFailed)
async def any_active_user(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> Principal:
    principal = await authenticated_user(request, session, background)
    raise_deferred_body_error(request)
    return principal


@declares_access(AccessRule(AccessKind.SUPERUSER))
@raises(NotAuthenticated, AuthenticationFailed, PermissionDenied)
async def superuser(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> Principal:
    principal = await authenticated_user(request, session, background)
    if not principal.is_superuser:
        raise PermissionDenied()
    raise_deferred_body_error(request)
    return principal


@declares_access(AccessRule(AccessKind.STAFF))
@raises(NotAuthenticated, AuthenticationFailed, PermissionDenied)
async def any_staff(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> Principal:
    """Staff or superuser, whatever codes they hold: a route that shows each caller what their
    view codes allow (history, the trash) narrows its answer itself."""
    principal = await authenticated_user(request, session, background)
    if not (principal.is_staff or principal.is_superuser):
        raise PermissionDenied()
    raise_deferred_body_error(request)
    return principal


@cache
def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """The dependency of a code-protected route: staff holding `permission`, or a superuser."""

    async def dependency(
        request: Request, session: SessionDep, background: BackgroundTasks
    ) -> Principal:
        principal = await authenticated_user(request, session, background)
        if not principal.may(permission):
            raise PermissionDenied()
        raise_deferred_body_error(request)
        return principal

    dependency.__name__ = f"require_{permission.name.lower()}"
    raises(NotAuthenticated, AuthenticationFailed, PermissionDenied)(dependency)
    return declares_access(AccessRule(AccessKind.PERMISSION, permission))(dependency)


AnyUser = Annotated[Principal, Depends(any_active_user)]
AnyStaff = Annotated[Principal, Depends(any_staff)]
Superuser = Annotated[Principal, Depends(superuser)]
