"""The trash: a deleted object's rows, kept whole for 30 days so that it can come back as it was.

A trashed object leaves the live tables (so no read anywhere can show it, and no query needs a
filter): its rows, those of what went with it (a portfolio's links, meta, tags and gallery; a
media file's thumbnails) and the references that pointed at it are kept here until it is
restored or purged. Its unique values stay reserved meanwhile."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, UTCDateTime, utcnow


class TrashItem(IdMixin, Base):
    __tablename__ = "trash_item"
    __table_args__ = (
        UniqueConstraint("kind", "object_id"),
        Index(None, "deleted_at"),
        Index(None, "parent_id"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str] = mapped_column(String(500))
    parent_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # a child's portfolio
    # {table: [row, ...]} with every column, in the order they are inserted back.
    rows: Mapped[dict[str, list[dict[str, Any]]]] = mapped_column(JSON)
    # [[table, column, row id], ...]: references set back to the object on restore, if still empty.
    repairs: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    files: Mapped[list[str]] = mapped_column(JSON, default=list)  # storage keys, removed by purge
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_by_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    deleted_by_username: Mapped[str | None] = mapped_column(String(150), nullable=True)


class TrashReservation(Base):
    """A unique value of a trashed object (a title, a slug, a name; a meta key within its
    portfolio), which nobody else may take until the object is purged."""

    __tablename__ = "trash_reservation"

    table: Mapped[str] = mapped_column(String(64), primary_key=True)
    column: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" or the portfolio id
    value: Mapped[str] = mapped_column(String(500), primary_key=True)
    item_id: Mapped[int] = mapped_column(BigInteger, index=True)
