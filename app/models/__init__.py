"""ORM models. They reference each other, so they live together (and Alembic sees them all)."""

from app.models.base import Base, IdMixin, SearchableMixin, TimestampMixin
from app.models.events import Event, Job, JobSchedule, WebhookDelivery, WebhookEndpoint
from app.models.history import HistoryEntry
from app.models.imports import ImportedObject
from app.models.media import MediaFile, MediaThumbnail, MediaVariant, UsedMediaName
from app.models.portfolio import (
    Employer,
    Portfolio,
    PortfolioLink,
    PortfolioMeta,
    Tag,
    portfolio_images,
    portfolio_tags,
)
from app.models.trash import TrashItem, TrashReservation
from app.models.user import ApiToken, LoginFailure, User

__all__ = [
    "ApiToken",
    "Base",
    "Employer",
    "Event",
    "HistoryEntry",
    "IdMixin",
    "ImportedObject",
    "Job",
    "JobSchedule",
    "LoginFailure",
    "MediaFile",
    "MediaThumbnail",
    "MediaVariant",
    "Portfolio",
    "PortfolioLink",
    "PortfolioMeta",
    "SearchableMixin",
    "Tag",
    "TimestampMixin",
    "TrashItem",
    "TrashReservation",
    "UsedMediaName",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "portfolio_images",
    "portfolio_tags",
]
