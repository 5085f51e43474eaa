"""Pydantic validation errors translated to Django REST Framework's field messages."""

from collections.abc import Sequence
from typing import Any

NON_FIELD_ERRORS = "non_field_errors"

_FIXED_MESSAGES = {
    "missing": "This field is required.",
    "int_parsing": "A valid integer is required.",
    "int_type": "A valid integer is required.",
    "int_from_float": "A valid integer is required.",
    "float_parsing": "A valid number is required.",
    "float_type": "A valid number is required.",
    "bool_parsing": "Must be a valid boolean.",
    "bool_type": "Must be a valid boolean.",
    "string_type": "Not a valid string.",
    "datetime_parsing": "Enter a valid date/time.",
    "datetime_from_date_parsing": "Enter a valid date/time.",
    "datetime_type": "Enter a valid date/time.",
    "date_parsing": "Enter a valid date.",
    "date_from_datetime_parsing": "Enter a valid date.",
    "date_type": "Enter a valid date.",
    "url_parsing": "Enter a valid URL.",
    "url_scheme": "Enter a valid URL.",
    "url_type": "Enter a valid URL.",
    "url_too_long": "Enter a valid URL.",
    "string_unicode": "Not a valid string.",
}


# DRF's words for a JSON body of `null`, and for a form field sent where a file belongs.
NO_DATA = "No data provided"
NOT_A_FILE = "The submitted data was not a file. Check the encoding type on the form."


def drf_message(error: Any) -> str:
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    if error.get("input", ...) is None and kind != "missing":
        return NO_DATA if len(error["loc"]) == 1 else "This field may not be null."
    if kind in _FIXED_MESSAGES:
        return _FIXED_MESSAGES[kind]
    if kind == "string_too_long":
        return f"Ensure this field has no more than {ctx['max_length']} characters."
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return "This field may not be blank."
        return f"Ensure this field has at least {ctx['min_length']} characters."
    if kind in {"greater_than_equal", "greater_than"}:
        bound = ctx.get("ge", ctx.get("gt"))
        return f"Ensure this value is greater than or equal to {bound}."
    if kind in {"less_than_equal", "less_than"}:
        bound = ctx.get("le", ctx.get("lt"))
        return f"Ensure this value is less than or equal to {bound}."
    if kind in {"list_type", "tuple_type", "set_type"}:
        return f'Expected a list of items but got type "{_type_name(error.get("input"))}".'
    if kind == "enum":
        # django-filter's ChoiceFilter in a query, DRF's ChoiceField in a body.
        choice = error.get("input")
        if error["loc"][:1] == ("query",):
            return f"Select a valid choice. {choice} is not one of the available choices."
        return f'"{choice}" is not a valid choice.'
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return f"Invalid data. Expected a dictionary, but got {_type_name(error.get('input'))}."
    if kind == "value_error":
        message = str(ctx.get("error") or error["msg"])
        # FastAPI's own check of an `UploadFile` parameter names Python types.
        return NOT_A_FILE if message.startswith("Expected UploadFile") else message
    # Custom errors (PydanticCustomError) already carry the DRF wording.
    return str(error["msg"])


def _type_name(value: Any) -> str:
    return {dict: "dict", list: "list", str: "str", int: "int", float: "float", bool: "bool"}.get(
        type(value), type(value).__name__
    )


def field_name(loc: Sequence[Any]) -> str:
    """`("body", "tags", 0)` -> `"tags"`; the whole body -> `non_field_errors`."""
    names = [part for part in loc[1:] if isinstance(part, str)]
    return names[0] if names else NON_FIELD_ERRORS


def field_errors_from_pydantic(errors: Sequence[Any]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for error in errors:
        messages = result.setdefault(field_name(error["loc"]), [])
        message = drf_message(error)
        if message not in messages:
            messages.append(message)
    return result
