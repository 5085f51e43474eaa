"""Portfolio meta request bodies: a key with a text and/or a file value."""

from pydantic import Field

from app.common.schemas import Reference, RequestSchema, omittable

# The list's `ordering` names (each a column of the same name).
ORDERING_FIELDS = ("id", "key", "created_at", "updated_at")


class MetaIn(RequestSchema):
    key: str = Field(min_length=1, max_length=255, description="Unique within the portfolio.")
    value_text: str | None = None
    value_file: Reference | None = Field(
        default=None, description="A media file id (or an object with that `id`)."
    )


class MetaPatch(RequestSchema):
    key: str = omittable(min_length=1, max_length=255)
    value_text: str | None = None
    value_file: Reference | None = Field(
        default=None, description="A media file id (or an object with that `id`)."
    )
