"""What `import-original` brought in: which local objects are the original's (only those are
updated by a later run, or pruned), and what they were made from (a run skips what has not
changed on the original since)."""

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class ImportedObject(Base):
    __tablename__ = "imported_object"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    object_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(500))  # the --from URL
    # A digest of the object as the original showed it (with its references as imported).
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Media: the original's file (`<storage key> <size>`); another one means a new download.
    original_file: Mapped[str | None] = mapped_column(String(600), nullable=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
