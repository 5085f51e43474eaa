"""Declarative base, column types and mixins shared by every model."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, MetaData, Text, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.common.search import search_document

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY (which is 64-bit).
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime with microseconds, identical on SQLite and PostgreSQL.

    PostgreSQL stores `timestamptz`; SQLite stores the naive UTC text SQLAlchemy writes
    (`YYYY-MM-DD HH:MM:SS.ffffff`), which sorts and compares correctly as text.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={getattr(self, 'id', None)!r}>"


class IdMixin:
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, sort_order=-1)


@event.listens_for(IdMixin, "instrument_class", propagate=True)
def _never_reuse_ids(_mapper: Any, cls: Any) -> None:
    """SQLite gives a new row the largest id plus one unless the table says AUTOINCREMENT, so
    deleting the newest object would hand its id to the next one (a retried DELETE, or a stale
    link, would reach it). Django declares its SQLite ids so; PostgreSQL sequences never reuse."""
    cls.__table__.dialect_options["sqlite"]["autoincrement"] = True


class TimestampMixin:
    """`created_at`/`updated_at` set by the application, never by the database clock."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


def verbose_name(table_info: dict[str, Any], table_name: str) -> str:
    """The name DRF would use in `"<name> with this <field> already exists."`."""
    return str(table_info.get("verbose_name", table_name.replace("_", " ")))


class SearchableMixin:
    """Keeps `search_text`, the normalised search fields, in step with every ORM write."""

    __search_fields__: ClassVar[tuple[str, ...]] = ()
    search_text: Mapped[str] = mapped_column(Text, default="", nullable=False)

    @classmethod
    def search_text_of(cls, values: Mapping[str, Any]) -> str:
        """`search_text` for a row of these column values (for writes that bypass the ORM)."""
        return search_document(values.get(field) for field in cls.__search_fields__)


@event.listens_for(SearchableMixin, "before_insert", propagate=True)
@event.listens_for(SearchableMixin, "before_update", propagate=True)
def _refresh_search_text(_mapper: Any, _connection: Any, target: SearchableMixin) -> None:
    target.search_text = target.search_text_of(
        {field: getattr(target, field) for field in target.__search_fields__}
    )
