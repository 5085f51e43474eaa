"""The employer read model has one form of its own, the Python builder (the portfolio JSON that
embeds an employer is compared in tests/test_database_json.py)."""

from app.employers.read_model import EmployerData, EmployerOut, employer_payload
from app.employers.service import employers
from app.models import Employer
from tests.factories import create_image, create_row
from tests.read_models import assert_builder_matches
from tests.shapes import seed


async def test_the_builder_matches_the_models_and_the_seed(app, db_connection):
    image = await create_image(app, "دیجی‌کالا")
    store = await create_row(app, Employer, name="digikala", description="store", image_id=image.id)
    rows = [store, await create_row(app, Employer, name="بی‌نام", description=None)]
    embedded = await assert_builder_matches(
        app, employers, employer_payload, (EmployerData, EmployerOut),
        seed("update_portfolio")["employer_data"], rows,
    )  # fmt: skip
    assert embedded[0]["image_data"]["id"] == image.id
    assert (embedded[1]["image_data"], embedded[1]["description"]) == (None, None)
