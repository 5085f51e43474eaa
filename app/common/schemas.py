"""Base request/response schemas: DRF's string handling and DRF's datetime format."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.common.query import INT64_MAX, INT64_MIN, MAX_LIST_ITEMS, NULL_CHARACTERS, too_many_items

REFERENCE_SCHEMA = {"type": "integer", "format": "int64", "description": "An object id."}


def drf_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with `Z`; microseconds only when not zero (as DRF writes them)."""
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


# The serialiser returns text; the document still says what the text is (clients parse it).
DateTimeOut = Annotated[
    datetime,
    PlainSerializer(drf_datetime, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _strings(value: Any) -> Iterator[str]:
    """Every string in `value`, keys included. A loop, not recursion: a body nested a few
    hundred levels deep (the JSON parser allows about 900) must not exhaust the stack."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, list | tuple):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())


_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_unstorable(value: Any) -> Any:
    """DRF's CharField refusals, applied to every string in a value: NUL (PostgreSQL cannot
    store it) and lone surrogates (JSON's `\\ud800` parses, but is not text: no UTF-8)."""
    for text in _strings(value):
        if "\x00" in text:
            raise PydanticCustomError("null_characters", NULL_CHARACTERS)
        surrogate = _SURROGATE.search(text)
        if surrogate is not None:
            raise PydanticCustomError(
                "surrogate_characters",
                "Surrogate characters are not allowed: U+{code_point}.",
                {"code_point": f"{ord(surrogate.group()):X}"},
            )
    return value


# For values validated outside a `RequestSchema`, such as form fields.
NoNullCharacters = BeforeValidator(_refuse_unstorable)


@cache
def _length_limits(model: type[BaseModel]) -> dict[str, int]:
    """Each string field's `maxLength`, as OpenAPI states it."""
    limits: dict[str, int] = {}
    for name, schema in model.model_json_schema()["properties"].items():
        for branch in (schema, *schema.get("anyOf", ())):
            if branch.get("type") == "string" and "maxLength" in branch:
                limits[name] = branch["maxLength"]
    return limits


class RequestSchema(BaseModel):
    """A request body: unknown and read-only fields ignored, strings trimmed, NUL and lone
    surrogates refused."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def check_sent_strings(cls, value: Any, info: ValidationInfo) -> Any:
        """NUL and lone surrogates refused at any depth; a string longer than OpenAPI's
        `maxLength` refused as sent, before trimming could bring it under the limit."""
        value = _refuse_unstorable(value)
        limit = _length_limits(cls).get(info.field_name or "")
        if isinstance(value, str) and limit is not None and len(value) > limit:
            raise PydanticCustomError(
                "string_too_long",
                "Ensure this field has no more than {max_length} characters.",
                {"max_length": limit},
            )
        return value

    def given(self) -> dict[str, Any]:
        """The fields the client sent (a PATCH touches only these)."""
        return self.model_dump(include=self.model_fields_set)


def _not_a_boolean(value: Any) -> Any:
    """JSON's `true` is no integer (DRF refuses it too), although Python's `True` is one."""
    if isinstance(value, bool):
        raise PydanticCustomError("invalid_integer", "A valid integer is required.")
    return value


# Body fields typed as JSON types: a boolean is `true` or `false` (not `0` or `"yes"`), and an
# integer is never a boolean. (A numeric string still reads as its number, as in DRF.)
NotABoolean = BeforeValidator(_not_a_boolean)  # after any constraints, for their OpenAPI form
Integer = Annotated[int, NotABoolean]
Boolean = Annotated[bool, Strict()]


def omittable(**constraints: Any) -> Any:
    """A PATCH field that may be left out but, when sent, must not be null.

    The `None` default is never validated, so "absent" stays distinguishable from an explicit
    `null`, which fails validation with DRF's "This field may not be null.".
    """
    return Field(default=None, **constraints)


def _reference(value: Any) -> int:
    """DRF's PrimaryKeyRelatedField: an id (a numeric string will do); an object's `id` too."""
    if isinstance(value, dict) and "id" in value:
        value = value["id"]  # an SPA sends back the object it read
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PydanticCustomError(
            "incorrect_type",
            "Incorrect type. Expected pk value, received {kind}.",
            {"kind": type(value).__name__},
        )
    text = str(value).strip()
    if not text.lstrip("-").isdigit() or len(text) > 20 or not INT64_MIN <= int(text) <= INT64_MAX:
        raise PydanticCustomError(
            "does_not_exist", 'Invalid pk "{pk}" - object does not exist.', {"pk": text}
        )
    return int(text)


def _unique_references(values: Any) -> Any:
    """A list of ids keeps the order given and drops repeats; at most `MAX_LIST_ITEMS`."""
    if isinstance(values, list):
        seen: dict[Any, None] = {}
        for value in values:
            key = value.get("id") if isinstance(value, dict) else value
            seen.setdefault(str(key) if not isinstance(key, dict | list) else id(value), value)
        error = too_many_items(len(seen))
        if error is not None:
            raise error
        return list(seen.values())
    return values


Reference = Annotated[int, BeforeValidator(_reference), WithJsonSchema(REFERENCE_SCHEMA)]
ReferenceList = Annotated[
    list[Reference],
    BeforeValidator(_unique_references),
    WithJsonSchema({"type": "array", "items": REFERENCE_SCHEMA, "maxItems": MAX_LIST_ITEMS}),
]

_DATETIME_FORMAT_MESSAGE = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)


# A day inside Python's calendar: any time zone keeps a value in range, and neither end is
# stored (asyncpg writes datetime.min and datetime.max as PostgreSQL's -infinity and infinity).
_EARLIEST = datetime(1, 1, 2)
_LATEST = datetime(9999, 12, 30)


def _in_range(value: datetime) -> datetime:
    try:
        naive_utc = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    except OverflowError:
        naive_utc = datetime.min
    if not _EARLIEST <= naive_utc <= _LATEST:
        raise PydanticCustomError("overflow", "Datetime value out of range.")
    return value


def _parse_body_datetime(text: str) -> datetime | None:
    text = text.strip()
    if len(text) < 16 or text[10] not in "Tt ":
        return None
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None


def _body_datetime(value: Any) -> Any:
    parsed = _parse_body_datetime(value) if isinstance(value, str) else value
    if not isinstance(parsed, datetime):
        raise PydanticCustomError("datetime_format", _DATETIME_FORMAT_MESSAGE)
    return _in_range(parsed)


# Naive values are read in the configured time zone by the service that stores them.
DateTimeIn = Annotated[
    datetime,
    BeforeValidator(_body_datetime),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
