"""ORM models. They reference each other, so they live together (and Alembic sees them all)."""

from app.models.base import Base, IdMixin, SearchableMixin, TimestampMixin

__all__ = ["Base", "IdMixin", "SearchableMixin", "TimestampMixin"]
