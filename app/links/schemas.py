"""Portfolio link request bodies, as in the link seeds (plus `order`); the response shape is in
`app.links.read_model`."""

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from app.common.query import INT32_MAX, INT32_MIN
from app.common.schemas import (
    Integer,
    Reference,
    RequestSchema,
    omittable,
)

_URL_MESSAGE = "Enter a valid URL."


def _http_url(value: str | None) -> str | None:
    """Django's URLValidator in spirit: http(s), a host, no spaces."""
    if value is None or value == "":
        return value
    scheme, _, rest = value.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if scheme.lower() not in ("http", "https") or not host or any(c.isspace() for c in value):
        raise PydanticCustomError("invalid_url", _URL_MESSAGE)
    hostname = host.rsplit("@", 1)[-1].split(":", 1)[0]
    if not hostname or (hostname != "localhost" and "." not in hostname.strip("[]")):
        raise PydanticCustomError("invalid_url", _URL_MESSAGE)
    return value


Url = Annotated[str | None, Field(max_length=200), AfterValidator(_http_url)]


class LinkIn(RequestSchema):
    name: str = Field(min_length=1, max_length=255, description="Not unique.")
    url: Url = None
    image: Reference | None = Field(default=None, description="Id of an image media file.")
    description: str | None = None
    order: Integer = Field(default=0, description="Lower first.", ge=INT32_MIN, le=INT32_MAX)


class LinkPatch(RequestSchema):
    name: str = omittable(min_length=1, max_length=255)
    url: Url = None
    image: Reference | None = None
    description: str | None = None
    order: Integer = omittable(ge=INT32_MIN, le=INT32_MAX)
