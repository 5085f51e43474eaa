"""Base request/response schemas: DRF's string handling and DRF's datetime format."""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.common.query import INT64_MAX, INT64_MIN, NULL_CHARACTERS

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


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_contains_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    return False


def _refuse_nul(value: Any) -> Any:
    if _contains_nul(value):
        raise PydanticCustomError("null_characters", NULL_CHARACTERS)
    return value


# For values validated outside a `RequestSchema`, such as form fields.
NoNullCharacters = BeforeValidator(_refuse_nul)


class RequestSchema(BaseModel):
    """A request body: unknown and read-only fields ignored, strings trimmed, NUL refused."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def refuse_null_characters(cls, value: Any) -> Any:
        return _refuse_nul(value)

    def given(self) -> dict[str, Any]:
        """The fields the client sent (a PATCH touches only these)."""
        return self.model_dump(include=self.model_fields_set)


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
    """A list of ids keeps the order given and drops repeats."""
    if isinstance(values, list):
        seen: dict[Any, None] = {}
        for value in values:
            key = value.get("id") if isinstance(value, dict) else value
            seen.setdefault(str(key) if not isinstance(key, dict | list) else id(value), value)
        return list(seen.values())
    return values


Reference = Annotated[int, BeforeValidator(_reference), WithJsonSchema(REFERENCE_SCHEMA)]
ReferenceList = Annotated[list[Reference], BeforeValidator(_unique_references)]

_DATETIME_FORMAT_MESSAGE = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)


def _body_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) >= 16 and text[10] in "Tt ":
                return datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            pass
    raise PydanticCustomError("datetime_format", _DATETIME_FORMAT_MESSAGE)


# Naive values are read in the configured time zone by the service that stores them.
DateTimeIn = Annotated[
    datetime,
    BeforeValidator(_body_datetime),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
