"""WebP and AVIF variants (issue 29): one per box and format, upright, in sRGB, alpha kept where
the source has any, the first frame of an animation, and no metadata at all. Real images made with
Pillow, each variant decoded again."""

import io

import pytest
from PIL import Image, ImageDraw

from app.media.images import ImageTooLarge, InvalidImage, fitted, process_image
from app.media.variants import FORMATS, Encoding, close_all, render_variants
from tests.media import samples

BOXES = [64, 256]
MAX_PIXELS = 50_000_000
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
TOLERANCE = 16  # lossy encoders (AVIF subsamples chroma) on flat colours


def rendered(
    data: bytes,
    pillow_format: str,
    boxes: list[int] = BOXES,
    formats: tuple[str, ...] = ("webp", "avif"),
) -> list[Image.Image]:
    """Each variant decoded, after checking what every variant must be: the declared format,
    size and dimensions, and no metadata (no EXIF, GPS, XMP or colour profile)."""
    variants = render_variants(
        io.BytesIO(data), pillow_format, boxes, list(formats), MAX_PIXELS, Encoding()
    )
    try:
        assert [(variant.box, variant.format.name) for variant in variants] == sorted(
            (box, name) for box in boxes for name in formats
        )
        decoded = []
        for variant in variants:
            assert variant.file.tell() == 0
            content = variant.file.read()
            assert variant.size == len(content)
            image = Image.open(io.BytesIO(content), formats=[variant.format.pillow_format])
            image.load()
            assert image.format == variant.format.pillow_format
            assert image.size == (variant.width, variant.height)
            assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
            assert not image.getexif()
            assert not getattr(image, "is_animated", False)
            decoded.append(image)
        return decoded
    finally:
        close_all(variants)


def assert_colour(actual, expected, tolerance=TOLERANCE):
    assert len(actual) == len(expected)
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (
        actual,
        expected,
    )


def test_one_variant_per_box_and_format_ordered_by_box_then_format():
    source = io.BytesIO(samples.photo((600, 400)))
    source.read()  # anywhere: it is read from its start
    variants = render_variants(
        source, "JPEG", [256, 32, 128], ["webp", "avif"], MAX_PIXELS, Encoding()
    )
    try:
        assert [(variant.box, variant.format.name) for variant in variants] == [
            (32, "avif"),
            (32, "webp"),
            (128, "avif"),
            (128, "webp"),
            (256, "avif"),
            (256, "webp"),
        ]
        for variant in variants:
            assert variant.format is FORMATS[variant.format.name]
            assert variant.format.mime_type == f"image/{variant.format.name}"
            content = variant.file.read()
            assert variant.size == len(content) > 0
            assert content.startswith(b"RIFF") == (variant.format.name == "webp")
            assert (content[4:12] == b"ftypavif") == (variant.format.name == "avif")
    finally:
        close_all(variants)


@pytest.mark.parametrize("formats", [("webp",), ("avif",)])
def test_only_the_formats_asked_for(formats):
    images = rendered(samples.photo((300, 200)), "JPEG", formats=formats)
    assert [image.format for image in images] == [FORMATS[formats[0]].pillow_format] * len(BOXES)


THUMBNAIL_SIZES = [64, 128, 512, 1080]  # the default THUMBNAIL_SIZES


@pytest.mark.parametrize(
    "size",
    [(600, 400), (400, 600), (1500, 1000), (2898, 700), (257, 256), (1000, 7), (7, 1000), (64, 64)],
    ids=lambda size: f"{size[0]}x{size[1]}",
)
def test_dimensions_are_the_fit_of_the_original_in_each_box_never_enlarged(size):
    """What `Image.thumbnail((box, box))` of the original gives, for every box: not the fit of
    the next larger variant's rounded size (2898 x 700 in 128 is 128 x 31, and 128 x 31 in 64
    is 64 x 15.5, rounded to 16, where 2898 x 700 in 64 is 64 x 15.46, so 15)."""
    data = samples.simple("PNG", size)
    images = rendered(data, "PNG", boxes=THUMBNAIL_SIZES, formats=("webp",))
    expected = [fitted(size, box) for box in THUMBNAIL_SIZES]
    assert [image.size for image in images] == expected
    assert all(w <= size[0] and h <= size[1] for w, h in expected)


@pytest.mark.parametrize(
    "size", [(600, 400), (2898, 700), (333, 777)], ids=lambda size: f"{size[0]}x{size[1]}"
)
def test_dimensions_are_the_thumbnails(size):
    data = samples.simple("JPEG", size)
    processed = process_image(io.BytesIO(data), "JPEG", THUMBNAIL_SIZES, MAX_PIXELS)
    processed.close()
    images = rendered(data, "JPEG", boxes=THUMBNAIL_SIZES, formats=("avif",))
    thumbnails = sorted(
        (thumbnail.box, thumbnail.width, thumbnail.height) for thumbnail in processed.thumbnails
    )
    assert [
        (box, *image.size) for box, image in zip(THUMBNAIL_SIZES, images, strict=True)
    ] == thumbnails


def test_a_small_image_keeps_its_size_in_every_box():
    images = rendered(samples.simple("PNG", (40, 25)), "PNG", boxes=[64, 256, 1024])
    assert {image.size for image in images} == {(40, 25)}


@pytest.mark.parametrize(
    ("data", "pillow_format"),
    [
        (samples.tagged_jpeg(), "JPEG"),
        (samples.photo((300, 200), orientation=6, gps=True), "JPEG"),
        (samples.transparent_png(), "PNG"),
        (samples.palette_png(), "PNG"),
        (samples.opaque_animated_gif(), "GIF"),
        (samples.cmyk_jpeg(icc_profile=samples.cmyk_profile()), "JPEG"),
        (samples.gray16_png(), "PNG"),
    ],
    ids=["tagged-jpeg", "rotated-gps", "rgba-png", "palette-png", "gif", "cmyk-icc", "gray16"],
)
def test_every_variant_is_a_clean_web_image(data, pillow_format):
    """`rendered` checks format, size, dimensions and metadata; here only what the source had."""
    source = Image.open(io.BytesIO(data))
    images = rendered(data, pillow_format)
    assert len(images) == 2 * len(BOXES)
    assert all(image.mode in ("RGB", "RGBA") for image in images)
    assert source.format == pillow_format


def test_a_tagged_jpeg_loses_exif_gps_profile_xmp_and_comment():
    data = samples.tagged_jpeg()
    source = Image.open(io.BytesIO(data))
    assert {"exif", "icc_profile", "xmp", "comment"} <= set(source.info)
    assert source.getexif().get_ifd(samples.GPS_IFD)
    for image in rendered(data, "JPEG"):
        assert not image.getexif().get_ifd(samples.GPS_IFD)
        assert image.mode == "RGB"


# Where the red marker painted on the stored top-left corner appears once turned upright.
MARKER_CORNERS = {1: "top-left", 3: "bottom-right", 6: "top-right", 8: "bottom-left"}


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_variants_are_upright_as_the_exif_orientation_says(orientation):
    stored = (600, 400)
    data = samples.photo(stored, orientation=orientation, gps=True)
    upright = stored[::-1] if orientation in (6, 8) else stored
    images = rendered(data, "JPEG")
    for box, image in zip([64, 64, 256, 256], images, strict=True):
        assert image.size == fitted(upright, box)
        width, height = image.size
        corners = {
            "top-left": (width // 10, height // 10),
            "top-right": (width - 1 - width // 10, height // 10),
            "bottom-left": (width // 10, height - 1 - height // 10),
            "bottom-right": (width - 1 - width // 10, height - 1 - height // 10),
        }
        for corner, point in corners.items():
            pixel = image.getpixel(point)
            is_red = pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60
            assert is_red == (corner == MARKER_CORNERS[orientation]), (box, corner, pixel)


def test_an_opaque_source_gives_rgb():
    assert {image.mode for image in rendered(samples.photo((300, 200)), "JPEG")} == {"RGB"}


def _half_transparent_la() -> bytes:
    image = Image.new("LA", (120, 80), (0, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 59, 79), fill=(200, 128))
    return samples.encoded(image, "PNG")


@pytest.mark.parametrize(
    ("data", "inside", "colour", "alpha"),
    [
        # the ellipse (50..150) of a 300 x 200 RGBA PNG: the corner is transparent
        (samples.transparent_png(), (0.33, 0.5), (0, 128, 255), 255),
        # a palette with a transparent index 0, the red index 1 in 20..120 of 225 x 225
        (samples.palette_png(), (0.3, 0.3), RED, 255),
        # grey at half alpha on the left half
        (_half_transparent_la(), (0.25, 0.5), (200, 200, 200), 128),
    ],
    ids=["rgba", "palette-transparency", "la"],
)
def test_alpha_is_kept(data, inside, colour, alpha):
    for image in rendered(data, "PNG"):
        assert image.mode == "RGBA"
        assert image.getpixel((0, image.height - 1))[3] == 0 or alpha == 128
        assert image.getpixel((image.width - 1, image.height - 1))[3] == 0
        point = (int(image.width * inside[0]), int(image.height * inside[1]))
        assert_colour(image.getpixel(point), (*colour, alpha))


def test_an_animated_gif_gives_its_first_frame():
    data = samples.opaque_animated_gif(colours=("red", "lime", "blue"))
    assert Image.open(io.BytesIO(data)).n_frames == 3
    for image in rendered(data, "GIF"):
        assert image.size == (40, 30)
        for point in [(0, 0), (20, 15), (39, 29)]:
            assert_colour(image.getpixel(point)[:3], RED)


def test_an_animated_gif_whose_first_frame_is_transparent_stays_transparent():
    for image in rendered(samples.animated_gif(), "GIF"):
        assert image.mode == "RGBA"
        assert image.getpixel((image.width // 2, image.height // 2))[3] == 0


@pytest.mark.parametrize(
    ("value", "grey"), [(0x0000, 0), (0x0100, 1), (0x4000, 64), (0x8000, 128), (0xFFFF, 255)]
)
def test_a_16_bit_greyscale_png_keeps_its_levels(value, grey):
    data = samples.gray16_png(value=value)
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    for image in rendered(data, "PNG"):
        assert image.mode == "RGB"
        assert_colour(image.getpixel((30, 20)), (grey, grey, grey), tolerance=2)


def test_a_cmyk_jpeg_without_a_profile_gets_the_plain_conversion():
    data = samples.cmyk_jpeg()
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    for image in rendered(data, "JPEG"):
        assert image.mode == "RGB"
        assert_colour(image.getpixel((image.width // 4, image.height // 2)), RED)
        assert_colour(image.getpixel((image.width * 3 // 4, image.height // 2)), GREEN)


def test_a_cmyk_jpeg_with_a_profile_is_converted_through_it():
    """The profile swaps cyan and magenta: the plain conversion's red prints green."""
    data = samples.cmyk_jpeg(icc_profile=samples.cmyk_profile())
    assert Image.open(io.BytesIO(data)).info["icc_profile"] == samples.cmyk_profile()
    for image in rendered(data, "JPEG"):
        assert image.mode == "RGB"
        assert_colour(image.getpixel((image.width // 4, image.height // 2)), GREEN)
        assert_colour(image.getpixel((image.width * 3 // 4, image.height // 2)), RED)


PATCHES = [RED, GREEN, BLUE, (255, 255, 255), (30, 30, 30), (200, 120, 40)]


def _patches(mode: str = "RGB") -> Image.Image:
    """Six flat colour patches of 20 x 20 side by side."""
    image = Image.new("RGB", (20 * len(PATCHES), 20))
    for index, colour in enumerate(PATCHES):
        ImageDraw.Draw(image).rectangle((20 * index, 0, 20 * index + 19, 19), fill=colour)
    return image.convert(mode)


@pytest.mark.parametrize("pillow_format", ["PNG", "JPEG"])
def test_an_srgb_profile_leaves_the_colours_as_they_are(pillow_format):
    options = {"quality": 95} if pillow_format == "JPEG" else {}
    data = samples.encoded(_patches(), pillow_format, icc_profile=samples.srgb_profile(), **options)
    assert Image.open(io.BytesIO(data)).info["icc_profile"]
    for image in rendered(data, pillow_format, boxes=[512]):
        for index, colour in enumerate(PATCHES):
            assert_colour(image.getpixel((20 * index + 10, 10)), colour)


def _swapped(image: Image.Image, pillow_format: str = "PNG", **options) -> bytes:
    return samples.encoded(image, pillow_format, icc_profile=samples.swapped_profile(), **options)


@pytest.mark.parametrize(
    ("data", "pillow_format", "colour"),
    [
        (_swapped(Image.new("RGB", (40, 20), RED)), "PNG", GREEN),
        (_swapped(Image.new("RGB", (40, 20), RED), "JPEG", quality=95), "JPEG", GREEN),
        (_swapped(Image.new("RGBA", (40, 20), (*RED, 128))), "PNG", (*GREEN, 128)),
        (_swapped(Image.new("RGB", (40, 20), RED).convert("P")), "PNG", GREEN),
    ],
    ids=["png", "jpeg", "rgba", "palette"],
)
def test_a_non_srgb_profile_is_applied(data, pillow_format, colour):
    """The profile swaps the red and green primaries: red pixels mean sRGB green."""
    for image in rendered(data, pillow_format):
        assert image.mode == ("RGBA" if len(colour) == 4 else "RGB")
        assert_colour(image.getpixel((image.width // 2, image.height // 2)), colour)


def test_a_non_srgb_profile_is_applied_to_an_rgb_png_keeping_its_transparent_colour():
    """An RGB PNG whose black is transparent (tRNS), with a profile: the red half comes out
    green and opaque, the black half transparent."""
    image = Image.new("RGB", (40, 20), RED)
    ImageDraw.Draw(image).rectangle((20, 0, 39, 19), fill=(0, 0, 0))
    for variant in rendered(_swapped(image, transparency=(0, 0, 0)), "PNG"):
        assert variant.mode == "RGBA"
        assert_colour(variant.getpixel((variant.width // 4, variant.height // 2)), (*GREEN, 255))
        assert variant.getpixel((variant.width * 3 // 4, variant.height // 2))[3] == 0


@pytest.mark.parametrize(
    ("data", "max_pixels", "pixels"),
    [
        (samples.png_declaring(2000, 1000), 1_000_000, 2_000_000),
        (samples.png_declaring(30000, 30000), MAX_PIXELS, 900_000_000),  # past Pillow's own
    ],
)
def test_a_decompression_bomb_is_refused_before_decoding(data, max_pixels, pixels):
    with pytest.raises(ImageTooLarge) as raised:
        render_variants(io.BytesIO(data), "PNG", BOXES, ["webp", "avif"], max_pixels, Encoding())
    assert f"{pixels} pixels" in raised.value.message
    assert f"limit is {max_pixels}" in raised.value.message


def test_the_pixel_limit_itself_is_allowed():
    data = samples.simple("PNG", (100, 50))
    variants = render_variants(io.BytesIO(data), "PNG", [64], ["webp"], 5000, Encoding())
    close_all(variants)
    with pytest.raises(ImageTooLarge):
        render_variants(io.BytesIO(data), "PNG", [64], ["webp"], 4999, Encoding())


@pytest.mark.parametrize(
    ("data", "pillow_format"),
    [
        (b"\x00garbage" * 200, "JPEG"),
        (b"", "PNG"),
        (samples.PDF, "PNG"),
        (samples.photo((300, 200))[:1500], "JPEG"),  # truncated
        (samples.simple("PNG"), "JPEG"),  # not the format it was identified as
        (samples.simple("PNG")[:-40], "PNG"),  # no image data end
    ],
    ids=["garbage", "empty", "pdf", "truncated-jpeg", "png-as-jpeg", "truncated-png"],
)
def test_what_pillow_cannot_decode_is_an_invalid_image(data, pillow_format):
    with pytest.raises(InvalidImage) as raised:
        render_variants(io.BytesIO(data), pillow_format, BOXES, ["webp"], MAX_PIXELS, Encoding())
    assert type(raised.value) is InvalidImage
