"""Location metadata removed from an original without re-encoding its pixels.

JPEG, PNG and WebP are rewritten segment by segment: the EXIF block loses its GPS directory (the
rest, orientation included, stays) and XMP packets that mention GPS are dropped. TIFF keeps its
metadata inside the image structure, so a TIFF with GPS is re-saved losslessly.
"""

import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
EXIF_APP1 = b"Exif\x00\x00"
VP8X_XMP_FLAG = 0x04


def strip_location(data: bytes, pillow_format: str) -> bytes | None:
    """The file without location metadata, or None when it had none."""
    try:
        if pillow_format == "JPEG":
            return _strip_jpeg(data)
        if pillow_format == "PNG":
            return _strip_png(data)
        if pillow_format == "WEBP":
            return _strip_webp(data)
        if pillow_format == "TIFF":
            return _strip_tiff(data)
    except (struct.error, ValueError, OSError, SyntaxError):
        return None  # malformed metadata: thumbnails were fine, keep the original as it is
    return None


def _exif_without_gps(tiff_data: bytes) -> bytes | None:
    """The EXIF (TIFF-structured) bytes without the GPS directory, or None if there was none."""
    exif = Image.Exif()
    exif.load(tiff_data)
    if GPS_IFD not in exif:
        return None
    del exif[GPS_IFD]
    return exif.tobytes()


def _strip_jpeg(data: bytes) -> bytes | None:
    output, position, changed = [data[:2]], 2, False
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        segment = data[position : position + 2 + length]
        payload = segment[4:]
        if marker == 0xE1 and payload.startswith(EXIF_APP1):
            cleaned = _exif_without_gps(payload[len(EXIF_APP1) :])
            if cleaned is not None:
                changed = True
                body = EXIF_APP1 + cleaned.removeprefix(EXIF_APP1)
                segment = (
                    b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
                    if len(body) < 65534
                    else b""
                )
        elif marker == 0xE1 and payload.startswith(XMP_APP1) and b"GPS" in payload:
            changed, segment = True, b""
        output.append(segment)
        position += 2 + length
    if not changed:
        return None
    output.append(data[position:])
    return b"".join(output)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _strip_png(data: bytes) -> bytes | None:
    output, position, changed = [data[:8]], 8, False
    while position + 8 <= len(data):
        length = struct.unpack(">I", data[position : position + 4])[0]
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        chunk, body = data[position:end], data[position + 8 : position + 8 + length]
        if kind == b"eXIf":
            cleaned = _exif_without_gps(body)
            if cleaned is not None:
                changed, chunk = True, _png_chunk(kind, cleaned.removeprefix(EXIF_APP1))
        elif (
            kind in (b"iTXt", b"tEXt") and body.startswith(b"XML:com.adobe.xmp") and b"GPS" in body
        ):
            changed, chunk = True, b""
        output.append(chunk)
        position = end
    return b"".join(output) if changed else None


def _strip_webp(data: bytes) -> bytes | None:
    chunks: list[tuple[bytes, bytes]] = []
    position, changed, dropped_xmp = 12, False, False
    while position + 8 <= len(data):
        kind = data[position : position + 4]
        length = struct.unpack("<I", data[position + 4 : position + 8])[0]
        body = data[position + 8 : position + 8 + length]
        position += 8 + length + (length & 1)
        if kind == b"EXIF":
            cleaned = _exif_without_gps(body.removeprefix(EXIF_APP1))
            if cleaned is not None:
                changed, body = True, cleaned.removeprefix(EXIF_APP1)
        elif kind == b"XMP " and b"GPS" in body:
            changed = dropped_xmp = True
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


def _strip_tiff(data: bytes) -> bytes | None:
    with Image.open(io.BytesIO(data), formats=["TIFF"]) as image:
        exif = image.getexif()
        if GPS_IFD not in exif:
            return None
        del exif[GPS_IFD]
        output = io.BytesIO()
        image.save(output, format="TIFF", exif=exif, compression="tiff_adobe_deflate")
        return output.getvalue()
