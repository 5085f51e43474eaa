"""Media bodies: the file object of the seeds ("Image Data Structure") and its updates."""

from enum import StrEnum

from pydantic import BaseModel, Field

from app.common.schemas import DateTimeOut, RequestSchema, omittable


# An enum, not a Literal: a named schema, so generated clients have one `MediaType` for the
# `type` filter and the file objects rather than an anonymous enum for each.
class MediaType(StrEnum):
    """What a file is, decided by its content, not its name."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    FILE = "file"


class ThumbnailOut(BaseModel):
    id: int
    f: str = Field(description="Absolute URL of the thumbnail.")
    size: int = Field(description="Edge of the square box it fits in: 64, 128, 512 or 1080.")


class FileOut(BaseModel):
    """A stored file; `value_file` of meta items. Images carry more in `MediaFileOut`."""

    id: int
    type: MediaType = Field(description="Decided by the content, not the name.")
    name: str
    size: int = Field(description="Bytes.")
    human_readable_size: str = Field(examples=["5.00 KB"])
    f: str = Field(description="Absolute URL of the file.")
    mime_type: str
    alt: str
    created_at: DateTimeOut
    updated_at: DateTimeOut


class MediaFileOut(FileOut):
    """`width`, `height`, `mode` and `thumbnails` are present for images only."""

    width: int = omittable(description="Images only.")
    height: int = omittable(description="Images only.")
    mode: str = omittable(description="Images only: RGB, RGBA, P, L, CMYK...")
    thumbnails: list[ThumbnailOut] = omittable(description="Images only.")


class MediaPatch(RequestSchema):
    name: str = omittable(min_length=1, max_length=255)
    alt: str = omittable(max_length=1000)
