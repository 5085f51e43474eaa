"""Pictures for the demo data, drawn with Pillow: gradients, shapes and a caption.

Deterministic: a picture's shapes come from a generator seeded with its file name, so every run
draws the same bytes. Photos are JPEG, screens PNG, logos PNG with transparency.
"""

import io
import random

from PIL import Image, ImageColor, ImageDraw, ImageFont

from app.demo.data import Picture

RGB = tuple[int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
MIN_EDGE = 16
WHITE = (255, 255, 255)


def render(picture: Picture, scale: float = 1.0) -> bytes:
    """The encoded picture, `scale` times its nominal size (never under 16 px a side)."""
    size = (
        max(MIN_EDGE, round(picture.width * scale)),
        max(MIN_EDGE, round(picture.height * scale)),
    )
    start, end = (_rgb(color) for color in picture.colors)
    rng = random.Random(picture.stem)
    output = io.BytesIO()
    if picture.kind == "photo":
        _photo(size, start, end, picture.caption, rng).save(output, "JPEG", quality=85)
    elif picture.kind == "screen":
        _screen(size, start, end, picture.caption).save(output, "PNG")
    else:
        _logo(size, start, end, picture.caption).save(output, "PNG")
    return output.getvalue()


def _rgb(color: str) -> RGB:
    red, green, blue = ImageColor.getrgb(color)[:3]
    return red, green, blue


def _gradient(size: tuple[int, int], start: RGB, end: RGB) -> Image.Image:
    """From `start` in the top left corner to `end` in the bottom right one."""
    vertical = Image.linear_gradient("L").resize(size)
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    mask = Image.blend(vertical, horizontal, 0.5)
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)


def _font(size: int) -> Font:
    return ImageFont.load_default(max(size, 6))


def _fitted_font(draw: ImageDraw.ImageDraw, text: str, size: int, max_width: float) -> Font:
    """The largest font up to `size` in which `text` fits `max_width`."""
    font = _font(size)
    while size > 6 and draw.textlength(text, font=font) > max_width:
        size = int(size * 0.85)
        font = _font(size)
    return font


def _photo(
    size: tuple[int, int], start: RGB, end: RGB, caption: str, rng: random.Random
) -> Image.Image:
    """A gradient sky, soft circles, two ranges of hills and a caption band."""
    width, height = size
    image = _gradient(size, end, start).convert("RGBA")
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for _ in range(14):
        radius = rng.randint(width // 40 + 1, width // 8 + 2)
        x, y = rng.randint(0, width), rng.randint(0, height * 2 // 3)
        draw.ellipse(
            (x - radius, y - radius, x + radius, y + radius), (*WHITE, rng.randint(25, 70))
        )
    for depth, shade in ((0.55, 0.55), (0.7, 0.3)):
        points = [(0, height)]
        for step in range(9):
            x = width * step // 8
            points.append((x, int(height * (depth + rng.uniform(-0.12, 0.12)))))
        points.append((width, height))
        draw.polygon(points, fill=(*(int(c * shade) for c in start), 235))
    band = max(height // 7, 8)
    draw.rectangle((0, height - band, width, height), fill=(0, 0, 0, 110))
    label = f"{caption}  ·  {width}x{height}"
    font = _fitted_font(draw, label, band // 2, width * 0.9)
    draw.text((band // 2, height - band // 2), label, fill=WHITE, font=font, anchor="lm")
    return Image.alpha_composite(image, overlay).convert("RGB")


def _screen(size: tuple[int, int], start: RGB, end: RGB, caption: str) -> Image.Image:
    """A web or phone screen: a bar, a hero with the caption, then a grid of cards."""
    width, height = size
    image = Image.new("RGB", size, (244, 245, 247))
    draw = ImageDraw.Draw(image)
    bar = max(height // 12, 6)
    draw.rectangle((0, 0, width, bar), fill=start)
    font = _fitted_font(draw, caption, bar // 2, width * 0.6)
    draw.text((bar // 2, bar // 2), caption, fill=WHITE, font=font, anchor="lm")
    hero = max(height // 3, 8)
    image.paste(_gradient((width, hero), start, end), (0, bar))
    title_font = _fitted_font(draw, caption, hero // 4, width * 0.8)
    draw.text((width // 2, bar + hero // 2), caption, fill=WHITE, font=title_font, anchor="mm")
    columns = 3 if width > height else 1
    gap = max(width // 40, 2)
    card_width = (width - gap * (columns + 1)) // columns
    card_height = max((height - bar - hero - gap * 3) // 2, 4)
    for row in range(2):
        for column in range(columns):
            left = gap + column * (card_width + gap)
            top = bar + hero + gap + row * (card_height + gap)
            box = (left, top, left + card_width, top + card_height)
            draw.rounded_rectangle(box, radius=gap, fill=WHITE, outline=(220, 222, 228))
            picture = (left + gap, top + gap, left + card_width - gap, top + card_height // 2)
            if picture[2] > picture[0] and picture[3] > picture[1]:
                draw.rectangle(picture, fill=end if (row + column) % 2 else start)
            for line in range(2):
                y = top + card_height // 2 + gap * (line + 1)
                if y + gap // 2 < top + card_height:
                    length = card_width - gap * (2 + 3 * line)
                    draw.rectangle((left + gap, y, left + gap + length, y + gap // 2), (200,) * 3)
    return image


def _logo(size: tuple[int, int], start: RGB, end: RGB, initials: str) -> Image.Image:
    """Initials on a gradient disc, on a transparent background."""
    width, height = size
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    disc = Image.new("L", size, 0)
    margin = max(width // 16, 1)
    ImageDraw.Draw(disc).ellipse((margin, margin, width - margin, height - margin), fill=255)
    image.paste(_gradient(size, start, end), (0, 0), disc)
    draw = ImageDraw.Draw(image)
    font = _fitted_font(draw, initials, height // 3, width * 0.6)
    draw.text((width // 2, height // 2), initials, fill=WHITE, font=font, anchor="mm")
    return image
