"""Strong entity tags for one object's staff responses, and `If-Match` against lost updates.

The tag is a digest of the response body itself, so it changes exactly when the body would
(a link edit changes its portfolio's body, hence its tag). A write with `If-Match` compares it
with the object as it is now, read after the row is locked, so no concurrent write can slip
in between the check and the change; without the header a write proceeds as before."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Header
from fastapi.responses import Response

from app.errors import PreconditionFailed, openapi_responses

Body = bytes | str | dict[str, Any]
R = TypeVar("R", bound=Response)

IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="ETags from earlier responses, or `*`: when none matches the object as it "
        'is now, 412 `{"detail": "The object changed since you read it."}` and nothing changes.',
    ),
]
ETAG_HEADER = {
    "ETag": {
        "description": "A strong tag of this body: send it back in If-Match to write safely.",
        "schema": {"type": "string"},
    }
}


def tag_documented(status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of a route answering one object with its ETag."""
    return {status: {"headers": ETAG_HEADER}}


def if_match_documented(status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of a write that takes If-Match (and answers with an ETag)."""
    documented = openapi_responses([PreconditionFailed])
    if status != 204:
        documented.update(tag_documented(status))
    return documented


def _bytes(body: Body) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    # What JSONResponse sends for a dict: the same bytes give the same tag.
    text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode()


def etag_of(body: Body) -> str:
    return '"' + hashlib.sha256(_bytes(body)).hexdigest()[:32] + '"'


def tagged(response: R) -> R:
    """The response with the ETag of its body."""
    response.headers["ETag"] = etag_of(bytes(response.body))
    return response


def _matches(condition: str, current: str) -> bool:
    """RFC 9110 If-Match: `*`, or a list of tags compared strongly (a weak tag never matches)."""
    if condition.strip() == "*":
        return True
    return any(tag.strip() == current for tag in condition.split(","))


async def as_is(body: Body) -> Body:
    """A body already read, for `require_unchanged`."""
    return body


async def require_unchanged(condition: str | None, current: Callable[[], Awaitable[Body]]) -> None:
    """412 unless `condition` (the If-Match header) matches the object's current body; call it
    once the object is locked for the write (a missing object has given its 404 before)."""
    if condition is None:
        return
    if not _matches(condition, etag_of(await current())):
        raise PreconditionFailed()
