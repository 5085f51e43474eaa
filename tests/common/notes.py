"""A test-only resource (`/test/notes/`) built from the shared list machinery.

It exercises errors, trailing slashes, pagination, ordering, search and filters the way a real
resource will, on a table that exists only in the test database.
"""

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import MetaData, String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.auth.dependencies import Principal, require
from app.auth.permissions import Permission
from app.common.filters import CommonFiltersDep, apply_common_filters, presence_condition
from app.common.ordering import Ordering, ordering_dependency
from app.common.pagination import Page, PageDep, build_page, fetch_page
from app.common.query import BooleanQuery
from app.common.routing import APIRouter, Public
from app.common.schemas import DateTimeOut, RequestSchema, omittable
from app.common.search import SearchQuery, apply_search, search_description
from app.db import SessionDep
from app.errors import CONSTRAINT_METADATA, NotFound
from app.models.base import NAMING_CONVENTION, IdMixin, SearchableMixin, TimestampMixin


class NoteBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


CONSTRAINT_METADATA.append(NoteBase.metadata)


class Note(IdMixin, TimestampMixin, SearchableMixin, NoteBase):
    __tablename__ = "test_note"
    __table_args__ = {"info": {"verbose_name": "note"}}  # noqa: RUF012
    __search_fields__ = ("title", "body")

    title: Mapped[str] = mapped_column(String(255), unique=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    rank: Mapped[int] = mapped_column(default=0)


class NoteIn(RequestSchema):
    title: str = Field(min_length=1, max_length=255)
    body: str | None = None
    rank: int = Field(default=0, ge=-(2**31), le=2**31 - 1)


class NotePatch(RequestSchema):
    title: str = omittable(min_length=1, max_length=255)
    body: str | None = None
    rank: int = omittable(ge=-(2**31), le=2**31 - 1)


class NoteOut(BaseModel):
    id: int
    title: str
    body: str | None
    rank: int
    created_at: DateTimeOut
    updated_at: DateTimeOut


NoteId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ORDERING_FIELDS = ("id", "title", "rank", "created_at", "updated_at")
NoteOrdering = Annotated[
    Ordering, Depends(ordering_dependency(ORDERING_FIELDS, ("rank", "-created_at")))
]
COLUMNS: dict[str, Any] = {name: getattr(Note, name) for name in ORDERING_FIELDS}

router = APIRouter(tags=["test notes"], dependencies=[Public])


@router.get("/test/notes/")
async def list_notes(
    request: Request,
    session: SessionDep,
    page: PageDep,
    ordering: NoteOrdering,
    filters: CommonFiltersDep,
    search: Annotated[
        SearchQuery, Query(description=search_description(["id", "title", "body"]))
    ] = None,
    has_body: Annotated[BooleanQuery, Query()] = None,
) -> Page[NoteOut]:
    statement = select(Note.id, Note.title, Note.body, Note.rank, Note.created_at, Note.updated_at)
    statement = apply_common_filters(statement, filters, Note.id, Note.created_at, Note.updated_at)
    statement = apply_search(statement, search, Note.search_text, Note.id)
    if has_body is not None:
        statement = statement.where(presence_condition(Note.body, has_body, blank_is_absent=True))
    statement = statement.order_by(*ordering.clauses(COLUMNS))
    count, rows = await fetch_page(session, statement, page)
    results = [NoteOut.model_validate(row._mapping) for row in rows]
    return build_page(request, page, count, results)  # type: ignore[return-value]


@router.post("/test/notes/", status_code=201)
async def create_note(session: SessionDep, payload: NoteIn) -> NoteOut:
    note = Note(**payload.given())
    session.add(note)
    await session.flush()
    return NoteOut.model_validate(note, from_attributes=True)


@router.post("/test/notes/unflushed/", status_code=201)
async def create_note_at_commit(session: SessionDep, payload: NoteIn) -> dict[str, str]:
    """Leaves the INSERT to the commit, so a constraint can only fail after the endpoint."""
    session.add(Note(**payload.given()))
    return {"status": "created"}


@router.get("/test/notes/{note_id}")
async def get_note(session: SessionDep, note_id: NoteId) -> NoteOut:
    note = await session.get(Note, note_id)
    if note is None:
        raise NotFound()
    return NoteOut.model_validate(note, from_attributes=True)


@router.patch("/test/notes/{note_id}")
async def update_note(session: SessionDep, note_id: NoteId, payload: NotePatch) -> NoteOut:
    note = await session.get(Note, note_id)
    if note is None:
        raise NotFound()
    for field, value in payload.given().items():
        setattr(note, field, value)
    await session.flush()
    return NoteOut.model_validate(note, from_attributes=True)


# A code-protected route, so the route-table test exercises that kind before real resources.
protected_router = APIRouter(tags=["test notes"])


@protected_router.delete("/test/notes/{note_id}", status_code=204)
async def delete_note(
    session: SessionDep,
    note_id: NoteId,
    _caller: Annotated[Principal, Depends(require(Permission.TAG_DELETE))],
) -> None:
    note = await session.get(Note, note_id)
    if note is None:
        raise NotFound()
    await session.delete(note)


@router.get("/test/boom")
async def explode() -> None:
    raise RuntimeError("secret internals that must not leak")
