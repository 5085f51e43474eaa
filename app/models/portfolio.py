"""Portfolios and what hangs off them: employers, tags, gallery images, links and meta."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import (
    Base,
    BigIntId,
    IdMixin,
    SearchableMixin,
    TimestampMixin,
    UTCDateTime,
)


def media_reference() -> Mapped[int | None]:
    """A media file this row shows; deleting the file clears the reference."""
    return mapped_column(
        BigIntId, ForeignKey("media_file.id", ondelete="SET NULL"), nullable=True, index=True
    )


class Employer(IdMixin, TimestampMixin, SearchableMixin, Base):
    __tablename__ = "portfolio_employer"
    __table_args__ = {"info": {"verbose_name": "employer"}}  # noqa: RUF012
    __search_fields__ = ("name", "description")

    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    image_id: Mapped[int | None] = media_reference()


class Tag(IdMixin, TimestampMixin, SearchableMixin, Base):
    __tablename__ = "portfolio_tag"
    __table_args__ = {"info": {"verbose_name": "tag"}}  # noqa: RUF012
    __search_fields__ = ("name",)

    name: Mapped[str] = mapped_column(String(255), unique=True)
    image_id: Mapped[int | None] = media_reference()


class Portfolio(IdMixin, TimestampMixin, SearchableMixin, Base):
    __tablename__ = "portfolio"
    __table_args__ = (
        Index(None, "order", "created_at"),
        {"info": {"verbose_name": "portfolio"}},
    )
    __search_fields__ = ("title", "slug", "excerpt")

    title: Mapped[str] = mapped_column(String(255), unique=True)
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    excerpt: Mapped[str | None] = mapped_column(String(500), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    image_id: Mapped[int | None] = media_reference()
    employer_id: Mapped[int | None] = mapped_column(
        BigIntId,
        ForeignKey("portfolio_employer.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    )


def _ordered_link(name: str, target: str, column: str) -> Table:
    """An ordered many-to-many: rows go with either side; `position` keeps the given order."""
    return Table(
        name,
        Base.metadata,
        Column(
            "portfolio_id",
            BigIntId,
            ForeignKey("portfolio.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column(column, BigIntId, ForeignKey(target, ondelete="CASCADE"), primary_key=True),
        Column("position", Integer, nullable=False),
        Index(None, column),
    )


portfolio_tags = _ordered_link("portfolio_tags", "portfolio_tag.id", "tag_id")
portfolio_images = _ordered_link("portfolio_images", "media_file.id", "media_id")


class PortfolioLink(IdMixin, TimestampMixin, SearchableMixin, Base):
    __tablename__ = "portfolio_link"
    __table_args__ = (
        Index(None, "portfolio_id", "order", "created_at"),
        {"info": {"verbose_name": "portfolio link"}},
    )
    __search_fields__ = ("name", "url")

    portfolio_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("portfolio.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    order: Mapped[int] = mapped_column(Integer, default=0)
    image_id: Mapped[int | None] = media_reference()


class PortfolioMeta(IdMixin, TimestampMixin, SearchableMixin, Base):
    __tablename__ = "portfolio_meta"
    __table_args__ = (
        UniqueConstraint("portfolio_id", "key"),
        {"info": {"verbose_name": "portfolio meta"}},
    )
    __search_fields__ = ("key", "value_text")

    portfolio_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("portfolio.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(255))
    value_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    value_file_id: Mapped[int | None] = media_reference()
