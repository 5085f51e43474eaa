"""Portfolio bodies, as in the update-portfolio seed."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from app.common.query import INT32_MAX, INT32_MIN
from app.common.schemas import (
    Boolean,
    DateTimeIn,
    DateTimeOut,
    Integer,
    Reference,
    ReferenceList,
    RequestSchema,
    omittable,
)
from app.common.slugs import validate_slug
from app.employers.read_model import EmployerData
from app.links.read_model import LinkData
from app.media.schemas import MediaFileOut
from app.meta.read_model import MetaOut
from app.tags.read_model import TagData

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


class PortfolioOut(BaseModel):
    id: int
    title: str
    slug: str
    excerpt: str | None
    order: int
    image_data: MediaFileOut | None
    employer_data: EmployerData | None
    tags_data: list[TagData]
    links_data: list[LinkData]
    is_active: bool
    completed_at: DateTimeOut | None
    created_at: DateTimeOut
    updated_at: DateTimeOut
    description: str | None
    images_data: list[MediaFileOut]
    meta: list[MetaOut]
