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
