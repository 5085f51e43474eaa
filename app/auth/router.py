"""`/api/auth/`: log in for a token, log out, who am I, own tokens, own password."""

from fastapi import Request

from app.auth import service
from app.auth.dependencies import AnyUser
from app.auth.schemas import LoginIn, LoginOut, PasswordChangeIn, TokenOut, UserOut
from app.common.pagination import Page, PageDep, build_page
from app.common.query import PathId
from app.common.routing import APIRouter, Public
from app.db import SessionDep
from app.errors import ServiceUnavailable, Throttled, openapi_responses

router = APIRouter(tags=["auth"])


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
    # No request session: `service.log_in` takes a connection only for its two short
    # transactions, none while the password is checked.
    state = request.app.state
    key = await service.log_in(
        state.sessionmaker, state.settings, state.password_pool, payload, client_address(request)
    )
    return LoginOut(token=key)


@router.delete("/api/auth/token/", status_code=204, summary="Log out: revoke the token used")
async def revoke_current_token(session: SessionDep, principal: AnyUser) -> None:
    await service.log_out(session, principal)


@router.get("/api/auth/me", summary="The authenticated user, with their permission codes")
async def get_current_user(session: SessionDep, principal: AnyUser) -> UserOut:
    user = await service.current_user(session, principal)
    return UserOut.model_validate(user, from_attributes=True)


@router.get("/api/auth/tokens/", summary="The authenticated user's tokens (never their keys)")
async def list_own_tokens(
    request: Request, session: SessionDep, principal: AnyUser, page: PageDep
) -> Page[TokenOut]:
    count, rows = await service.token_page(session, principal, page)
    results = [TokenOut.model_validate(row._mapping) for row in rows]
    return build_page(request, page, count, results)


@router.get("/api/auth/tokens/{id}", summary="One of the authenticated user's tokens")
async def get_own_token(session: SessionDep, principal: AnyUser, id: PathId) -> TokenOut:
    token = await service.own_token(session, principal, id)
    return TokenOut.model_validate(token, from_attributes=True)


@router.delete("/api/auth/tokens/{id}", status_code=204, summary="Revoke one of one's own tokens")
async def revoke_own_token(session: SessionDep, principal: AnyUser, id: PathId) -> None:
    await service.revoke_own_token(session, principal, id)


@router.post(
    "/api/auth/password/",
    status_code=204,
    responses=openapi_responses([Throttled]),
    summary="Change one's own password; every other token of the user is revoked",
)
async def change_own_password(
    request: Request, session: SessionDep, principal: AnyUser, payload: PasswordChangeIn
) -> None:
    state = request.app.state
    await service.change_password(
        session,
        state.sessionmaker,
        state.settings,
        state.password_pool,
        principal,
        client_address(request),
        payload,
    )
