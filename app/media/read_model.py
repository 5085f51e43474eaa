"""A media file as the API shows it (the seeds' "Image Data Structure"), its forms side by side.

- `FileOut` (a plain file: meta `value_file`), `ImageOut` (an image, with its image fields and
  renditions) and `MediaFileOut` (either, told apart by `type`): the Pydantic models, for
  OpenAPI.
- `file_payload` / `media_payload`: the Python builders, from rows with the file columns
  (`app.media.repository.FILE_COLUMNS`) and, for images, their thumbnails and variants;
  `loaded_payload` for a file the ORM loaded (or wrote) with them.
- The SQL JSON form, written by PostgreSQL inside the JSON of links and portfolios, is in
  `app.common.json_sql` (`file_by_id_sql`, `media_object_sql`, `embedded_media_sql`): both of
  those packages build on it, and the media endpoints have no database-JSON path.

tests/media/test_read_model.py holds the forms equal.
"""

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, RootModel

from app.common.schemas import DateTimeOut, drf_datetime
from app.media.naming import human_readable_size
from app.media.serialize import UrlFor
from app.models import MediaFile


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


class VariantFormat(StrEnum):
    """A modern image format of the variants (MEDIA_VARIANT_FORMATS)."""

    WEBP = "webp"
    AVIF = "avif"


class VariantOut(BaseModel):
    """A thumbnail box rendered in a modern format: upright, sRGB, without metadata."""

    box: int = Field(description="Edge of the square box it fits in, as the thumbnails'.")
    format: VariantFormat
    width: int
    height: int
    f: str = Field(description="Absolute URL of the variant.")
    bytes: int


class FocalPoint(BaseModel):
    """Where crops should centre, as fractions of the width and height from the top left."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)


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


class ImageOut(FileOut):
    """An image (`type` is `image`): the file fields, its image fields and its renditions."""

    type: Literal[MediaType.IMAGE] = Field(description="Decided by the content, not the name.")
    width: int
    height: int
    mode: str = Field(description="RGB, RGBA, P, L, CMYK...")
    thumbnails: list[ThumbnailOut]
    focal_point: FocalPoint | None = Field(description="Where crops centre; null: the middle.")
    placeholder: str | None = Field(
        description="A ThumbHash (https://evanw.github.io/thumbhash/), standard base64; null"
        " until computed.",
        examples=["HxgCFIggdZkQU5gyZFXf7/393g=="],
    )
    variants: list[VariantOut] = Field(
        description="Each thumbnail box in each of MEDIA_VARIANT_FORMATS, by box then format;"
        " [] until a job has made them (`media.variants_ready` follows)."
    )


class OtherFileOut(FileOut):
    """A file that is not an image: no image fields."""

    type: Literal[MediaType.VIDEO, MediaType.AUDIO, MediaType.DOCUMENT, MediaType.FILE] = Field(
        description="Decided by the content, not the name."
    )


class MediaFileOut(RootModel[Annotated[ImageOut | OtherFileOut, Field(discriminator="type")]]):
    """A media file: an image object, or a file object without image fields, told apart by
    `type` (generated clients narrow on it)."""


def file_payload(row: Any, url_for: UrlFor) -> dict[str, Any]:
    """The file object without image fields (meta `value_file`)."""
    return {
        "id": row.id,
        "type": row.kind,
        "name": row.name,
        "size": row.size,
        "human_readable_size": human_readable_size(row.size),
        "f": url_for(row.path),
        "mime_type": row.mime_type,
        "alt": row.alt,
        "created_at": drf_datetime(row.created_at),
        "updated_at": drf_datetime(row.updated_at),
    }


def focal_point(row: Any) -> dict[str, float] | None:
    return None if row.focal_x is None else {"x": row.focal_x, "y": row.focal_y}


def media_payload(
    row: Any, thumbnails: Iterable[Any], url_for: UrlFor, variants: Iterable[Any] = ()
) -> dict[str, Any]:
    """The seeds' image object: the file fields, then for images the image fields."""
    payload = file_payload(row, url_for)
    if row.kind != "image":
        return payload
    extras = {
        "mime_type": payload.pop("mime_type"),
        "alt": payload.pop("alt"),
        "created_at": payload.pop("created_at"),
        "updated_at": payload.pop("updated_at"),
    }
    payload["width"] = row.width
    payload["height"] = row.height
    payload["mode"] = row.mode
    payload["thumbnails"] = [
        {"id": thumb.id, "f": url_for(thumb.path), "size": thumb.box} for thumb in thumbnails
    ]
    payload["focal_point"] = focal_point(row)
    payload["placeholder"] = row.placeholder
    payload["variants"] = [
        {
            "box": variant.box,
            "format": variant.format,
            "width": variant.width,
            "height": variant.height,
            "f": url_for(variant.path),
            "bytes": variant.size,
        }
        for variant in variants
    ]
    payload.update(extras)
    return payload


def loaded_payload(media: MediaFile, url_for: UrlFor) -> dict[str, Any]:
    """`media_payload` of a file loaded with its thumbnails and variants (images only)."""
    if media.kind != "image":
        return media_payload(media, (), url_for)
    return media_payload(media, media.thumbnails, url_for, media.variants)
