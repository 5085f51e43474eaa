"""The original's response shapes (the seeds'), as the importer reads them.

Only what the importer uses is declared; other fields are ignored, and fields the original may
not show (timestamps of nested objects, a link's `order`, a file's `alt`) are optional. A body
that does not validate is not the original's: the import stops with one line naming where.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from app.common.commands import CommandError


def _aware(moment: datetime) -> datetime:
    """An original run with Django's `USE_TZ = False` writes times without a zone: UTC here."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


Moment = Annotated[datetime, AfterValidator(_aware)]


class OriginalObject(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int


class Thumbnail(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int
    f: str
    size: int


class FileObject(OriginalObject):
    type: str = "file"
    name: str
    size: int
    f: str
    alt: str | None = None
    created_at: Moment | None = None
    updated_at: Moment | None = None

    @property
    def url_path(self) -> str:
        """The path of `f` on its server (`/media/core_media/2026/03/02/a.jpg`), still encoded."""
        return urlsplit(self.f).path

    @property
    def storage_key(self) -> str:
        """`core_media/2026/03/02/a.jpg`: `f`'s path after the media prefix, decoded."""
        path = unquote(self.url_path)
        marker = "/media/"
        at = path.find(marker)
        return path[at + len(marker) :] if at >= 0 else path.lstrip("/")


class Timestamped(OriginalObject):
    created_at: Moment | None = None
    updated_at: Moment | None = None


class EmployerObject(Timestamped):
    name: str
    description: str | None = None
    image_data: FileObject | None = None


class TagObject(Timestamped):
    name: str
    image_data: FileObject | None = None


class LinkObject(Timestamped):
    name: str
    url: str | None = None
    description: str | None = None
    order: int | None = None
    image_data: FileObject | None = None


class MetaObject(OriginalObject):
    key: str
    value_text: str | None = None
    value_file: FileObject | None = None


class PortfolioObject(Timestamped):
    title: str
    slug: str
    excerpt: str | None = None
    description: str | None = None
    order: int = 0
    is_active: bool = True
    completed_at: Moment | None = None
    image_data: FileObject | None = None
    employer_data: EmployerObject | None = None
    tags_data: list[TagObject] = []
    links_data: list[LinkObject] = []
    images_data: list[FileObject] = []
    meta: list[MetaObject] = []


class Page(BaseModel):
    model_config = ConfigDict(extra="ignore")

    count: int
    next: str | None = None
    results: list[dict[str, Any]]


Shape = TypeVar("Shape", bound=BaseModel)


class NotTheOriginal(CommandError):
    """An answer that is not in the original's shape: the URL is not an original deployment."""


def parse(shape: type[Shape], body: Any, where: str) -> Shape:
    """`body` as `shape`, or the import stops naming the first problem and where it was."""
    try:
        return shape.model_validate(body)
    except ValidationError as error:
        problem = error.errors()[0]
        field = ".".join(str(part) for part in problem["loc"]) or "body"
        raise NotTheOriginal(
            f"{where} is not in the original API's shape ({field}: {problem['msg']})"
        ) from None
