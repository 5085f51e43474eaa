"""HTTP caching of public bodies: strong ETags from the content, `If-None-Match`, `Last-Modified`
from the newest change in the body, `Surrogate-Key`/`Cache-Tag` naming every object in it."""

import hashlib
import re
from datetime import UTC, datetime
from email.utils import format_datetime

from app.public.cache import CachedResponse

# Cloudflare caps Cache-Tag at 16 KB; past it a body names its collection and its own objects
# only, and a purge by collection key still reaches it.
SURROGATE_KEYS_MAX_BYTES = 16 * 1024


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """`If-None-Match` (compared weakly, as RFC 9110 says): `*`, or a list holding the tag."""
    if not if_none_match:
        return False
    bare = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == bare:
            return True
    return False


# Every object in a public body opens with its id and a field that tells its kind (key order is
# fixed by the read models, in the JSON PostgreSQL writes (`"id" : 1, "title"`) and in Python's
# (`"id":1,"title"`)); inside JSON strings a quote is escaped, so no text can look like one.
_OBJECT = re.compile(
    rb'\{"id"\s*:\s*(\d+),\s*"(title|type|name)"\s*:'
    # A tag or an employer names itself, then shows its image (a link shows its URL).
    rb'(?:\s*"(?:[^"\\]|\\.)*",\s*("image_data"))?'
)
_KIND_OF_FIELD = {b"title": "portfolio", b"type": "media"}
_EMPLOYER_DATA = b'"employer_data"'
_UPDATED_AT = re.compile(rb'"updated_at"\s*:\s*"([^"]+)"')


def describe(collection: str, kind: str, body: bytes) -> tuple[list[str], str | None]:
    """The surrogate keys of a body (its collection first, then every object it shows, each once)
    and its `Last-Modified` (the newest `updated_at` in it), read off the JSON text: no parsing
    of a body that can be hundreds of kilobytes. `kind`: what the body's own objects are."""
    keys = [collection]
    for found in _OBJECT.finditer(body):
        field = found.group(2)
        if field in _KIND_OF_FIELD:
            keys.append(f"{_KIND_OF_FIELD[field]}-{found.group(1).decode()}")
        elif found.group(3):  # an employer is a list's own object, or a portfolio's employer_data
            before = body.rfind(_EMPLOYER_DATA, max(0, found.start() - 24), found.start())
            named = "employer" if kind == "employer" or before != -1 else "tag"
            keys.append(f"{named}-{found.group(1).decode()}")
    times = [found.group(1).decode() for found in _UPDATED_AT.finditer(body)]
    newest = max(times, key=lambda moment: moment[:19]) if times else None  # to the second
    return _within_limit(list(dict.fromkeys(keys)), kind), _http_date(newest) if newest else None


def _within_limit(keys: list[str], kind: str) -> list[str]:
    if len(" ".join(keys).encode()) <= SURROGATE_KEYS_MAX_BYTES:
        return keys
    own = [key for key in keys[1:] if key.startswith(f"{kind}-")]
    shortened = [keys[0], *own]
    if len(" ".join(shortened).encode()) <= SURROGATE_KEYS_MAX_BYTES:
        return shortened
    return keys[:1]


_DRF_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?Z$")


def _http_date(drf_time: str) -> str | None:
    found = _DRF_TIME.match(drf_time)
    if found is None:
        return None
    moment = datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return format_datetime(moment, usegmt=True)


def cached_response(
    status: int,
    body: bytes,
    collection: str,
    kind: str,
    shown: tuple[list[str], datetime | None] | None = None,
) -> CachedResponse:
    """`shown`: the body's object keys and newest `updated_at` when its query wrote them;
    else they are read off the body."""
    if shown is None:
        keys, last_modified = describe(collection, kind, body)
    else:
        object_keys, newest = shown
        keys = _within_limit([collection, *object_keys], kind)
        last_modified = (
            format_datetime(newest.astimezone(UTC).replace(microsecond=0), usegmt=True)
            if newest
            else None
        )
    return CachedResponse(status, body, strong_etag(body), last_modified, tuple(keys))
