"""Media request bodies; the file object the responses show is in `app.media.read_model`."""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from app.common.schemas import RequestSchema, omittable


def _a_number(value: Any) -> Any:
    if isinstance(value, bool):  # JSON's true is no number (Python's True is one)
        raise PydanticCustomError("float_type", "A valid number is required.")
    return value


def _within_unit_interval(value: float) -> float:
    if not 0 <= value <= 1:  # NaN too
        raise PydanticCustomError("focal_range", "Ensure this value is between 0 and 1.")
    return value


Fraction = Annotated[
    float,
    Field(json_schema_extra={"minimum": 0, "maximum": 1}),
    BeforeValidator(_a_number),
    AfterValidator(_within_unit_interval),
]


class FocalPointIn(BaseModel):
    """Where crops should centre, as fractions of the width and height from the top left."""

    model_config = ConfigDict(extra="ignore")

    x: Fraction
    y: Fraction


class MediaPatch(RequestSchema):
    name: str = omittable(min_length=1, max_length=255)
    alt: str = omittable(max_length=1000)
    focal_point: FocalPointIn | None = Field(
        default=None, description="Images only; null: the centre."
    )

    def given(self) -> dict[str, Any]:
        given = super().given()
        if "focal_point" in given and given["focal_point"] is not None:
            given["focal_point"] = (given["focal_point"]["x"], given["focal_point"]["y"])
        return given
