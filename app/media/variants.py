"""Images for the web: WebP and AVIF variants of each thumbnail box, made by a job after the upload
commits. Pillow work, run in threads (never on the event loop).

A variant is what a browser shows: oriented as the camera held it, in sRGB, alpha kept where the
source has any, and no metadata at all (no EXIF, no GPS, no colour profile: sRGB is assumed).
"""

import io
import tempfile
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageFile, ImageOps

from app.media.colour import in_srgb
from app.media.images import (
    DECODE_BLOCK,
    SMALL_PIXELS,
    ImageTooLarge,
    InvalidImage,
    pixels_named_in,
    turns_sideways,
    upright_fit,
)


@dataclass(frozen=True)
class VariantFormat:
    name: str  # as MEDIA_VARIANT_FORMATS and the API spell it
    pillow_format: str
    mime_type: str
    extension: str


FORMATS = {
    "webp": VariantFormat("webp", "WEBP", "image/webp", ".webp"),
    "avif": VariantFormat("avif", "AVIF", "image/avif", ".avif"),
}


@dataclass(frozen=True)
class Encoding:
    """How hard the encoders work (README: "Media for the web" gives the measured trade-off)."""

    webp_quality: int = 80
    avif_quality: int = 60
    avif_speed: int = 9

    def options(self, variant_format: VariantFormat) -> dict[str, object]:
        if variant_format.name == "webp":
            return {"quality": self.webp_quality, "method": 4}
        return {"quality": self.avif_quality, "speed": self.avif_speed}


@dataclass
class RenderedVariant:
    box: int
    format: VariantFormat
    file: IO[bytes]  # a temporary file, at its start
    size: int
    width: int
    height: int


def close_all(variants: list[RenderedVariant]) -> None:
    for variant in variants:
        variant.file.close()


def render_variants(
    source: IO[bytes],
    pillow_format: str,
    boxes: list[int],
    formats: list[str],
    max_pixels: int,
    encoding: Encoding,
) -> list[RenderedVariant]:
    """One variant per box and format, by box then format; the first frame of an animation."""
    source.seek(0)
    try:
        with Image.open(source, formats=[pillow_format]) as image:
            pixels = image.width * image.height
            if pixels > max_pixels:
                raise ImageTooLarge(pixels, max_pixels)
            full_size, sideways = image.size, turns_sideways(image)
            web = _web_ready(image, pillow_format, max(boxes))
    except Image.DecompressionBombError as bomb:
        raise ImageTooLarge(pixels_named_in(bomb), max_pixels) from bomb
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImage() from error
    variants: list[RenderedVariant] = []
    try:
        current = web
        for box in sorted(boxes, reverse=True):  # each box from the last: one costly resize
            dimensions = upright_fit(full_size, box, sideways)
            if dimensions != current.size:
                current = current.resize(dimensions, Image.Resampling.HAMMING, reducing_gap=2.0)
            for name in formats:
                variants.append(_encoded(current, box, FORMATS[name], encoding))
    except BaseException:
        close_all(variants)
        raise
    return sorted(variants, key=lambda variant: (variant.box, variant.format.name))


def _web_ready(image: Image.Image, pillow_format: str, largest_box: int) -> Image.Image:
    """The first frame, decoded (JPEGs at the smallest scale covering the largest box), turned
    upright, converted to sRGB RGB or RGBA, and stripped of every piece of metadata."""
    if getattr(image, "is_animated", False):
        image.seek(0)
    if pillow_format == "JPEG":
        image.draft(image.mode, (largest_box, largest_box))
    if isinstance(image, ImageFile.ImageFile):
        image.decodermaxblock = DECODE_BLOCK
    image.load()
    web = in_srgb(ImageOps.exif_transpose(image))
    web.info = {}  # no EXIF, XMP, comments or profile survive into an encoder
    return web


def _encoded(
    image: Image.Image, box: int, variant_format: VariantFormat, encoding: Encoding
) -> RenderedVariant:
    # A real file for large ones: Pillow releases the GIL only when writing to a descriptor.
    output: IO[bytes] = (
        tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
        if image.width * image.height > SMALL_PIXELS
        else io.BytesIO()
    )
    try:
        image.save(output, format=variant_format.pillow_format, **encoding.options(variant_format))
        size = output.seek(0, io.SEEK_END)
        output.seek(0)
    except BaseException:
        output.close()
        raise
    return RenderedVariant(box, variant_format, output, size, image.width, image.height)
