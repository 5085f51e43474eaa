"""WebP/AVIF variants of an HD photo, on one core: the time to render them all against a full
decode of the original (per AVIF speed), their bytes against the JPEG thumbnails of the same
boxes (per quality, with PSNR against the unencoded resize), and the placeholder's time.

    .venv/bin/python -m bench.variants                        # a real photo if one is found
    .venv/bin/python -m bench.variants --image PATH --save-dir /tmp/variants-bench

Without --image it takes the first JPEG of at least 1920x1080 under /usr/share, else a synthetic
scene (sky, hills, lake, trees, a sign, depth of field, grain) saved as JPEG quality 90. The
process pins itself to one core, so AVIF encodes in one thread. --save-dir writes the 1080 JPEG
thumbnail, both variants, a side-by-side montage and crops (1:1, 2x) of its most detailed part.
"""

import argparse
import contextlib
import io
import os
import random
from dataclasses import replace
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

from app.media.images import fitted, process_image
from app.media.placeholders import placeholder
from app.media.variants import Encoding, close_all, render_variants
from bench.media_upload import median_ms
from bench.thumbnail_filters import psnr

BOXES = [64, 128, 512, 1080]
MAX_PIXELS = 100_000_000
SPEEDS, AVIF_QUALITIES, WEBP_QUALITIES = range(4, 11), range(50, 71, 5), range(75, 86, 5)


def scene(width: int, height: int, seed: int = 7) -> bytes:
    """A landscape photo's content: gradients, edges, texture, text, blur and sensor noise."""
    rng = random.Random(seed)
    horizon = height * 11 // 20
    sky = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(
        Image.new("RGB", sky.size, (226, 200, 176)), Image.new("RGB", sky.size, (70, 120, 196)), sky
    )
    clouds = fractal(width, height, 24).filter(ImageFilter.GaussianBlur(8))
    clouds = clouds.point(lambda v: min(255, max(0, v - 135) * 4))
    image.paste((250, 250, 255), (0, 0), clouds)
    draw = ImageDraw.Draw(image)
    for layer, colour in enumerate([(150, 160, 185), (95, 115, 120), (55, 80, 55)]):
        y, ridge = horizon - 220 + layer * 70, [(0, height)]
        for x in range(0, width + 16, 16):
            y = min(max(y + rng.randint(-14, 14), horizon - 320), horizon)
            ridge.append((x, y))
        draw.polygon([*ridge, (width, height)], fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(1.5))  # the far scene out of focus
    water = image.crop((0, 2 * horizon - height, width, horizon)).transpose(
        Image.Transpose.FLIP_TOP_BOTTOM
    )
    ripples = Image.effect_noise((width // 40, height - horizon), 60).resize(water.size)
    water = Image.blend(water, Image.merge("RGB", [ripples] * 3), 0.18)
    image.paste(water.point(lambda v: v * 3 // 4), (0, horizon))
    draw = ImageDraw.Draw(image)
    for _ in range(70):  # a wooded shore: trunks and layered crowns
        x, base = rng.randrange(width), horizon + rng.randint(-10, 40)
        tall, shade = rng.randint(80, 260), rng.randint(30, 70)
        draw.rectangle((x - 3, base - tall // 5, x + 3, base), fill=(60, 40, 25))
        for step, top in enumerate(range(base - tall, base - tall // 3, tall // 5)):
            half, low = tall // 6 + step * tall // 12, top + tall // 3
            draw.polygon([(x, top), (x - half, low), (x + half, low)], (shade // 2, shade, 30))
    sign = (width * 3 // 5, height * 4 // 5, width * 3 // 5 + 520, height * 4 // 5 + 130)
    draw.rectangle(sign, fill=(236, 228, 204), outline=(90, 60, 30), width=6)
    font = ImageFont.load_default(size=46)
    draw.text((sign[0] + 24, sign[1] + 16), "Lakeside Trail 2.4 km", (40, 30, 20), font=font)
    draw.text((sign[0] + 24, sign[1] + 70), "Portfolio 29: HD photo", (150, 30, 20), font=font)
    land = fractal(width, height, 2).convert("RGB")  # leaves, rocks and ripples
    mask = Image.new("L", (width, height), 0)
    mask.paste(150, (0, horizon - 330, width, height))
    image = Image.composite(ImageChops.soft_light(image, land), image, mask)
    grain = [Image.effect_noise((width, height), 5) for _ in range(3)]
    image = ImageChops.add(image, Image.merge("RGB", grain), offset=-128)  # sensor noise
    output = io.BytesIO()
    image.save(output, "JPEG", quality=90)
    return output.getvalue()


def fractal(width: int, height: int, scale: int) -> Image.Image:
    """Noise at several scales, from `scale` pixels up to 16 times that: a natural texture."""
    texture = Image.new("L", (width, height), 128)
    for octave in range(5):
        size = (max(width // (scale << octave), 2), max(height // (scale << octave), 2))
        noise = Image.effect_noise(size, 64).resize((width, height), Image.Resampling.BICUBIC)
        texture = Image.blend(texture, noise, 0.5)
    return ImageOps.autocontrast(texture, cutoff=1)


def find_photo() -> Path | None:
    for path in sorted(Path("/usr/share").rglob("*.jp*g")):
        with contextlib.suppress(OSError), Image.open(path) as image:
            if image.width >= 1920 and image.height >= 1080:
                return path
    return None


def render(data: bytes, encoding: Encoding, formats: list[str], boxes: list[int] = BOXES) -> dict:
    variants = render_variants(io.BytesIO(data), "JPEG", boxes, formats, MAX_PIXELS, encoding)
    try:
        return {(v.box, v.format.name): v.file.read() for v in variants}
    finally:
        close_all(variants)


def reference(data: bytes, box: int) -> Image.Image:
    """The box as render_variants resizes to it, unencoded: what encodings are compared with."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (box, box))
        upright = ImageOps.exif_transpose(image).convert("RGB")
    return upright.resize(fitted(upright.size, box), Image.Resampling.HAMMING, reducing_gap=2.0)


def rgb(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def montage(images: dict[str, Image.Image], scale: int = 1) -> Image.Image:
    width, height = next(iter(images.values())).size
    sheet = Image.new("RGB", (len(images) * (width * scale + 8), height * scale + 40), "white")
    font = ImageFont.load_default(size=24)
    for index, (label, image) in enumerate(images.items()):
        x = index * (width * scale + 8)
        sheet.paste(
            image.resize((width * scale, height * scale), Image.Resampling.NEAREST), (x, 40)
        )
        ImageDraw.Draw(sheet).text((x + 4, 6), label, "black", font=font)
    return sheet


def detailed_box(image: Image.Image, side: int) -> tuple[int, int, int, int]:
    """The side x side tile with the most edges: where encoders lose detail first."""
    tiles = image.convert("L").filter(ImageFilter.FIND_EDGES).reduce(side)
    whole = [(x, y) for x in range(image.width // side) for y in range(image.height // side)]
    x, y = max(whole, key=tiles.getpixel)
    return x * side, y * side, (x + 1) * side, (y + 1) * side


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--image", type=Path, help="a JPEG photograph (default: see above)")
    parser.add_argument("--size", default="1920x1080", help="of the synthetic scene")
    for name, value in vars(Encoding()).items():  # the encoding timed, sized and saved
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=value)
    parser.add_argument("--rounds", type=int, default=5, help="timings per AVIF speed")
    parser.add_argument("--save-dir", type=Path, help="write the 1080 images and montages here")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    default = Encoding(args.webp_quality, args.avif_quality, args.avif_speed)
    path = args.image or find_photo()
    if path:
        data, source = path.read_bytes(), str(path)
    else:
        width, height = (int(side) for side in args.size.split("x"))
        data, source = scene(width, height), "synthetic scene (no photo >= 1920x1080 found)"
    with Image.open(io.BytesIO(data)) as image:
        print(f"{source}: {image.width}x{image.height}, {len(data)} bytes, one core\n")

    def decode() -> None:
        with Image.open(io.BytesIO(data)) as image:
            image.load()

    decode_ms = median_ms(decode, 20)
    print(f"Full decode (open + load, no draft): {decode_ms:.1f} ms (median of 20)\n")

    top = max(BOXES)
    ref = reference(data, top)
    webp_ms = median_ms(lambda: render(data, default, ["webp"]), args.rounds)
    print(
        f"All variants, WebP q{default.webp_quality} + AVIF q{default.avif_quality}"
        f" (boxes {BOXES}); WebP alone {webp_ms:.0f} ms"
    )
    print(f"| AVIF speed | time | x decode (target <= 25) | AVIF {top} bytes | PSNR {top} |")
    print("|---|---|---|---|---|")
    for speed in sorted({*SPEEDS, default.avif_speed}):
        encoding = replace(default, avif_speed=speed)
        taken = median_ms(
            lambda encoding=encoding: render(data, encoding, ["webp", "avif"]), args.rounds
        )
        avif = render(data, encoding, ["avif"], [top])[top, "avif"]
        mark = " (default)" if speed == default.avif_speed else ""
        print(
            f"| {speed}{mark} | {taken:.0f} ms | {taken / decode_ms:.1f}x | {len(avif)} |"
            f" {psnr(rgb(avif), ref):.1f} dB |"
        )

    processed = process_image(io.BytesIO(data), "JPEG", BOXES, MAX_PIXELS)
    jpegs = {thumb.box: thumb.file.read() for thumb in processed.thumbnails}
    processed.close()
    print(f"\nBytes per box (% of the JPEG q85 thumbnail); AVIF at speed {default.avif_speed}")
    print("| encoding | " + " | ".join(f"{box}" for box in BOXES) + f" | PSNR {top} |")
    print("|---|" + "---|" * (len(BOXES) + 1))
    rows = {"JPEG q85": jpegs}
    for name, qualities in (("webp", WEBP_QUALITIES), ("avif", AVIF_QUALITIES)):
        for quality in qualities:
            encoding = replace(default, **{f"{name}_quality": quality})
            variants = render(data, encoding, [name]).items()
            rows[f"{name} q{quality}"] = {box: content for (box, _), content in variants}
    for label, sizes in rows.items():
        cells = [
            f"{len(sizes[box])} ({100 * len(sizes[box]) / len(jpegs[box]):.0f}%)" for box in BOXES
        ]
        print(f"| {label} | " + " | ".join(cells) + f" | {psnr(rgb(sizes[top]), ref):.1f} dB |")

    with Image.open(io.BytesIO(jpegs[min(BOXES)])) as small:
        small.load()
        print(
            f"\nPlaceholder (ThumbHash) of the {min(BOXES)} px thumbnail:"
            f" {median_ms(lambda: placeholder(small), 200):.2f} ms (median of 200)"
        )

    if args.save_dir:
        args.save_dir.mkdir(parents=True, exist_ok=True)
        chosen = render(data, default, ["webp", "avif"], [top])
        files = {
            "JPEG q85": (jpegs[top], "jpg"),
            f"WebP q{default.webp_quality}": (chosen[top, "webp"], "webp"),
            f"AVIF q{default.avif_quality} s{default.avif_speed}": (chosen[top, "avif"], "avif"),
        }
        decoded = {}
        for label, (content, extension) in files.items():
            (args.save_dir / f"{top}.{extension}").write_bytes(content)
            decoded[f"{label}: {len(content)} B"] = rgb(content)
        montage(decoded).save(args.save_dir / "montage.png")
        box = detailed_box(ref, 360)
        crops = {"unencoded": ref.crop(box)} | {k: v.crop(box) for k, v in decoded.items()}
        montage(crops).save(args.save_dir / "crop.png")
        montage({k: v.crop((90, 90, 270, 270)) for k, v in crops.items()}, 2).save(
            args.save_dir / "crop-2x.png"
        )
        print(f"Wrote {top}.*, montage.png, crop.png (1:1 {box}), crop-2x.png to {args.save_dir}")


if __name__ == "__main__":
    main()
