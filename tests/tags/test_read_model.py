"""The tag read model has one form of its own, the Python builder (the portfolio JSON that
embeds tags is compared in tests/test_database_json.py)."""

from app.models import Tag
from app.tags.read_model import TagData, TagOut, tag_payload
from app.tags.service import tags
from tests.factories import create_image, create_row
from tests.read_models import assert_builder_matches
from tests.shapes import seed


async def test_the_builder_matches_the_models_and_the_seed(app, db_connection):
    image = await create_image(app, "وب")
    rows = [await create_row(app, Tag, name=name, image_id=image.id) for name in ("sites", "وب")]
    rows.append(await create_row(app, Tag, name="no image"))
    embedded = await assert_builder_matches(
        app, tags, tag_payload, (TagData, TagOut), seed("update_portfolio")["tags_data"][0], rows
    )
    assert [tag["image_data"] and tag["image_data"]["id"] for tag in embedded] == [
        image.id, image.id, None,
    ]  # fmt: skip
