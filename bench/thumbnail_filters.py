"""Which resampling filter the thumbnail cascade uses: cost of the 1080 -> 512 step, and how far
each result is from a Lanczos resize of the original, before and after JPEG encoding.

    .venv/bin/python -m bench.thumbnail_filters
"""

import io
import math

from PIL import Image, ImageChops, ImageFilter, ImageStat

from app.media.images import _encode, fitted
from bench.media_upload import median_ms, photo_like

FILTERS = {
    "Hamming": Image.Resampling.HAMMING,
    "Bicubic": Image.Resampling.BICUBIC,
    "Lanczos": Image.Resampling.LANCZOS,
}


def psnr(image: Image.Image, reference: Image.Image) -> float:
    rms = ImageStat.Stat(ImageChops.difference(image, reference)).rms
    mse = sum(value * value for value in rms) / len(rms)
    return 10 * math.log10(255**2 / mse) if mse else math.inf


def as_stored(image: Image.Image) -> Image.Image:
    """The thumbnail as the app encodes and stores it, decoded again."""
    with _encode(image, "JPEG") as stored, Image.open(stored) as decoded:
        return decoded.convert("RGB")


def compare(label: str, original: Image.Image) -> None:
    largest = original.resize(fitted(original.size, 1080), Image.Resampling.HAMMING)
    size = fitted(largest.size, 512)
    reference = original.resize(size, Image.Resampling.LANCZOS)
    for name, resample in FILTERS.items():
        resized = largest.resize(size, resample, reducing_gap=2.0)
        cost = median_ms(lambda resample=resample: largest.resize(size, resample, reducing_gap=2.0))
        cells = [label, name, f"{cost:.1f} ms", f"{psnr(resized, reference):.1f} dB"]
        cells.append(f"{psnr(as_stored(resized), reference):.1f} dB")
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    photo = Image.open(io.BytesIO(photo_like((1920, 1080), quality=92))).convert("RGB")
    print("| 1920x1080 | 1080 -> 512 | time | PSNR vs Lanczos of the original | stored as JPEG |")
    print("|---|---|---|---|---|")
    compare("photo-like", photo)
    compare("smoother", photo.filter(ImageFilter.GaussianBlur(4)))


if __name__ == "__main__":
    main()
