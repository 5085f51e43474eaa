"""`/api/users/`: accounts, their permission codes and their tokens, for superusers."""

from typing import Annotated

from fastapi import Depends, Query, Request

from app.auth.dependencies import Passwords, superuser
from app.auth.schemas import (
    IssuedTokenOut,
    TokenIssue,
    TokenOut,
    UserCreate,
    UserOut,
    UserPatch,
    UserReplace,
)
from app.common.filters import CommonFiltersDep
from app.common.listing import ListQuery
from app.common.ordering import Ordering, ordering_dependency
from app.common.pagination import Page, PageDep, build_page
from app.common.query import BooleanQuery, PathId
from app.common.routing import APIRouter
from app.common.search import SearchQuery, search_description
from app.db import SAFE_METHODS, SessionDep
from app.errors import Throttled, openapi_responses
from app.models import User
from app.users import service
from app.users.schemas import ORDERING_FIELDS

router = APIRouter(tags=["users"], dependencies=[Depends(superuser)])

UserOrdering = Annotated[Ordering, Depends(ordering_dependency(ORDERING_FIELDS, ("username",)))]
LAST_SUPERUSER_RULE = (
    "The last active superuser cannot be demoted, deactivated or deleted: 400 "
    "(on `is_superuser` or `is_active`; `detail` for a DELETE)."
)


async def _user_or_404(request: Request, session: SessionDep, id: PathId) -> User:
    """The user of `/api/users/{id}`, or 404; a write locks the row until it commits."""
    return await service.get_user(session, id, for_update=request.method not in SAFE_METHODS)


async def _owner_or_404(request: Request, session: SessionDep, user_id: PathId) -> User:
    """The user of `/api/users/{user_id}/tokens/...`, likewise."""
    writes = request.method not in SAFE_METHODS
    return await service.get_user(session, user_id, for_update=writes)


TargetUser = Annotated[User, Depends(_user_or_404)]
TokenOwner = Annotated[User, Depends(_owner_or_404)]


def _out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@router.get("/api/users/", summary="List users")
async def list_users(
    request: Request,
    session: SessionDep,
    page: PageDep,
    ordering: UserOrdering,
    filters: CommonFiltersDep,
    search: Annotated[
        SearchQuery, Query(description=search_description(["id", "username", "email"]))
    ] = None,
    is_active: BooleanQuery = None,
    is_staff: BooleanQuery = None,
    is_superuser: BooleanQuery = None,
) -> Page[UserOut]:
    flags = {"is_active": is_active, "is_staff": is_staff, "is_superuser": is_superuser}
    query = ListQuery(filters, ordering, search, flags=flags)
    count, rows = await service.list_page(session, page, query)
    return build_page(request, page, count, [UserOut.model_validate(r._mapping) for r in rows])


# Routes that hash a password: a 429 when every hashing thread and its queue are busy.
HASHES = openapi_responses([Throttled])


@router.post("/api/users/", status_code=201, responses=HASHES, summary="Create a user")
async def create_user(session: SessionDep, passwords: Passwords, payload: UserCreate) -> UserOut:
    return _out(await service.create_user(session, passwords, payload))


@router.get("/api/users/{id}", summary="Retrieve a user")
async def get_user(user: TargetUser) -> UserOut:
    return _out(user)


@router.patch(
    "/api/users/{id}",
    responses=HASHES,
    summary="Update some fields of a user",
    description=LAST_SUPERUSER_RULE,
)
async def update_user(
    session: SessionDep, passwords: Passwords, id: PathId, payload: UserPatch
) -> UserOut:
    return _out(await service.update_user(session, passwords, id, payload.given()))


@router.put(
    "/api/users/{id}",
    responses=HASHES,
    summary="Replace a user",
    description=LAST_SUPERUSER_RULE,
)
async def replace_user(
    session: SessionDep, passwords: Passwords, id: PathId, payload: UserReplace
) -> UserOut:
    changes = payload.model_dump()
    if changes["password"] is None:
        del changes["password"]
    return _out(await service.update_user(session, passwords, id, changes))


@router.delete(
    "/api/users/{id}",
    status_code=204,
    responses=openapi_responses([service.LastSuperuserDeletion]),
    summary="Delete a user and their tokens",
    description=LAST_SUPERUSER_RULE,
)
async def delete_user(session: SessionDep, id: PathId) -> None:
    await service.delete_user(session, id)


@router.get("/api/users/{user_id}/tokens/", summary="List a user's tokens")
async def list_user_tokens(
    request: Request, session: SessionDep, user: TokenOwner, page: PageDep
) -> Page[TokenOut]:
    count, rows = await service.token_page(session, user.id, page)
    results = [TokenOut.model_validate(row._mapping) for row in rows]
    return build_page(request, page, count, results)


@router.post(
    "/api/users/{user_id}/tokens/",
    status_code=201,
    summary="Issue a token for a user; the key is shown in this response only",
)
async def issue_user_token(
    request: Request, session: SessionDep, user: TokenOwner, payload: TokenIssue
) -> IssuedTokenOut:
    days = payload.expires_days
    if "expires_days" not in payload.model_fields_set:
        days = request.app.state.settings.login_token_ttl_days
    token, key = await service.issue_token(session, user.id, payload.name, days)
    fields = {name: getattr(token, name) for name in TokenOut.model_fields}
    return IssuedTokenOut(**fields, key=key)


@router.delete("/api/users/{user_id}/tokens/{id}", status_code=204, summary="Revoke a user's token")
async def revoke_user_token(session: SessionDep, user: TokenOwner, id: PathId) -> None:
    await service.revoke_token(session, user.id, id)
