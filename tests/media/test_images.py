"""Thumbnail sizes: the cascade resizes without `Image.thumbnail`, to the same sizes."""

import random

import pytest
from PIL import Image

from app.media.images import fitted

SIZES = [(1920, 1080), (1080, 1920), (700, 350), (64, 64), (1000, 1), (1, 1000), (333, 777)]
rng = random.Random(7)
SIZES += [(rng.randint(1, 3000), rng.randint(1, 3000)) for _ in range(60)]


@pytest.mark.parametrize("box", [1, 64, 128, 512, 1080])
def test_fitted_is_the_size_pillow_thumbnail_gives(box):
    differing = []
    for size in SIZES:
        image = Image.new("L", size)
        image.thumbnail((box, box), Image.Resampling.NEAREST)
        if fitted(size, box) != image.size:
            differing.append((size, fitted(size, box), image.size))
    assert differing == []


def test_pillows_own_bomb_check_stays_in_force():
    """IMAGE_MAX_PIXELS is checked on the first frame; Pillow's check guards every other open,
    frame and page (a later TIFF page, say), so it is never switched off."""
    from PIL import Image

    from app.media import images
    from app.settings import Settings

    assert Image.MAX_IMAGE_PIXELS == images.PILLOW_MAX_PIXELS
    assert Image.MAX_IMAGE_PIXELS is not None
    assert Settings.model_fields["image_max_pixels"].metadata  # bounded by Pillow's limit
    with pytest.raises(ValueError, match="less than or equal"):
        Settings(_env_file=None, image_max_pixels=Image.MAX_IMAGE_PIXELS + 1)
