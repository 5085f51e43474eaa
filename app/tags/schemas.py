"""Tag request bodies; the response shape is in `read_model`."""

from pydantic import Field

from app.common.schemas import Reference, RequestSchema, omittable


class TagIn(RequestSchema):
    name: str = Field(min_length=1, max_length=255)
    image: Reference | None = Field(default=None, description="Id of an image media file.")


class TagPatch(RequestSchema):
    name: str = omittable(min_length=1, max_length=255)
    image: Reference | None = Field(default=None, description="Id of an image media file.")
