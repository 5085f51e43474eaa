"""`/api/auth/`: log in for a token, log out, who am I, own tokens, own password."""

from datetime import UTC, datetime

from fastapi import Request

from app.auth import repository
from app.auth.dependencies import AnyUser, Public
from app.auth.schemas import LoginIn, LoginOut, PasswordChangeIn, TokenOut, UserOut
from app.auth.secrets import hash_password, verify_password
from app.auth.throttle import check_login_allowed, forget_login_failures, record_login_failure
from app.common.drf_messages import NON_FIELD_ERRORS
from app.common.pagination import Page, PageDep, build_page, fetch_page
from app.common.query import PathId
from app.common.routing import APIRouter
from app.db import SessionDep
from app.errors import NotFound, Throttled, ValidationFailed, openapi_responses

router = APIRouter(tags=["auth"])


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/api/auth/token/",
    dependencies=[Public],
    responses=openapi_responses([Throttled]),
    summary="Log in: exchange a username and password for a new API token",
)
async def obtain_token(request: Request, session: SessionDep, payload: LoginIn) -> LoginOut:
    settings = request.app.state.settings
    now = datetime.now(UTC)
    address = client_address(request)
    await check_login_allowed(session, payload.username, address, now, settings)
    user = await repository.get_user_by_username(session, payload.username)
    # Verified even for an unknown user, so the answer takes the same time either way.
    valid = await verify_password(user.password_hash if user else None, payload.password)
    if user is None or not valid or not user.is_active:
        await record_login_failure(session, payload.username, address, now, settings)
        await session.commit()  # the failure must count although this request fails
        raise ValidationFailed.field(
            NON_FIELD_ERRORS, "Unable to log in with provided credentials."
        )
    await forget_login_failures(session, payload.username)
    user.last_login = now
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
    summary="Change one's own password; every other token of the user is revoked",
)
async def change_own_password(
    session: SessionDep, principal: AnyUser, payload: PasswordChangeIn
) -> None:
    user = await repository.get_user(session, principal.user_id)
    if user is None or not await verify_password(user.password_hash, payload.old_password):
        raise ValidationFailed.field("old_password", "Wrong password.")
    user.password_hash = await hash_password(payload.new_password)
    await repository.revoke_tokens_of(session, user.id, keep=principal.token_id)
