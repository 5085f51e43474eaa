"""Real image files made with Pillow for the tests, including hostile ones."""

import io
import struct
import zlib

from PIL import Image, ImageDraw, ImageFilter

ORIENTATION = 0x0112
GPS_IFD = 0x8825


def photo(size=(1920, 1080), orientation=None, gps=False, quality=90) -> bytes:
    """A photo-like JPEG (noise, blurred) with optional EXIF orientation and GPS."""
    noise = Image.effect_noise(size, 64)
    image = Image.merge(
        "RGB", [noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise.rotate(180)]
    ).filter(ImageFilter.GaussianBlur(2))
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=(255, 0, 0))
    exif = Image.Exif()
    if orientation:
        exif[ORIENTATION] = orientation
    if gps:
        location = exif.get_ifd(GPS_IFD)
        location[1] = "N"
        location[2] = (35.0, 41.0, 22.0)
        location[3] = "E"
        location[4] = (51.0, 23.0, 1.0)
    output = io.BytesIO()
    image.save(output, "JPEG", quality=quality, exif=exif)
    return output.getvalue()


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    output = io.BytesIO()
    image.save(output, fmt, **options)
    return output.getvalue()


def transparent_png(size=(300, 200)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((50, 50, 150, 150), fill=(0, 128, 255, 255))
    return encoded(image, "PNG")


def palette_png(size=(225, 225)) -> bytes:
    image = Image.new("P", size, 0)
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
    ImageDraw.Draw(image).rectangle((20, 20, 120, 120), fill=1)
    return encoded(image, "PNG", transparency=0)


def animated_gif(size=(200, 100), frames=3) -> bytes:
    images = [Image.new("P", size, index) for index in range(frames)]
    for image in images:
        image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
    return encoded(images[0], "GIF", save_all=True, append_images=images[1:], transparency=0)


def simple(fmt: str, size=(320, 240), mode="RGB") -> bytes:
    image = Image.new(mode, size, "white")
    ImageDraw.Draw(image).line((0, 0, *size), fill="black", width=5)
    return encoded(image, fmt)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
