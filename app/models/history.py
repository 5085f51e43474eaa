"""The history of changes: who (as they were named then), how, what, with old and new values."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, UTCDateTime, utcnow


class HistoryEntry(IdMixin, Base):
    __tablename__ = "history"
    __table_args__ = (
        Index(None, "kind", "object_id", "id"),
        Index(None, "at"),
        Index(None, "actor_id", "id"),
    )

    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # No foreign key: deleting a user keeps their history readable, with the name they had.
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    actor_username: Mapped[str | None] = mapped_column(String(150), nullable=True)
    via: Mapped[str] = mapped_column(String(16))  # api, cli, worker, import
    action: Mapped[str] = mapped_column(String(16))  # created, updated, deleted, ...
    kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # none: a reorder
    # {field: [old, new]}; id lists for tags and images; {} for delete, restore and purge.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
