"""ORM models. They reference each other, so they live together (and Alembic sees them all)."""

from app.models.base import Base, IdMixin, SearchableMixin, TimestampMixin
from app.models.media import MediaFile, MediaThumbnail
from app.models.user import ApiToken, LoginFailure, User

__all__ = [
    "ApiToken",
    "Base",
    "IdMixin",
    "LoginFailure",
    "MediaFile",
    "MediaThumbnail",
    "SearchableMixin",
    "TimestampMixin",
    "User",
]
