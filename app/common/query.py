"""Typed query parameters with DRF error messages and exactly-stated OpenAPI schemas.

Empty values mean "not given", as django-filter treats them.
"""

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
NULL_CHARACTERS = "Null characters are not allowed."
# Ids in one list (a body's `tags`, repeated `tag=` filters): each is a bind parameter, and
# PostgreSQL takes at most 32767 of them per statement.
MAX_LIST_ITEMS = 1000
_INTEGER = re.compile(r"[+-]?\d{1,20}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _blank(value: Any) -> bool:
    """Empty, not merely white space (`?updated_from=%0C` is a bad date, as OpenAPI says)."""
    return value is None or value == ""


def _reject_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("null_characters", NULL_CHARACTERS)
    return value


def to_int64(value: Any, minimum: int = INT64_MIN) -> int:
    text = _reject_nul(str(value).strip())
    if not _INTEGER.fullmatch(text):
        raise PydanticCustomError("invalid_integer", "A valid integer is required.")
    number = int(text)
    if number < minimum:
        raise PydanticCustomError(
            "min_value",
            "Ensure this value is greater than or equal to {minimum}.",
            {"minimum": minimum},
        )
    if number > INT64_MAX:
        raise PydanticCustomError(
            "max_value",
            "Ensure this value is less than or equal to {maximum}.",
            {"maximum": INT64_MAX},
        )
    return number


def int64_parser(minimum: int = INT64_MIN) -> Callable[[Any], int | None]:
    def parse(value: Any) -> int | None:
        return None if _blank(value) else to_int64(value, minimum)

    return parse


def too_many_items(count: int) -> PydanticCustomError | None:
    """DRF's ListField message for a list longer than `MAX_LIST_ITEMS`."""
    if count <= MAX_LIST_ITEMS:
        return None
    return PydanticCustomError(
        "max_items",
        "Ensure this field has no more than {max_length} elements.",
        {"max_length": MAX_LIST_ITEMS},
    )


def parse_int64_list(values: Any) -> list[int]:
    items = values if isinstance(values, list) else [values]
    ids = list(dict.fromkeys(to_int64(item) for item in items if not _blank(item)))
    error = too_many_items(len(ids))
    if error is not None:
        raise error
    return ids


_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def parse_boolean(value: Any) -> bool | None:
    if _blank(value):
        return None
    text = _reject_nul(str(value).strip().lower())
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise PydanticCustomError("invalid_boolean", "Must be a valid boolean.")


def parse_date(value: Any) -> date | None:
    if _blank(value):
        return None
    text = _reject_nul(str(value).strip())
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise PydanticCustomError("invalid_date", "Enter a valid date.")


def parse_date_or_datetime(value: Any) -> date | datetime | None:
    """An ISO date (`2024-01-31`) or datetime (`2024-01-31T10:00`, optional offset or `Z`)."""
    if _blank(value):
        return None
    text = _reject_nul(str(value).strip())
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
        if len(text) >= 16 and _DATE.fullmatch(text[:10]) and text[10] in "T ":
            return datetime.fromisoformat(text)
    except ValueError:
        pass
    raise PydanticCustomError("invalid_datetime", "Enter a valid date/time.")


def blank_is_absent(value: Any) -> Any:
    """For a query parameter of any other type (an enum): empty means not given."""
    return None if _blank(value) else value


def parse_text(value: Any) -> str | None:
    return None if value is None else _reject_nul(str(value))


def _int64_schema(minimum: int | None = None) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "integer", "format": "int64"}
    if minimum is not None:
        schema["minimum"] = minimum
    return WithJsonSchema(schema)


Int64Query = Annotated[int | None, BeforeValidator(int64_parser()), _int64_schema()]
PositiveInt64Query = Annotated[int | None, BeforeValidator(int64_parser(1)), _int64_schema(1)]
NonNegativeInt64Query = Annotated[int | None, BeforeValidator(int64_parser(0)), _int64_schema(0)]
Int64ListQuery = Annotated[
    list[int],
    BeforeValidator(parse_int64_list),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "integer", "format": "int64"},
            "maxItems": MAX_LIST_ITEMS,
        }
    ),
]
BooleanQuery = Annotated[
    bool | None,
    BeforeValidator(parse_boolean),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {"type": "string", "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)$"},
            ]
        }
    ),
]
DateQuery = Annotated[
    date | None,
    BeforeValidator(parse_date),
    WithJsonSchema({"type": "string", "format": "date"}),
]
DateTimeQuery = Annotated[
    date | datetime | None,
    BeforeValidator(parse_date_or_datetime),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
            ]
        }
    ),
]
TextQuery = Annotated[str | None, BeforeValidator(parse_text), WithJsonSchema({"type": "string"})]

# An object id in a path; anything else (not an integer, out of range) names nothing: 404.
PathId = Annotated[int, Path(ge=1, le=INT64_MAX, description="Object id (64-bit).")]
