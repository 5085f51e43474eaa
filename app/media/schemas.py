"""Media request bodies; the file object the responses show is in `app.media.read_model`."""

from app.common.schemas import RequestSchema, omittable


class MediaPatch(RequestSchema):
    name: str = omittable(min_length=1, max_length=255)
    alt: str = omittable(max_length=1000)
