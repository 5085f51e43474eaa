"""Portfolio requests: the bodies, as in the update-portfolio seed, and the parsed list
request; the response shape is in `app.portfolios.read_model`."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from app.common.listing import ListQuery
from app.common.query import INT32_MAX, INT32_MIN
from app.common.schemas import (
    Boolean,
    DateTimeIn,
    Integer,
    Reference,
    ReferenceList,
    RequestSchema,
    omittable,
)
from app.common.slugs import validate_slug

Slug = Annotated[str, Field(max_length=255), AfterValidator(validate_slug)]


class PortfolioFields(RequestSchema):
    """Everything but `title`, whose requiredness differs between create and update."""

    is_active: Boolean = Field(default=True, description="Shown on the site (default true).")
    slug: Slug | None = Field(
        default=None, description="Unique; generated from the title when absent or empty."
    )
    excerpt: str | None = Field(default=None, max_length=500)
    order: Integer = Field(default=0, description="Display order.", ge=INT32_MIN, le=INT32_MAX)
    completed_at: DateTimeIn | None = Field(
        default=None, description="When the project was finished, released or published."
    )
    image: Reference | None = Field(default=None, description="Id of an image media file.")
    employer: Reference | None = Field(default=None, description="Id of an employer.")
    tags: ReferenceList = Field(default_factory=list, description="Tag ids, in order.")
    images: ReferenceList = Field(default_factory=list, description="Gallery image ids, in order.")
    description: str | None = None


class PortfolioIn(PortfolioFields):
    title: str = Field(min_length=1, max_length=255, description="Unique.")


class PortfolioPatch(RequestSchema):
    title: str = omittable(min_length=1, max_length=255)
    is_active: Boolean = omittable()
    slug: Slug | None = None
    excerpt: str | None = Field(default=None, max_length=500)
    order: Integer = omittable(ge=INT32_MIN, le=INT32_MAX)
    completed_at: DateTimeIn | None = None
    image: Reference | None = None
    employer: Reference | None = None
    tags: ReferenceList = omittable()
    images: ReferenceList = omittable()
    description: str | None = None


@dataclass(frozen=True)
class PortfolioQuery(ListQuery):
    """A list request, parsed: a `ListQuery` (`has_image`, `has_employer`, `is_active` among
    its presence filters and flags) and what only portfolios are filtered by."""

    employer: int | None = None
    tags: Sequence[int] = ()
    completed_from: date | datetime | None = None
    completed_to: date | datetime | None = None
