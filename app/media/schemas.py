"""Media request bodies; the file object the responses show is in `app.media.read_model`."""

from app.common.schemas import RequestSchema, omittable

# Re-exported for the packages that still import the response shape from here (links, meta,
# named): their import lines move to `app.media.read_model` with their next change.
from app.media.read_model import FileOut as FileOut
from app.media.read_model import MediaFileOut as MediaFileOut


class MediaPatch(RequestSchema):
    name: str = omittable(min_length=1, max_length=255)
    alt: str = omittable(max_length=1000)
