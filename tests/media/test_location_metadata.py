"""No location reaches a stored original. Each test makes a real file, checks the location is
really in it, uploads it through the API and reads the stored original back."""

import hashlib
import io
import re
import struct
import zlib

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat, PngImagePlugin

from app.media import images
from tests.media import samples
from tests.media.conftest import upload

GPS_IFD, ORIENTATION = samples.GPS_IFD, samples.ORIENTATION
XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXTENSION_APP1 = b"http://ns.adobe.com/xmp/extension/\x00"
XMP_WITH_GPS = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/"'
    ' exif:GPSLatitude="35,41.37N" exif:GPSLongitude="51,23.02E"/>'
    "</rdf:RDF></x:xmpmeta>"
)
LOCATION_MARKERS = (b"GPSLatitude", b"GPSLongitude", b"35,41.37N")


def picture(size=(320, 240), turn=0) -> Image.Image:
    """Photo-like pixels (blurred noise), so the encoders have real work to do."""
    noise = Image.effect_noise(size, 64)
    channels = [noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise.rotate(180 + turn)]
    return Image.merge("RGB", channels).filter(ImageFilter.GaussianBlur(2))


def gps_exif(orientation=None) -> bytes:
    exif = Image.Exif()
    if orientation:
        exif[ORIENTATION] = orientation
    location = exif.get_ifd(GPS_IFD)
    location[1], location[2] = "N", (35.0, 41.0, 22.0)
    location[3], location[4] = "E", (51.0, 23.0, 1.0)
    return exif.tobytes()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, position = [], 8
    while position < len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        chunks.append((kind, data[position + 8 : position + 8 + length]))
        position += 12 + length
    return chunks


def png_with_chunk(png: bytes, kind: bytes, body: bytes) -> bytes:
    """`png` with one more chunk, right after its header."""
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return png[:33] + chunk + png[33:]


def scan_data(jpeg: bytes) -> bytes:
    """The first image's compressed pixels: from its first scan to its end."""
    start = jpeg.index(b"\xff\xda")
    return jpeg[start : jpeg.index(b"\xff\xd9", start) + 2]


def assert_no_location(data: bytes) -> Image.Image:
    """No GPS directory in any EXIF block anywhere in the file, no location text (inflated)."""
    for marker in LOCATION_MARKERS:
        assert marker not in data
    for found in re.finditer(rb"Exif\x00\x00", data):
        exif = Image.Exif()
        exif.load(data[found.end() :])
        assert GPS_IFD not in exif
    image = opened(data)
    assert GPS_IFD not in image.getexif()
    for value in getattr(image, "text", {}).values():  # PNG text chunks, compressed ones inflated
        assert "GPS" not in value
    return image


@pytest.fixture
def stored(media_client, media_store):
    """Upload `content`; the response's body and the stored original's bytes."""

    async def stored(content: bytes, filename: str) -> tuple[dict, bytes]:
        response = await upload(media_client, content, filename)
        assert response.status_code == 201, response.text
        body = response.json()
        original = await media_store.fetch(media_client, body["f"])
        assert original.status_code == 200
        assert body["size"] == len(original.content)
        return body, original.content

    return stored


@pytest.mark.parametrize("chunk", [b"zTXt", b"iTXt"])
async def test_png_compressed_xmp_and_exif_gps_are_dropped(stored, chunk):
    image = picture()
    info = PngImagePlugin.PngInfo()
    if chunk == b"zTXt":
        info.add_text("XML:com.adobe.xmp", XMP_WITH_GPS, zip=True)
    else:
        info.add_itxt("XML:com.adobe.xmp", XMP_WITH_GPS, zip=True)
    info.add_text("Comment", "Made for the test", zip=True)
    content = samples.encoded(image, "PNG", pnginfo=info, exif=gps_exif())
    assert b"GPSLatitude" not in content  # compressed: only inflating finds it
    assert any(kind == chunk and b.startswith(b"XML:com") for kind, b in png_chunks(content))
    assert "GPSLatitude" in opened(content).text["XML:com.adobe.xmp"]
    assert opened(content).getexif().get_ifd(GPS_IFD)

    body, original = await stored(content, "where.png")
    kept = assert_no_location(original)
    assert "XML:com.adobe.xmp" not in kept.text
    assert kept.text["Comment"] == "Made for the test"  # text without a location stays
    assert (body["width"], body["height"]) == kept.size == image.size
    assert kept.tobytes() == image.tobytes()
    idat = [b for kind, b in png_chunks(content) if kind == b"IDAT"]
    assert [b for kind, b in png_chunks(original) if kind == b"IDAT"] == idat  # not re-encoded


async def test_jpeg_extended_xmp_is_dropped(stored):
    """Extended XMP: a packet too large for one segment, continued in APP1 segments that the
    main packet names by the MD5 of their content. All of them go; the main packet, which holds
    no location here, stays."""
    extended = XMP_WITH_GPS.encode()
    guid = hashlib.md5(extended).hexdigest().upper().encode()
    main = (
        XMP_APP1
        + (
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:xmpNote="http://ns.adobe.com/xmp/note/"'
            f' xmpNote:HasExtendedXMP="{guid.decode()}"/></rdf:RDF></x:xmpmeta>'
        ).encode()
    )
    split = extended.index(b"exif:GPSLongitude")
    pieces = [
        XMP_EXTENSION_APP1 + guid + struct.pack(">II", len(extended), offset) + part
        for offset, part in ((0, extended[:split]), (split, extended[split:]))
    ]
    jpeg = samples.photo((480, 320))
    segments = b"".join(struct.pack(">HH", 0xFFE1, len(p) + 2) + p for p in [main, *pieces])
    content = jpeg[:2] + segments + jpeg[2:]
    assert b"exif:GPSLatitude" in content
    assert b"exif:GPSLongitude" in content
    assert opened(content).size == (480, 320)

    _, original = await stored(content, "extended.jpg")
    kept = assert_no_location(original)
    assert XMP_EXTENSION_APP1 not in original
    assert main in original
    assert kept.size == (480, 320)
    assert scan_data(original) == scan_data(content)  # the compressed pixels are untouched


async def test_mpo_is_stored_as_its_first_image_without_gps(stored):
    """An MPO (a phone's photo with a preview, a depth map or a second eye appended) whose every
    image has EXIF with GPS: the first image is stored, stripped, as a plain JPEG."""
    first, second = picture((480, 320)), picture((480, 320), turn=90)
    # EXIF as bytes: Pillow then writes it into every image (an Image.Exif breaks the MPF index).
    content = samples.encoded(first, "MPO", save_all=True, append_images=[second], exif=gps_exif())
    mpo = opened(content)
    assert (mpo.format, mpo.n_frames) == ("MPO", 2)
    mpo.seek(1)
    assert mpo.getexif().get_ifd(GPS_IFD)[1] == "N"  # the second image has its own GPS
    assert content.count(b"Exif\x00\x00") == 2

    body, original = await stored(content, "pair.jpg")
    assert body["mime_type"] == "image/jpeg"
    kept = assert_no_location(original)
    assert (kept.format, kept.size) == ("JPEG", (480, 320))
    assert b"MPF\x00" not in original  # nor the index of the images that are gone
    assert original.endswith(scan_data(content))  # the first image's pixels, and nothing after
    assert original.count(b"\xff\xd8") == 1


async def test_gif_comments_and_xmp_are_dropped_and_frames_kept(stored):
    frames = [Image.new("P", (120, 80), index) for index in range(3)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
    comment = b"GPSLatitude 35,41.37N"
    content = samples.encoded(
        frames[0], "GIF", save_all=True, append_images=frames[1:], comment=comment, loop=0
    )
    assert opened(content).info["comment"] == comment

    _, original = await stored(content, "moving.gif")
    kept = assert_no_location(original)
    assert "comment" not in kept.info
    assert (kept.n_frames, kept.info["loop"]) == (3, 0)


async def test_tiff_gps_and_xmp_are_dropped_losslessly(stored):
    """A TIFF keeps its metadata in the image structure: it is re-saved without it, upright
    (Pillow applies the orientation as it reads a TIFF), its pixels unchanged."""
    image = picture((320, 240))
    exif = Image.Exif()
    exif.load(gps_exif(orientation=6))
    exif[700] = XMP_WITH_GPS.encode()  # the XMP tag
    content = samples.encoded(image, "TIFF", exif=exif.tobytes())
    assert b"exif:GPSLatitude" in content
    assert opened(content).getexif().get_ifd(GPS_IFD)
    upright = opened(content)
    upright.load()

    body, original = await stored(content, "where.tif")
    kept = assert_no_location(original)
    assert 700 not in kept.getexif()
    assert (body["width"], body["height"]) == kept.size == upright.size == (240, 320)
    assert kept.tobytes() == upright.tobytes()


async def test_png_text_that_does_not_inflate_is_dropped_by_re_encoding(stored):
    """A zTXt chunk whose compressed text is cut short: its content cannot be told, so the PNG
    is re-encoded (losslessly) with its orientation and nothing else."""
    image = picture()
    png = samples.encoded(image, "PNG", exif=gps_exif(orientation=6))
    cut_short = zlib.compress(b"GPSLatitude=35,41.37N " * 20)[:-8]
    content = png_with_chunk(png, b"zTXt", b"Comment\x00\x00" + cut_short)
    assert opened(content).size == image.size  # Pillow reads it, as far as it inflates

    body, original = await stored(content, "cut.png")
    kept = assert_no_location(original)
    assert b"zTXt" not in original
    assert kept.getexif()[ORIENTATION] == 6
    assert (body["width"], body["height"]) == kept.size == image.size
    assert kept.tobytes() == image.tobytes()


async def test_jpeg_exif_that_cannot_be_parsed_is_dropped_by_re_encoding(stored):
    """A second EXIF segment that is no TIFF structure: the file is re-encoded, not stored as it
    came with the GPS of the first. The pixels stay (almost: a JPEG re-encoding, with the same
    quantisation tables), and so does the orientation."""
    jpeg = samples.photo((640, 480), orientation=3, gps=True)
    broken = b"Exif\x00\x00" + b"not a TIFF header"
    after = jpeg.index(b"\xff\xdb")  # after the good EXIF, before the tables
    content = jpeg[:after] + struct.pack(">HH", 0xFFE1, len(broken) + 2) + broken + jpeg[after:]
    assert opened(content).getexif().get_ifd(GPS_IFD)

    body, original = await stored(content, "broken.jpg")
    kept = assert_no_location(original)
    assert b"not a TIFF header" not in original
    assert kept.getexif()[ORIENTATION] == 3
    assert (body["width"], body["height"]) == kept.size == (640, 480)
    difference = ImageStat.Stat(ImageChops.difference(kept, opened(content).convert("RGB")))
    assert max(difference.mean) < 2


async def test_animation_with_metadata_that_cannot_be_parsed_is_refused(media_client, media_store):
    """Re-encoding would alter an animation, so it is refused with the reason; nothing stored."""
    frames = [picture((100, 80), turn=turn) for turn in (0, 90, 180)]
    apng = samples.encoded(frames[0], "PNG", save_all=True, append_images=frames[1:])
    cut_short = zlib.compress(b"GPSLatitude=35,41.37N " * 20)[:-8]
    content = png_with_chunk(apng, b"zTXt", b"Comment\x00\x00" + cut_short)
    assert opened(content).n_frames == 3
    before = await media_store.keys()

    response = await upload(media_client, content, "moving.png")
    assert response.status_code == 400, response.text
    assert response.json() == {"file": [images.MetadataNotRemovable.message]}
    assert await media_store.keys() == before
