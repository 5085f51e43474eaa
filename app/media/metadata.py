"""Location metadata removed from an original before it is stored.

Each format is rewritten block by block, its compressed pixels kept byte for byte:

- EXIF (JPEG APP1, PNG eXIf, WebP EXIF) loses its GPS directory; the rest, orientation included,
  stays. A TIFF keeps its metadata inside the image structure: one with GPS, XMP, IPTC or
  Photoshop blocks is re-saved losslessly, upright, with its descriptive tags only.
- Text that mentions a place (`LOCATION_WORDS`, in any case, UTF-16 too) is dropped whole: XMP
  packets, JPEG comments and other APPn blocks, PNG tEXt, zTXt and iTXt chunks (the compressed
  ones inflated first), WebP XMP; so is a JPEG APPn block holding another EXIF with GPS. A false
  alarm costs a block nobody needs to show the image.
- Blocks where words cannot find a location are dropped whatever they hold: JPEG extended XMP
  (its pieces are not packets on their own, and the main packet naming them may be gone),
  Photoshop/IPTC APP13 (City and Country are numbered fields), ImageMagick's "Raw profile" PNG
  chunks (hex), PNG and WebP chunks no decoder needs, GIF comments and application blocks but
  the loop count.
- A JPEG keeps its first image only, and nothing after its end: the other pictures of an MPO (a
  phone's preview, a depth map, the second eye, each with its own EXIF and GPS), a motion photo's
  video, any trailer, and the MPF index pointing at them. Browsers show the first image only,
  and the thumbnails are made from it.

Metadata that cannot be parsed safely (a truncated block, an EXIF Pillow cannot read or whose GPS
pointer it does not see, text that will not inflate or inflates past 1 MiB) is not stored: the
image is re-encoded from its decoded pixels with its colour profile and orientation only. Its
pixels decoded already (the thumbnails were made), so refusing it would fail a good photo for a
quirk in a block nobody sees. JPEG and WebP lose a little to the new encoding (a JPEG reuses its
quantisation tables and subsampling); PNG, GIF and TIFF lose nothing. An image with several
frames or pages is refused instead (`UnreadableMetadata`): Pillow does not re-encode every
animation faithfully (timings, disposal, blending), and an altered one should not pass silently.
"""

import contextlib
import io
import logging
import re
import struct
import zlib
from collections.abc import Callable

from PIL import Image, JpegImagePlugin, TiffImagePlugin

logger = logging.getLogger("app.media")

GPS_IFD = 0x8825
ORIENTATION = 0x0112
# An IFD entry pointing at the GPS directory (its tag, then any type), in either byte order.
GPS_POINTER = re.compile(rb"\x88\x25\x00[\x01-\x0d]|\x25\x88[\x01-\x0d]\x00")
LOCATION_WORDS = (b"gps", b"latitude", b"longitude", b"location", b"city", b"state", b"country")
TEXT_LIMIT = 1024 * 1024  # Pillow's own limit for a PNG text chunk

EXIF_APP1 = b"Exif\x00\x00"
XMP_EXTENSION_APP1 = b"http://ns.adobe.com/xmp/extension/\x00"
MPF_APP2 = b"MPF\x00"
ICC_APP2 = b"ICC_PROFILE\x00"
ADOBE_APP14 = b"Adobe"  # the colour transform: needed to decode
APP1, APP2, APP13, APP14, COMMENT = 0xE1, 0xE2, 0xED, 0xEE, 0xFE
# Where entropy-coded data ends: 0xFF followed by neither stuffing, a restart nor a fill byte.
SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")

PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}
PNG_KEPT = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB",
    b"cICP", b"mDCV", b"cLLI", b"bKGD", b"hIST", b"pHYs", b"sPLT", b"tIME", b"acTL", b"fcTL",
    b"fdAT",
}  # fmt: skip
RAW_PROFILE = b"Raw profile type "  # ImageMagick's hex-encoded exif, iptc, xmp, 8bim or icc
WEBP_KEPT = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP", b"EXIF", b"XMP "}
VP8X_XMP_FLAG = 0x04
GIF_LOOP_BLOCKS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
TIFF_LOCATION_TAGS = (GPS_IFD, 700, 33723, 34377)  # GPS, XMP, IPTC, Photoshop
# Description, make, model, resolution, software, date, artist, copyright, the EXIF directory.
TIFF_KEPT_TAGS = {270, 271, 272, 282, 283, 296, 305, 306, 315, 33432, 0x8769}


class UnreadableMetadata(Exception):
    """Metadata that cannot be parsed, on an image that cannot be re-encoded without it."""


class _Unsafe(Exception):
    """Metadata whose location cannot be told: the image is re-encoded without it."""


def strip_location(data: bytes, pillow_format: str) -> bytes | None:
    """The file without location metadata, or None when it had none (keep it as it is).

    Metadata that cannot be parsed is dropped by re-encoding the image; `UnreadableMetadata`
    when that would alter frames or pages.
    """
    strip = STRIPPERS.get(pillow_format)
    if strip is None:
        return None  # BMP: no metadata blocks
    try:
        return strip(data)
    except Exception as error:  # whatever the cause, the parse cannot be trusted: re-encode
        logger.info("%s metadata not parsed (%r): the original is re-encoded", pillow_format, error)
        return _reencoded(data, pillow_format)


def _holds_location(block: bytes) -> bool:
    """Words of a location (UTF-16 and UTF-32 too), or an EXIF-like structure with GPS."""
    folded = block.replace(b"\x00", b"").lower()
    if any(word in folded for word in LOCATION_WORDS):
        return True
    return bool(GPS_POINTER.search(block)) and (b"II*\x00" in block or b"MM\x00*" in block)


def _exif_without_gps(tiff_data: bytes) -> bytes | None:
    """The EXIF (TIFF-structured) bytes without the GPS directory, or None if there was none."""
    exif = Image.Exif()
    exif.load(tiff_data)
    if GPS_IFD not in exif:
        if GPS_POINTER.search(tiff_data):
            raise _Unsafe("a GPS pointer Pillow did not parse")
        return None
    del exif[GPS_IFD]
    cleaned = exif.tobytes()
    if GPS_POINTER.search(cleaned):
        raise _Unsafe("a GPS pointer left after the GPS directory was removed")
    return cleaned


def _strip_jpeg(data: bytes) -> bytes | None:
    """The first image's segments, those with location cleaned or dropped; nothing after it."""
    if not data.startswith(b"\xff\xd8"):
        raise _Unsafe("no start of image")
    output, position, changed = [data[:2]], 2, False
    while True:
        if data[position] != 0xFF:
            raise _Unsafe("bytes between segments")
        while data[position + 1] == 0xFF:  # fill bytes
            position += 1
        marker = data[position + 1]
        if marker == 0xD9:  # the first image's end
            output.append(b"\xff\xd9")
            break
        if marker < 0xC0 or 0xD0 <= marker <= 0xD8:  # no length: a decoder's guess, not ours
            raise _Unsafe(f"a marker out of place: {marker:#x}")
        length = struct.unpack_from(">H", data, position + 2)[0]
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise _Unsafe("a segment past the end")
        if marker == 0xDA:  # a scan's header, then its entropy-coded data up to the next marker
            scan_end = SCAN_END.search(data, end)
            if scan_end is None:
                raise _Unsafe("a scan without an end")
            output.append(data[position : scan_end.start()])
            position = scan_end.start()
            continue
        payload = data[position + 4 : end]
        kept = _jpeg_segment(marker, payload)
        if kept == payload:
            output.append(data[position:end])
        else:
            changed = True
            if kept is not None:
                output.append(struct.pack(">BBH", 0xFF, marker, len(kept) + 2) + kept)
        position = end
    if not changed and position + 2 == len(data):
        return None
    return b"".join(output)


def _jpeg_segment(marker: int, payload: bytes) -> bytes | None:
    """The segment's payload without location, or None to drop it."""
    if marker == APP1 and payload.startswith(b"Exif\x00"):  # some cameras end it with 0xFF
        cleaned = _exif_without_gps(payload[len(EXIF_APP1) :])
        if cleaned is None:
            return payload
        body = EXIF_APP1 + cleaned.removeprefix(EXIF_APP1)
        return body if len(body) <= 0xFFFF - 2 else None
    if (marker == APP1 and payload.startswith(XMP_EXTENSION_APP1)) or marker == APP13:
        return None
    if marker == APP2 and payload.startswith(MPF_APP2):
        return None  # the index of the images after the first, which are not kept
    if (marker == APP2 and payload.startswith(ICC_APP2)) or (
        marker == APP14 and payload.startswith(ADOBE_APP14)
    ):
        return payload
    if (0xE0 <= marker <= 0xEF or marker == COMMENT) and _holds_location(payload):
        return None
    return payload


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _strip_png(data: bytes) -> bytes | None:
    output, position, changed, kind = [data[:8]], 8, False, b""
    while kind != b"IEND":
        length, kind = struct.unpack_from(">I4s", data, position)
        end = position + 12 + length
        if end > len(data):
            raise _Unsafe("a chunk past the end")
        if kind in PNG_KEPT:
            output.append(data[position:end])
            position = end
            continue
        body = data[position + 8 : end - 4]
        kept = _png_chunk_kept(kind, body)
        if kept == body:
            output.append(data[position:end])
        else:
            changed = True
            if kept is not None:
                output.append(_png_chunk(kind, kept))
        position = end
    return b"".join(output) if changed or position < len(data) else None


def _png_chunk_kept(kind: bytes, body: bytes) -> bytes | None:
    """The chunk's body without location, or None to drop it."""
    if kind == b"eXIf":
        cleaned = _exif_without_gps(body)
        return body if cleaned is None else cleaned.removeprefix(EXIF_APP1)
    if kind in PNG_TEXT:
        keyword, text = _png_text(kind, body)
        raw_profile = keyword.startswith(RAW_PROFILE) and keyword[len(RAW_PROFILE) :] not in (
            b"icc",
            b"icm",
        )
        return None if raw_profile or _holds_location(keyword + b"\x00" + text) else body
    if kind[0] & 0x20:  # ancillary (lower-case first letter): decoders may skip it, so may we
        return None
    raise _Unsafe(f"an unknown critical chunk {kind!r}")


def _png_text(kind: bytes, body: bytes) -> tuple[bytes, bytes]:
    """A text chunk's keyword, and the rest of it inflated."""
    keyword, _, rest = body.partition(b"\x00")
    if kind == b"tEXt":
        return keyword, rest
    if kind == b"zTXt":
        if rest[:1] != b"\x00":
            raise _Unsafe("an unknown compression method")
        return keyword, _inflated(rest[1:])
    compressed, method = rest[0], rest[1]  # iTXt
    language, _, rest = rest[2:].partition(b"\x00")
    translated, _, text = rest.partition(b"\x00")
    if compressed:
        if method != 0:
            raise _Unsafe("an unknown compression method")
        text = _inflated(text)
    return keyword, b"\x00".join((language, translated, text))


def _inflated(compressed: bytes) -> bytes:
    inflater = zlib.decompressobj()
    text = inflater.decompress(compressed, TEXT_LIMIT)
    if inflater.unconsumed_tail or not inflater.eof:
        raise _Unsafe("text that does not inflate, or inflates too far")
    return text


def _strip_webp(data: bytes) -> bytes | None:
    riff_end = 8 + struct.unpack_from("<I", data, 4)[0]
    if data[8:12] != b"WEBP" or riff_end > len(data):
        raise _Unsafe("a RIFF size past the end")
    chunks: list[tuple[bytes, bytes]] = []
    position, changed, dropped_xmp = 12, riff_end < len(data), False
    while position < riff_end:
        kind, length = struct.unpack_from("<4sI", data, position)
        end = position + 8 + length
        if end > riff_end:
            raise _Unsafe("a chunk past the end")
        body, position = data[position + 8 : end], end + (length & 1)
        if kind == b"EXIF":
            cleaned = _exif_without_gps(body)
            if cleaned is not None:
                changed, body = True, cleaned.removeprefix(EXIF_APP1)
        elif kind not in WEBP_KEPT or (kind == b"XMP " and _holds_location(body)):
            changed, dropped_xmp = True, dropped_xmp or kind == b"XMP "
            continue
        chunks.append((kind, body))
    if not changed:
        return None
    if dropped_xmp:
        chunks = [
            (kind, bytes([body[0] & ~VP8X_XMP_FLAG]) + body[1:] if kind == b"VP8X" else body)
            for kind, body in chunks
        ]
    encoded = [struct.pack("<4sI", k, len(b)) + b + b"\x00" * (len(b) & 1) for k, b in chunks]
    payload = b"WEBP" + b"".join(encoded)
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def _strip_gif(data: bytes) -> bytes | None:
    position = 13 + _gif_colour_table(data[10])
    output, changed = [data[:position]], False
    while data[position] != 0x3B:  # the trailer
        start = position
        if data[position] == 0x2C:  # an image: descriptor, colour table, LZW code size, data
            position = _gif_blocks_end(data, position + 11 + _gif_colour_table(data[position + 9]))
        elif data[position] == 0x21:  # an extension
            position = _gif_blocks_end(data, position + 2)
            label, application = data[start + 1], data[start + 3 : start + 14]
            if label == COMMENT or (label == 0xFF and application not in GIF_LOOP_BLOCKS):
                changed = True
                continue
        else:
            raise _Unsafe("an unknown GIF block")
        output.append(data[start:position])
    output.append(b"\x3b")
    return b"".join(output) if changed or position + 1 < len(data) else None


def _gif_colour_table(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _gif_blocks_end(data: bytes, position: int) -> int:
    while size := data[position]:
        position += size + 1
    return position + 1


def _strip_tiff(data: bytes) -> bytes | None:
    with Image.open(io.BytesIO(data), formats=["TIFF"]) as image:
        assert isinstance(image, TiffImagePlugin.TiffImageFile)
        pages, located = image.n_frames, False
        for page in range(pages):
            image.seek(page)
            located = located or any(tag in image.tag_v2 for tag in TIFF_LOCATION_TAGS)
        if not located:
            return None
        if pages > 1:
            raise _Unsafe("location in a multi-page TIFF")
        image.load()  # upright: Pillow applies a TIFF's orientation as it loads it
        exif = image.getexif()
        for tag in set(exif) - TIFF_KEPT_TAGS:  # the rest is structure the writer sets, or location
            del exif[tag]
        # A copy: Pillow's TIFF writer carries XMP, IPTC and Photoshop over from a TIFF it read.
        clean = image.copy()
    clean.info = {}
    output = io.BytesIO()
    clean.save(
        output,
        format="TIFF",
        exif=exif,
        icc_profile=image.info.get("icc_profile"),
        compression="tiff_adobe_deflate",
    )
    return output.getvalue()


def _reencoded(data: bytes, pillow_format: str) -> bytes:
    """The first image's pixels in a new file, with its colour profile and orientation only."""
    try:
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
            frames = getattr(image, "n_frames", 1)
            if frames > 1 and image.format != "MPO":
                raise UnreadableMetadata(f"{frames} frames")
            image.load()
            options = _reencoding_options(image, pillow_format, data)
            clean = image.copy()
            clean.info = {key: image.info[key] for key in ("transparency",) if key in image.info}
        output = io.BytesIO()
        clean.save(output, format=pillow_format, **options)
    except UnreadableMetadata:
        raise
    except Exception as error:
        raise UnreadableMetadata("the image cannot be re-encoded") from error
    return output.getvalue()


def _reencoding_options(image: Image.Image, pillow_format: str, data: bytes) -> dict[str, object]:
    options: dict[str, object] = {}
    if icc_profile := image.info.get("icc_profile"):
        options["icc_profile"] = icc_profile
    orientation = None
    with contextlib.suppress(Exception):  # the EXIF may be what could not be parsed
        orientation = image.getexif().get(ORIENTATION)
    if orientation in range(2, 9) and pillow_format in ("JPEG", "PNG", "WEBP", "TIFF"):
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        options["exif"] = exif.tobytes()
    if pillow_format == "JPEG" and isinstance(image, JpegImagePlugin.JpegImageFile):
        if image.quantization:
            options["qtables"] = image.quantization
        if (subsampling := JpegImagePlugin.get_sampling(image)) != -1:
            options["subsampling"] = subsampling
    elif pillow_format == "WEBP":
        if b"VP8L" in data:
            options["lossless"] = True
        else:
            options["quality"] = 90
    elif pillow_format == "TIFF":
        options["compression"] = "tiff_adobe_deflate"
    return options


STRIPPERS: dict[str, Callable[[bytes], bytes | None]] = {
    "JPEG": _strip_jpeg,
    "PNG": _strip_png,
    "WEBP": _strip_webp,
    "GIF": _strip_gif,
    "TIFF": _strip_tiff,
}
