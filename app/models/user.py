"""Accounts: users with permission codes, their API tokens, and failed logins."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, BigIntId, IdMixin, SearchableMixin, TimestampMixin, UTCDateTime


class User(IdMixin, TimestampMixin, SearchableMixin, Base):
    __tablename__ = "auth_user"
    __table_args__ = {"info": {"verbose_name": "user"}}  # noqa: RUF012
    __search_fields__ = ("username", "email")

    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    # Permission codes (see app.auth.permissions), read with the user in one query.
    permissions: Mapped[list[int]] = mapped_column(JSON, default=list)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    tokens: Mapped[list["ApiToken"]] = relationship(
        back_populates="user", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class ApiToken(IdMixin, Base):
    """An API key, stored only as its SHA-256 digest; the key itself is shown once."""

    __tablename__ = "auth_token"

    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("auth_user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255), default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, so a person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[User] = relationship(back_populates="tokens", lazy="raise")

    __table_args__ = (Index(None, "user_id"),)


class LoginFailure(IdMixin, Base):
    """One failed (or not yet decided) login, counted by every replica per username, per client
    address and per both. Both are stored as SHA-256 digests: a key of any length a request can
    carry fits, and the table names nobody."""

    __tablename__ = "auth_login_failure"

    username_digest: Mapped[str] = mapped_column(String(64))
    address_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index(None, "username_digest", "address_digest", "created_at"),
        Index(None, "address_digest", "created_at"),
    )
