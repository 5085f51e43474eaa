"""Base request/response schemas: DRF's string handling and DRF's datetime format."""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator
from pydantic_core import PydanticCustomError

from app.common.query import NULL_CHARACTERS


def drf_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with `Z`; microseconds only when not zero (as DRF writes them)."""
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


DateTimeOut = Annotated[datetime, PlainSerializer(drf_datetime, return_type=str)]


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
