"""Real image files made with Pillow for the tests, including hostile ones."""

import io
import struct
import zlib

from PIL import Image, ImageCms, ImageDraw, ImageFilter

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


def srgb_profile() -> bytes:
    """littleCMS's sRGB ICC profile."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def swapped_profile() -> bytes:
    """An RGB ICC profile whose red primary is sRGB's green and whose green is sRGB's red: a
    pure red pixel means pure sRGB green, and the other way round (blue and white stay)."""
    profile = bytearray(srgb_profile())
    (count,) = struct.unpack(">I", profile[128:132])
    entries = {}
    for index in range(count):
        start = 132 + 12 * index
        entries[bytes(profile[start : start + 4])] = start
    red, green = entries[b"rXYZ"], entries[b"gXYZ"]
    profile[red + 4 : red + 12], profile[green + 4 : green + 12] = (
        profile[green + 4 : green + 12],
        profile[red + 4 : red + 12],
    )
    return bytes(profile)


# The sRGB primaries adapted to D50 (the ICC connection space) and the D50 white.
SRGB_D50 = ((0.4360747, 0.2225045, 0.0139322), (0.3850649, 0.7168786, 0.0971045))
SRGB_D50 += ((0.1430804, 0.0606169, 0.7141733),)
D50 = (0.9642, 1.0, 0.8249)


def _lab_of_linear_srgb(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    xyz = [sum(rgb[channel] * SRGB_D50[channel][axis] for channel in range(3)) for axis in range(3)]

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = (f(xyz[axis] / D50[axis]) for axis in range(3))
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def cmyk_profile() -> bytes:
    """A CMYK ICC profile (v2 printer class, one 2x2x2x2 lut16 A2B0 to Lab) whose cyan and
    magenta inks are swapped: full magenta and yellow print sRGB green, not red."""

    def tag(signature: bytes, body: bytes) -> tuple[bytes, bytes]:
        return signature, body + b"\x00" * (-len(body) % 4)

    def xyz(values: tuple[float, ...]) -> bytes:
        return b"XYZ \x00\x00\x00\x00" + b"".join(
            struct.pack(">i", round(value * 65536)) for value in values
        )

    grid = []
    for c in (0, 1):
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    # the naive conversion with cyan and magenta exchanged
                    rgb = ((1 - m) * (1 - k), (1 - c) * (1 - k), (1 - y) * (1 - k))
                    lightness, a, b = _lab_of_linear_srgb(rgb)
                    grid += [
                        round(lightness * 0xFF00 / 100),
                        max(0, min(0xFFFF, round((a + 128) * 256))),
                        max(0, min(0xFFFF, round((b + 128) * 256))),
                    ]
    identity = (1, 0, 0, 0, 1, 0, 0, 0, 1)
    lut = (
        b"mft2\x00\x00\x00\x00"
        + bytes([4, 3, 2, 0])
        + b"".join(struct.pack(">i", value << 16) for value in identity)
        + struct.pack(">HH", 2, 2)
        + struct.pack(">8H", *[0, 0xFFFF] * 4)
        + struct.pack(f">{len(grid)}H", *grid)
        + struct.pack(">6H", *[0, 0xFFFF] * 3)
    )
    text = b"swapped inks\x00"
    description = (
        b"desc\x00\x00\x00\x00" + struct.pack(">I", len(text)) + text + b"\x00" * 8 + b"\x00" * 70
    )
    tags = [
        tag(b"desc", description),
        tag(b"cprt", b"text\x00\x00\x00\x00public domain\x00"),
        tag(b"wtpt", xyz(D50)),
        tag(b"A2B0", lut),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        table += struct.pack(">4sII", signature, offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + b"\x02\x10\x00\x00"
        + b"prtrCMYKLab "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\x00" * 24
        + b"\x00" * 4  # perceptual
        + b"".join(struct.pack(">i", round(value * 65536)) for value in D50)
        + b"\x00" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def cmyk_jpeg(size=(64, 32), icc_profile: bytes | None = None) -> bytes:
    """A CMYK JPEG: full magenta and yellow on the left half (red without a profile), full cyan
    and yellow on the right (green)."""
    image = Image.new("CMYK", size, (255, 0, 255, 0))
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 2 - 1, size[1]), fill=(0, 255, 255, 0))
    options = {"icc_profile": icc_profile} if icc_profile else {}
    return encoded(image, "JPEG", quality=95, **options)


def opaque_animated_gif(size=(40, 30), colours=("red", "lime", "blue")) -> bytes:
    """An animated GIF whose frames are filled with one opaque colour each."""
    images = [Image.new("RGB", size, colour) for colour in colours]
    return encoded(images[0], "GIF", save_all=True, append_images=images[1:], duration=100)


def gray16_png(size=(60, 40), value=0x8000) -> bytes:
    """A 16-bit grayscale PNG of one value."""
    return encoded(Image.new("I;16", size, value), "PNG")


def tagged_jpeg(size=(120, 80)) -> bytes:
    """A JPEG carrying every kind of metadata: EXIF with GPS, an sRGB profile, XMP, a comment."""
    image = Image.open(io.BytesIO(photo(size, orientation=1, gps=True)))
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    return encoded(
        image, "JPEG", exif=image.getexif(), icc_profile=srgb_profile(), xmp=xmp, comment="secret"
    )
