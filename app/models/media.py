"""Uploaded files and the thumbnails made of images."""

from typing import Any
from urllib.parse import quote

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, BigIntId, IdMixin, SearchableMixin, TimestampMixin


class StoredMixin:
    """A storage key, and the same key percent-encoded for URLs (so SQL can build them)."""

    # e.g. core_media/2026/01/13/پیک_موتوری.jpg
    path: Mapped[str] = mapped_column(String(500), unique=True)
    url_path: Mapped[str] = mapped_column(String(1500), default="")


@event.listens_for(StoredMixin, "before_insert", propagate=True)
@event.listens_for(StoredMixin, "before_update", propagate=True)
def _encode_url_path(_mapper: Any, _connection: Any, target: StoredMixin) -> None:
    target.url_path = quote(target.path)


class MediaFile(IdMixin, TimestampMixin, SearchableMixin, StoredMixin, Base):
    __tablename__ = "media_file"
    __table_args__ = (Index(None, "created_at"), {"info": {"verbose_name": "media file"}})
    __search_fields__ = ("name",)

    # "image", "video", "audio", "document" or "file", decided by the content.
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    alt: Mapped[str] = mapped_column(Text, default="")
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The backend holding the file and its thumbnails ("local" or "s3"): storage migrations
    # switch a row once every object of it is copied.
    storage: Mapped[str] = mapped_column(String(16), default="local", server_default="local")
    # Images only: a ThumbHash (base64), and where crops should centre (NULL: the middle).
    placeholder: Mapped[str | None] = mapped_column(String(64), nullable=True)
    focal_x: Mapped[float | None] = mapped_column(Float, nullable=True)
    focal_y: Mapped[float | None] = mapped_column(Float, nullable=True)
    # PostgreSQL only: the file object as the API shows it, its URLs without their prefix,
    # kept by triggers on this table and its renditions' (see app.common.json_sql). Never
    # loaded by the ORM; NULL on SQLite.
    object_json: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)

    thumbnails: Mapped[list["MediaThumbnail"]] = relationship(
        back_populates="file",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="MediaThumbnail.box",
    )
    variants: Mapped[list["MediaVariant"]] = relationship(
        back_populates="file",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="[MediaVariant.box, MediaVariant.format]",
    )


class MediaThumbnail(IdMixin, StoredMixin, Base):
    __tablename__ = "media_thumbnail"
    __table_args__ = (Index(None, "file_id", "box", unique=True),)

    file_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("media_file.id", ondelete="CASCADE"))
    # The edge of the square box the thumbnail fits in (64, 128, 512, 1080).
    box: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)

    file: Mapped[MediaFile] = relationship(back_populates="thumbnails", lazy="raise")


class MediaVariant(IdMixin, StoredMixin, Base):
    """A thumbnail box rendered in a modern format (WebP, AVIF) by a job after the upload."""

    __tablename__ = "media_variant"
    __table_args__ = (Index(None, "file_id", "box", "format", unique=True),)

    file_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("media_file.id", ondelete="CASCADE"))
    box: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(8))  # "webp", "avif"
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)

    file: Mapped[MediaFile] = relationship(back_populates="variants", lazy="raise")


class UsedMediaName(Base):
    """Every storage key ever given to an upload, kept after the file is deleted: a name, once
    served (and perhaps cached for a year as immutable), never names other bytes."""

    __tablename__ = "media_used_name"

    path: Mapped[str] = mapped_column(String(500), primary_key=True)
