"""Change events (the outbox), webhook endpoints and their deliveries, and background jobs."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, TimestampMixin, UTCDateTime, utcnow


class Event(Base):
    """A committed change, written in the transaction that made it; `body` is what receivers
    get, byte for byte, on every attempt."""

    __tablename__ = "event"
    __table_args__ = (
        # The dispatcher's queue: only the few events not yet turned into deliveries.
        Index(
            "ix_event_undispatched",
            "seq",
            postgresql_where=text("NOT dispatched"),
            sqlite_where=text("NOT dispatched"),
        ),
        Index(None, "created_at"),
        {"sqlite_autoincrement": True},
    )

    # Commit order, roughly: the order of deliveries to an endpoint.
    seq: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)  # evt_..., the `webhook-id`
    type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    body: Mapped[str] = mapped_column(Text)
    dispatched: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set for an event meant for one endpoint only (`webhook.ping`), whatever its filter.
    endpoint_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), nullable=True
    )


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    __tablename__ = "webhook_endpoint"

    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["*"])
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # The signing keys must be read to sign, so they are stored as they are (not as digests).
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True
    )
    # Since when every attempt failed (None: the last attempt succeeded).
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The worker delivering to this endpoint now, until when (deliveries stay in order).
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebhookDelivery(IdMixin, Base):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index(None, "endpoint_id", "id"),
        Index(
            "ix_webhook_delivery_due",
            "endpoint_id",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(None, "created_at"),
    )

    endpoint_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("webhook_endpoint.id", ondelete="CASCADE")
    )
    event_seq: Mapped[int] = mapped_column(BigIntId, ForeignKey("event.seq", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # succeeded, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Job(IdMixin, Base):
    """A unit of background work; a done job is deleted, a failed one kept for `jobs status`."""

    __tablename__ = "job"
    __table_args__ = (Index(None, "status", "run_at"),)

    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # running, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobSchedule(Base):
    """When each periodic task (retention, later trash expiry) is next due, for all workers."""

    __tablename__ = "job_schedule"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime())
