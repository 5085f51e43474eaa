"""Colours as browsers show them: sRGB, with the image's alpha (if any) kept beside them."""

import io
from functools import lru_cache

from PIL import Image, ImageCms

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ALPHA_MODES or "transparency" in image.info


def in_srgb(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has any transparency: colours as its embedded ICC profile
    means them, converted to sRGB; without a profile they are taken as sRGB already (CMYK
    without one gets Pillow's plain conversion). The alpha is taken before the colours are
    converted: a transparent colour key (tRNS) names a colour of the original."""
    if image.mode in ("I;16", "I"):
        image = image.point(lambda value: value / 256).convert("L")
    alpha = image.convert("RGBA").getchannel("A") if has_alpha(image) else None
    colours = image if image.mode in ("RGB", "CMYK", "L") else image.convert(_colour_mode(image))
    profile = image.info.get("icc_profile")
    converted = _through_profile(colours, profile) if profile else None
    result = converted if converted is not None else colours.convert("RGB")
    if alpha is not None:
        result.putalpha(alpha)
    return result


def _colour_mode(image: Image.Image) -> str:
    return "L" if image.mode in ("LA", "La") else "RGB"


def _through_profile(image: Image.Image, profile: bytes) -> Image.Image | None:
    """None when littleCMS cannot read the profile or it does not fit the image's mode."""
    try:
        transform = _transform(profile, image.mode)
        return ImageCms.applyTransform(image, transform)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None


@lru_cache(maxsize=16)
def _transform(profile: bytes, mode: str) -> ImageCms.ImageCmsTransform:
    """Building a transform costs more than applying it to a thumbnail; most uploads carry one
    of a few profiles (sRGB, Display P3, Adobe RGB)."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    return ImageCms.buildTransform(
        source, SRGB, mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
    )
