"""Slugs as Django's `slugify(allow_unicode=True)` makes them, kept unique with -2, -3, ..."""

import re
import unicodedata
from collections.abc import Collection

from pydantic_core import PydanticCustomError

SLUG_PATTERN = re.compile(r"^[-\w]+$")
SLUG_MESSAGE = (
    "Enter a valid “slug” consisting of Unicode letters, numbers, underscores, or hyphens."
)


def slugify(text: str, fallback: str) -> str:
    """`طراحی سایت` -> `طراحی-سایت`; a text with no letters or digits gives `fallback`."""
    value = unicodedata.normalize("NFKC", text)
    value = re.sub(r"[^\w\s-]", "", value.lower())
    value = re.sub(r"[-\s]+", "-", value).strip("-_")
    return value[:200] or fallback


def numbered(base: str, start: int, count: int) -> list[str]:
    """`count` slugs of the series `base`, `base-2`, `base-3`, ..., from its `start`th."""
    return [base if number == 1 else f"{base}-{number}" for number in range(start, start + count)]


def first_free(candidates: list[str], taken: Collection[str]) -> str | None:
    """The first candidate not taken, if any."""
    return next((slug for slug in candidates if slug not in taken), None)


def validate_slug(value: str) -> str:
    """A given slug must be one; an empty one means "generate it"."""
    if value and not SLUG_PATTERN.fullmatch(value):
        raise PydanticCustomError("invalid_slug", SLUG_MESSAGE)
    return value
