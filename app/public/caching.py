"""HTTP caching of public bodies: strong ETags from the content, `If-None-Match`, `Last-Modified`
from the newest change in the body, `Surrogate-Key`/`Cache-Tag` naming every object in it."""

import hashlib
import json
import re
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from app.public.cache import CachedResponse

# Cloudflare caps Cache-Tag at 16 KB; past it a body names its collection and its own objects
# only, and a purge by collection key still reaches it.
SURROGATE_KEYS_MAX_BYTES = 16 * 1024
# The fields that embed another object, and what kind of object it is.
EMBEDDED_KIND = {
    "image_data": "media",
    "images_data": "media",
    "value_file": "media",
    "employer_data": "employer",
    "tags_data": "tag",
}


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


def _walk(value: Any, kind: str | None, keys: list[str], times: list[str]) -> None:
    if isinstance(value, dict):
        if kind is not None and "id" in value:
            keys.append(f"{kind}-{value['id']}")
        updated_at = value.get("updated_at")
        if isinstance(updated_at, str):
            times.append(updated_at)
        for field, child in value.items():
            _walk(child, EMBEDDED_KIND.get(field), keys, times)
    elif isinstance(value, list):
        for item in value:
            _walk(item, kind, keys, times)


def describe(collection: str, kind: str, payload: Any) -> tuple[list[str], str | None]:
    """The surrogate keys of a body (its collection first, then every object it shows, each once)
    and its `Last-Modified` (the newest `updated_at` in it), from the parsed body; `payload` is
    one object or a page envelope of `kind` objects."""
    keys: list[str] = []
    times: list[str] = []
    items = payload.get("results") if isinstance(payload, dict) and "results" in payload else None
    _walk(items if items is not None else payload, kind, keys, times)
    ordered = list(dict.fromkeys([collection, *keys]))
    newest = max(times, key=lambda moment: moment[:19]) if times else None  # to the second
    return _within_limit(ordered, kind), _http_date(newest) if newest else None


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


def cached_response(status: int, body: bytes, collection: str, kind: str) -> CachedResponse:
    payload = json.loads(body)
    keys, last_modified = describe(collection, kind, payload)
    return CachedResponse(status, body, strong_etag(body), last_modified, tuple(keys))
