"""ThumbHash placeholders (issue 29): standard padded base64 of the reference ThumbHash, decoded
back with thumbhash-rs, and the one process_image returns for its smallest thumbnail."""

import base64
import binascii
import io

import pytest
from PIL import Image, ImageDraw
from thumbhash import (
    thumb_hash_to_approximate_aspect_ratio,
    thumb_hash_to_average_rgba,
    thumb_hash_to_rgba,
)

from app.media.images import process_image
from app.media.placeholders import placeholder
from tests.media import samples


def decoded(value: str) -> bytes:
    """The hash bytes of standard, padded base64 (anything else is refused)."""
    assert len(value) % 4 == 0
    return base64.b64decode(value, validate=True)


def average(value: str) -> tuple[float, float, float, float]:
    return thumb_hash_to_average_rgba(decoded(value))


def assert_average(value: str, rgba: tuple[float, ...], tolerance: float = 0.035) -> None:
    """Within ThumbHash's quantisation: alpha in 4 bits, the luminance in 6, chroma in 6."""
    actual = average(value)
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, rgba, strict=True)), actual


def gradient(width: int, height: int) -> Image.Image:
    """Red rising to the right, green downwards, blue 100, opaque."""
    image = Image.new("RGBA", (width, height))
    image.putdata(
        [
            (x * 255 // (width - 1), y * 255 // (height - 1), 100, 255)
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


def half_transparent(width: int = 30, height: int = 45) -> Image.Image:
    """Opaque on the left half; on the right, alpha rising downwards."""
    image = Image.new("RGBA", (width, height))
    image.putdata(
        [
            (200, x * 255 // (width - 1), 50, 255 if x < width // 2 else y * 255 // (height - 1))
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


# Computed independently with the reference Rust implementation, evanw/thumbhash rust/src/lib.rs
# at a652ce6 (`rgba_to_thumb_hash` on the same pixels). The reference JavaScript computes in f64
# where Rust uses f32 and differs in a few AC nibbles (3QgKPZqAh4eAeHh4iHiHiICACPh4 for the
# gradient), but not in its header: the same average colour.
REFERENCE = [
    (gradient(40, 30), "3QgKPZqAh4eAeIh4iHiIeICACPh4"),
    (half_transparent(), "HbuGKxIrYJaHd4hglviZdn+Fs2d4eIg="),
]
JAVASCRIPT_GRADIENT = "3QgKPZqAh4eAeHh4iHiHiICACPh4"


@pytest.mark.parametrize(("image", "expected"), REFERENCE, ids=["gradient", "alpha"])
def test_the_reference_implementations_hash(image, expected):
    assert placeholder(image) == expected


def test_the_same_average_as_the_reference_javascript():
    ours = average(placeholder(gradient(40, 30)))
    assert ours == pytest.approx(thumb_hash_to_average_rgba(decoded(JAVASCRIPT_GRADIENT)))
    assert ours == pytest.approx((0.505, 0.489, 0.386, 1.0), abs=0.01)


def test_standard_padded_base64():
    values = [placeholder(image) for image, _ in REFERENCE]
    values.append(placeholder(Image.new("RGB", (7, 3), "white")))
    for value in values:
        assert value.isascii()
        assert not {"-", "_"} & set(value)
        assert base64.b64encode(decoded(value)).decode() == value
    assert values[1].endswith("=")
    with pytest.raises(binascii.Error):
        base64.b64decode(values[1].rstrip("="), validate=True)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "CMYK"])
@pytest.mark.parametrize("size", [(100, 100), (1000, 1000), (64, 40), (1, 1)])
def test_a_uniform_red_image_averages_red(mode, size):
    red = Image.new("RGB", size, (255, 0, 0))
    value = placeholder(red.convert(mode))
    assert_average(value, (1.0, 0.0, 0.0, 1.0))
    width, height, rgba = thumb_hash_to_rgba(decoded(value))
    pixels = Image.frombytes("RGBA", (width, height), bytes(rgba))
    if size == (1, 1):
        return  # one pixel: the rendering is all rounding noise
    for point in [(0, 0), (width // 2, height // 2), (width - 1, height - 1)]:
        r, g, b, a = pixels.getpixel(point)
        assert (r > 230, g < 25, b < 25, a) == (True, True, True, 255), (point, r, g, b, a)


def test_a_grey_image_averages_grey():
    assert_average(placeholder(Image.new("L", (80, 60), 128)), (0.5, 0.5, 0.5, 1.0))


@pytest.mark.parametrize(
    ("size", "ratio"),
    [((300, 200), 1.5), ((200, 300), 2 / 3), ((30, 20), 1.5), ((1200, 800), 1.5), ((100, 100), 1)],
)
def test_the_approximate_aspect_ratio_follows_the_image(size, ratio):
    value = placeholder(samples_photo_image(size))
    approximate = thumb_hash_to_approximate_aspect_ratio(decoded(value))
    assert approximate == pytest.approx(ratio, rel=0.1)
    assert (approximate > 1) == (ratio > 1)
    width, height, _ = thumb_hash_to_rgba(decoded(value))
    assert (width > height) == (ratio > 1)


def samples_photo_image(size: tuple[int, int]) -> Image.Image:
    return Image.open(io.BytesIO(samples.photo(size)))


def test_a_large_image_is_hashed_from_a_copy_within_100_pixels():
    """ThumbHash takes at most 100 x 100: larger ones are shrunk first, to about the same hash."""
    large = gradient(400, 300)
    small = large.resize((100, 75), Image.Resampling.BOX)
    assert average(placeholder(large)) == pytest.approx(average(placeholder(small)), abs=0.01)
    tall = Image.new("RGB", (101, 5000), "blue")
    assert_average(placeholder(tall), (0.0, 0.0, 1.0, 1.0))


@pytest.mark.parametrize("alpha", [0, 64, 128, 255])
def test_transparency_is_the_average_alpha(alpha):
    image = Image.new("RGBA", (50, 50), (0, 0, 255, alpha))
    value = placeholder(image)
    expected_alpha = alpha / 255
    assert average(value)[3] == pytest.approx(expected_alpha, abs=0.035)
    if alpha:
        assert_average(value, (0.0, 0.0, 1.0, expected_alpha))


def test_a_transparent_half_lowers_the_average_alpha_and_shows_in_the_rendering():
    image = Image.new("RGBA", (60, 40), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 29, 39), fill=(0, 200, 0, 255))
    value = placeholder(image)
    assert_average(value, (0.0, 200 / 255, 0.0, 0.5), tolerance=0.05)
    width, height, rgba = thumb_hash_to_rgba(decoded(value))
    rendering = Image.frombytes("RGBA", (width, height), bytes(rgba))
    assert rendering.getpixel((2, height // 2))[3] > 200
    assert rendering.getpixel((width - 3, height // 2))[3] < 55


def test_a_palette_png_with_transparency_keeps_it():
    image = Image.open(io.BytesIO(samples.palette_png()))
    assert image.mode == "P"
    assert "transparency" in image.info
    _, _, _, alpha = average(placeholder(image))
    assert alpha == pytest.approx((101 * 101) / (225 * 225), abs=0.05)


def test_a_16_bit_greyscale_image_averages_its_grey():
    image = Image.new("I;16", (50, 50), 0x8000)
    assert_average(placeholder(image), (0.5, 0.5, 0.5, 1.0))


def test_decoding_and_encoding_again_gives_about_the_same_average():
    value = placeholder(half_transparent())
    width, height, rgba = thumb_hash_to_rgba(decoded(value))
    again = placeholder(Image.frombytes("RGBA", (width, height), bytes(rgba)))
    assert average(again) == pytest.approx(average(value), abs=0.08)  # a blur of a blur


# process_image: the placeholder of its smallest thumbnail.

BOXES = [64, 128, 512]


def processed_placeholder(data: bytes, pillow_format: str) -> str:
    processed = process_image(io.BytesIO(data), pillow_format, BOXES, 50_000_000)
    processed.close()
    assert processed.placeholder is not None
    return processed.placeholder


def test_process_image_returns_the_placeholder_of_its_smallest_thumbnail():
    data = samples.photo((600, 400))
    processed = process_image(io.BytesIO(data), "JPEG", BOXES, 50_000_000)
    try:
        smallest = min(processed.thumbnails, key=lambda thumbnail: thumbnail.box)
        assert smallest.box == 64
        thumbnail = Image.open(smallest.file)  # the JPEG of what was hashed
        assert thumbnail.size == (64, 43)
        ours = decoded(processed.placeholder or "")
        theirs = decoded(placeholder(thumbnail))
        # Two quanta of the hash's average (6 bits of lightness): the JPEG's re-encoding moves it.
        assert thumb_hash_to_average_rgba(ours) == pytest.approx(
            thumb_hash_to_average_rgba(theirs), abs=0.05
        )
        assert thumb_hash_to_approximate_aspect_ratio(ours) == pytest.approx(
            thumb_hash_to_approximate_aspect_ratio(theirs)
        )
        assert thumb_hash_to_approximate_aspect_ratio(ours) == pytest.approx(1.5, rel=0.1)
    finally:
        processed.close()


def test_process_image_without_boxes_has_no_placeholder():
    processed = process_image(io.BytesIO(samples.photo((300, 200))), "JPEG", [], 50_000_000)
    assert processed.thumbnails == []
    assert processed.placeholder is None


@pytest.mark.parametrize(("orientation", "ratio"), [(1, 1.5), (3, 1.5), (6, 2 / 3), (8, 2 / 3)])
def test_process_image_placeholder_is_upright(orientation, ratio):
    value = processed_placeholder(samples.photo((600, 400), orientation=orientation), "JPEG")
    assert thumb_hash_to_approximate_aspect_ratio(decoded(value)) == pytest.approx(ratio, rel=0.1)


@pytest.mark.parametrize(
    ("data", "pillow_format", "rgba"),
    [
        (samples.encoded(Image.new("RGB", (300, 200), "red"), "PNG"), "PNG", (1, 0, 0, 1)),
        (samples.gray16_png((300, 200), 0x8000), "PNG", (0.5, 0.5, 0.5, 1)),
        (samples.opaque_animated_gif((300, 200)), "GIF", (1, 0, 0, 1)),
        (samples.encoded(Image.new("RGBA", (300, 200), (0, 0, 255, 0)), "PNG"), "PNG", None),
    ],
    ids=["red", "gray16", "gif-first-frame", "transparent"],
)
def test_process_image_placeholder_colours(data, pillow_format, rgba):
    value = processed_placeholder(data, pillow_format)
    if rgba is None:
        assert average(value)[3] == pytest.approx(0, abs=0.02)
    else:
        assert_average(value, rgba)


CMYK_RED = Image.new("CMYK", (300, 200), (0, 255, 255, 0))  # red in the plain conversion
RGB_RED = Image.new("RGB", (300, 200), (255, 0, 0))


@pytest.mark.parametrize(
    ("data", "pillow_format"),
    [
        (samples.encoded(CMYK_RED, "JPEG", icc_profile=samples.cmyk_profile()), "JPEG"),
        (samples.encoded(RGB_RED, "PNG", icc_profile=samples.swapped_profile()), "PNG"),
    ],
    ids=["cmyk-profile", "rgb-profile"],
)
def test_process_image_placeholder_is_in_srgb_as_the_variants_are(data, pillow_format):
    """A browser paints a ThumbHash as sRGB: the colours are the embedded profile's, as in the
    variants (green here: both profiles turn the plain conversion's red into sRGB green)."""
    value = processed_placeholder(data, pillow_format)
    assert_average(value, (0.0, 1.0, 0.0, 1.0), tolerance=0.05)
