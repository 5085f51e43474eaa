"""Image work with Pillow: inspection, thumbnails and location stripping. Runs in threads.

Nothing here touches the event loop: the service hands these functions to a thread pool.
"""

import io
import math
import re
import tempfile
from dataclasses import dataclass, field
from typing import IO

from PIL import Image, ImageFile, ImageOps

from app.media.metadata import UnreadableMetadata, strip_location
from app.media.placeholders import placeholder

# Pillow's own bomb check stays in force (DecompressionBombError past twice this): it guards
# every open and every later frame or page, while IMAGE_MAX_PIXELS, lower, is checked on the
# first frame before anything is decoded.
PILLOW_MAX_PIXELS = Image.MAX_IMAGE_PIXELS

JPEG_QUALITY = 85
ORIENTATION = 0x0112
SMALL_PIXELS = 256 * 256
DECODE_BLOCK = 64 * 1024 * 1024  # larger than any upload
KEEPS_ALPHA = {"PNG", "GIF", "WEBP", "BMP", "TIFF"}


class InvalidImage(Exception):
    """The content claims to be an image but Pillow cannot decode it."""

    message = (
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
    )


class MetadataNotRemovable(InvalidImage):
    """Metadata that cannot be parsed, on an image that cannot be re-encoded without it."""

    message = (
        "The image's metadata could not be read safely to remove its location, and the image"
        " cannot be re-encoded without it (an animation or a multi-page image is not). Remove its"
        " metadata and upload it again."
    )


class ImageTooLarge(InvalidImage):
    """More pixels than allowed: a decompression bomb, refused before decoding."""

    def __init__(self, pixels: int, limit: int) -> None:
        super().__init__()
        self.message = f"Image is too large: {pixels} pixels, the limit is {limit}."


@dataclass
class Thumbnail:
    box: int
    file: IO[bytes]  # a temporary file, at its start
    size: int
    width: int
    height: int


@dataclass
class ProcessedImage:
    width: int
    height: int
    mode: str
    thumbnails: list[Thumbnail] = field(default_factory=list)
    # The original without its location metadata (re-encoded when its metadata could not be
    # parsed), when it had any; None: keep it as it is.
    cleaned_original: bytes | None = None
    placeholder: str | None = None  # a ThumbHash of the smallest thumbnail

    def close(self) -> None:
        for thumbnail in self.thumbnails:
            thumbnail.file.close()


def pixels_named_in(bomb: Image.DecompressionBombError) -> int:
    """ "Image size (400000000 pixels) exceeds limit of ..." -> 400000000 (0 if not said)."""
    found = re.search(r"\((\d+) pixels\)", str(bomb))
    return int(found.group(1)) if found else 0


def process_image(
    source: IO[bytes], pillow_format: str, boxes: list[int], max_pixels: int
) -> ProcessedImage:
    """Inspect `source` and render one thumbnail per box, largest first, each from the last."""
    source.seek(0)
    try:
        with Image.open(source, formats=[pillow_format]) as image:
            pixels = image.width * image.height
            if pixels > max_pixels:
                raise ImageTooLarge(pixels, max_pixels)
            result = ProcessedImage(image.width, image.height, image.mode)
            result.thumbnails, result.placeholder = _render_thumbnails(
                image, pillow_format, sorted(boxes, reverse=True)
            )
    except Image.DecompressionBombError as bomb:  # past Pillow's own limit, at open
        raise ImageTooLarge(pixels_named_in(bomb), max_pixels) from bomb
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImage() from error
    source.seek(0)
    try:
        result.cleaned_original = strip_location(source.read(), pillow_format)
    except UnreadableMetadata as error:
        result.close()
        raise MetadataNotRemovable() from error
    return result


def _render_thumbnails(
    image: Image.Image, pillow_format: str, boxes: list[int]
) -> tuple[list[Thumbnail], str | None]:
    """A cascade: the largest thumbnail from the original, each smaller one from the last; and
    the placeholder, from the smallest.

    The first step is the only expensive one. It decodes JPEGs at the smallest 1/2^n scale that
    still covers the largest box and applies the EXIF orientation after shrinking, not before.
    Every step resamples with Hamming: it costs 40% of Lanczos, and a stored JPEG thumbnail is as
    close to a Lanczos resize of the original either way (the encoding's error dwarfs the
    filter's: bench/thumbnail_filters.py).
    """
    if getattr(image, "is_animated", False):
        image.seek(0)  # the first frame
    full_size = image.size
    if pillow_format == "JPEG" and boxes:
        image.draft(image.mode, (boxes[0], boxes[0]))
    # Decoded in one call, not in 64 KiB pieces: each piece would take the GIL back, and
    # wait for it while the event loop runs.
    if isinstance(image, ImageFile.ImageFile):
        image.decodermaxblock = DECODE_BLOCK
    image.load()
    current = _resizable(image)
    thumbnails: list[Thumbnail] = []
    try:
        smallest = _render_cascade(image, current, pillow_format, boxes, thumbnails, full_size)
        return thumbnails, placeholder(smallest) if thumbnails else None
    except BaseException:
        for thumbnail in thumbnails:
            thumbnail.file.close()
        raise


def _render_cascade(
    original: Image.Image,
    current: Image.Image,
    pillow_format: str,
    boxes: list[int],
    thumbnails: list[Thumbnail],
    full_size: tuple[int, int],
) -> Image.Image:
    """The thumbnails appended to `thumbnails`; the last (smallest) one's image. Each box's
    size is the fit of the whole original (not of the last, rounded, step)."""
    turned = turns_sideways(original)
    for step, box in enumerate(boxes):
        dimensions = fitted(full_size, box)
        if step > 0 and turned:  # the first step turned the image upright
            dimensions = dimensions[::-1]
        if dimensions != current.size:  # resized into a new image: no copy needed first
            current = current.resize(dimensions, Image.Resampling.HAMMING, reducing_gap=2.0)
        if step == 0:
            current = ImageOps.exif_transpose(_with_exif(current, original))
        encoded = _encode(current, pillow_format)
        size = encoded.seek(0, io.SEEK_END)
        encoded.seek(0)
        thumbnails.append(Thumbnail(box, encoded, size, *current.size))
    return current


def turns_sideways(image: Image.Image) -> bool:
    """Whether the EXIF orientation swaps width and height (a portrait shot held sideways)."""
    return image.getexif().get(ORIENTATION) in (5, 6, 7, 8)


def upright_fit(size: tuple[int, int], box: int, sideways: bool) -> tuple[int, int]:
    """`fitted` of an image of `size` as stored, turned upright when `sideways`."""
    width, height = fitted(size, box)
    return (height, width) if sideways else (width, height)


def fitted(size: tuple[int, int], box: int) -> tuple[int, int]:
    """The size of `Image.thumbnail((box, box))`: within the box, the aspect ratio as close as
    whole pixels allow, never enlarged."""
    width, height = size
    if width <= box and height <= box:
        return size
    aspect = width / height
    if aspect >= 1:
        candidates = (math.floor(box / aspect), math.ceil(box / aspect))
        return box, max(min(candidates, key=lambda h: abs(aspect - box / h) if h else 0), 1)
    candidates = (math.floor(box * aspect), math.ceil(box * aspect))
    return max(min(candidates, key=lambda w: abs(aspect - w / box)), 1), box


def _with_exif(resized: Image.Image, original: Image.Image) -> Image.Image:
    """Carry the original's orientation over to the resized copy, which lost its EXIF."""
    orientation = original.getexif().get(ORIENTATION)
    if orientation and orientation != 1:
        resized.getexif()[ORIENTATION] = orientation
    return resized


def _resizable(image: Image.Image) -> Image.Image:
    """A mode that resizes well and keeps transparency (palettes become RGBA or RGB)."""
    if image.mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return image
    if image.mode in ("P", "PA", "1") and _has_transparency(image):
        return image.convert("RGBA")
    if image.mode == "I;16" or image.mode == "I":
        return image.point(lambda value: value / 256).convert("L")
    return image.convert("RGB")


def _has_transparency(image: Image.Image) -> bool:
    return image.mode == "PA" or "transparency" in image.info


def _encode(image: Image.Image, pillow_format: str) -> IO[bytes]:
    """The same format as the original, with no metadata but the colour profile.

    Large ones are encoded into a real temporary file: Pillow releases the GIL only when it
    writes to a file descriptor, so two uploads then encode on two cores at once. Small ones
    take microseconds either way and stay in memory.
    """
    options: dict[str, object] = {}
    icc_profile = image.info.get("icc_profile")
    if icc_profile:
        options["icc_profile"] = icc_profile
    if pillow_format == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        options.update(quality=JPEG_QUALITY)
    elif pillow_format == "PNG":
        options.update(compress_level=3)
    elif pillow_format == "WEBP":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
        options.update(quality=JPEG_QUALITY, method=4)
    elif pillow_format == "BMP":
        if image.mode not in ("RGB", "RGBA", "L", "P", "1"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
    elif pillow_format == "TIFF":
        options.update(compression="tiff_adobe_deflate")
    output: IO[bytes] = (
        tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
        if image.width * image.height > SMALL_PIXELS
        else io.BytesIO()
    )
    try:
        image.save(output, format=pillow_format, **options)
    except BaseException:
        output.close()
        raise
    return output
