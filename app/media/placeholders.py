"""ThumbHash placeholders: a few dozen bytes that paint the image's colours and shape before it
loads (https://evanw.github.io/thumbhash/), computed during the upload from its smallest thumbnail.

thumbhash-rs binds the reference Rust implementation: 0.3 ms for a 64 px thumbnail (bench/
variants.py), where a pure-Python port takes 10 ms of the upload's thread."""

import base64

from PIL import Image
from thumbhash import rgba_to_thumb_hash

from app.media.colour import in_srgb

MAX_EDGE = 100  # the most ThumbHash takes


def placeholder(image: Image.Image) -> str:
    """The image's ThumbHash, standard base64 with padding, in the colours its variants show."""
    small = image
    if max(image.size) > MAX_EDGE:
        width, height = image.size
        scale = MAX_EDGE / max(width, height)
        small = image.resize(
            (max(round(width * scale), 1), max(round(height * scale), 1)), Image.Resampling.BOX
        )
    rgba = in_srgb(small).convert("RGBA")
    return base64.b64encode(rgba_to_thumb_hash(rgba.width, rgba.height, rgba.tobytes())).decode()
