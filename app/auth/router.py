"""`/api/auth/`: log in for a token, log out, who am I, own tokens, own password."""

from datetime import UTC, datetime

from fastapi import Request

from app.auth import repository, throttle
from app.auth.dependencies import AnyUser
from app.auth.schemas import LoginIn, LoginOut, PasswordChangeIn, TokenOut, UserOut
from app.auth.secrets import hash_password, hashing_slot, needs_rehash, verify_password
from app.common.drf_messages import NON_FIELD_ERRORS
from app.common.pagination import Page, PageDep, build_page, fetch_page
from app.common.query import PathId
from app.common.routing import APIRouter, Public
from app.db import SessionDep, end_read_transaction, unit_of_work
from app.errors import (
    NotFound,
    ServiceUnavailable,
    Throttled,
    ValidationFailed,
    openapi_responses,
)
from app.settings import Settings

router = APIRouter(tags=["auth"])
LOGIN_FAILED = "Unable to log in with provided credentials."


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/api/auth/token/",
    dependencies=[Public],
    responses=openapi_responses([Throttled, ServiceUnavailable]),
    summary="Log in: exchange a username and password for a new API token",
    description=(
        "Failed logins are counted per username and client address, per address, and per "
        "username from every address; past a limit, or while every password check is busy, "
        "the answer is 429 with `Retry-After`."
    ),
)
async def obtain_token(request: Request, payload: LoginIn) -> LoginOut:
    # A place for the password check is reserved first (429 at once when hashing is full), so a
    # flood costs neither database work nor memory. No connection is held while the password is
    # checked: each of the two short transactions (count the attempt, then issue the token)
    # takes one from the pool and returns it. (A docstring here would become the OpenAPI text.)
    settings: Settings = request.app.state.settings
    sessionmaker = request.app.state.sessionmaker
    now = datetime.now(UTC)
    address = client_address(request)
    keys = throttle.LoginKeys.of(payload.username, address)
    with hashing_slot() as hashing:
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
    return LoginOut(token=key)


@router.delete("/api/auth/token/", status_code=204, summary="Log out: revoke the token used")
async def revoke_current_token(session: SessionDep, principal: AnyUser) -> None:
    await repository.revoke_token(session, principal.token_id)


@router.get("/api/auth/me", summary="The authenticated user, with their permission codes")
async def get_current_user(session: SessionDep, principal: AnyUser) -> UserOut:
    user = await repository.get_user(session, principal.user_id)
    if user is None:
        raise NotFound()
    return UserOut.model_validate(user, from_attributes=True)


@router.get("/api/auth/tokens/", summary="The authenticated user's tokens (never their keys)")
async def list_own_tokens(
    request: Request, session: SessionDep, principal: AnyUser, page: PageDep
) -> Page[TokenOut]:
    count, rows = await fetch_page(session, repository.tokens_of(principal.user_id), page)
    results = [TokenOut.model_validate(row._mapping) for row in rows]
    return build_page(request, page, count, results)


@router.get("/api/auth/tokens/{token_id}", summary="One of the authenticated user's tokens")
async def get_own_token(session: SessionDep, principal: AnyUser, token_id: PathId) -> TokenOut:
    token = await repository.get_token_of(session, principal.user_id, token_id)
    if token is None:
        raise NotFound()
    return TokenOut.model_validate(token, from_attributes=True)


@router.delete(
    "/api/auth/tokens/{token_id}", status_code=204, summary="Revoke one of one's own tokens"
)
async def revoke_own_token(session: SessionDep, principal: AnyUser, token_id: PathId) -> None:
    token = await repository.get_token_of(session, principal.user_id, token_id)
    if token is None:
        raise NotFound()
    await repository.revoke_token(session, token.id)


@router.post(
    "/api/auth/password/",
    status_code=204,
    responses=openapi_responses([Throttled]),
    summary="Change one's own password; every other token of the user is revoked",
)
async def change_own_password(
    request: Request, session: SessionDep, principal: AnyUser, payload: PasswordChangeIn
) -> None:
    # Throttled as logins are (a stolen token must not let anyone guess the password), and
    # likewise no connection is held while the passwords are hashed.
    await end_read_transaction(session)
    keys = throttle.LoginKeys.of(principal.username, client_address(request))
    with hashing_slot() as hashing:
        async with unit_of_work(request.app.state.sessionmaker) as attempts:
            now = datetime.now(UTC)
            settings = request.app.state.settings
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
