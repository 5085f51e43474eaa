"""Employers and tags: CRUD, unique names, images that must be images, lists."""

import pytest

from app.models import Employer, Tag
from tests.factories import create_document, create_image, create_row


@pytest.mark.parametrize(("base", "model"), [("/api/employers", Employer), ("/api/tags", Tag)])
async def test_crud_round_trip(app, admin_client, base, model):
    image = await create_image(app)
    created = await admin_client.post(f"{base}/", json={"name": "دیجی‌کالا", "image": image.id})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "دیجی‌کالا"
    assert body["image_data"]["id"] == image.id
    assert {"created_at", "updated_at"} <= set(body)
    path = f"{base}/{body['id']}"
    assert (await admin_client.get(path)).json() == body
    renamed = (await admin_client.patch(path, json={"name": "digikala", "image": None})).json()
    assert (renamed["name"], renamed["image_data"]) == ("digikala", None)
    assert (await admin_client.put(path, json={})).json() == {"name": ["This field is required."]}
    assert (await admin_client.delete(path)).status_code == 204
    assert (await admin_client.get(path)).status_code == 404


async def test_employer_shape(app, admin_client):
    body = (
        await admin_client.post(
            "/api/employers/", json={"name": "digikala", "description": "some store"}
        )
    ).json()
    assert list(body) == ["id", "name", "image_data", "description", "created_at", "updated_at"]


async def test_tag_shape(admin_client):
    body = (await admin_client.post("/api/tags/", json={"name": "sites"})).json()
    assert list(body) == ["id", "name", "image_data", "created_at", "updated_at"]


@pytest.mark.parametrize(
    ("base", "verbose"), [("/api/employers/", "employer"), ("/api/tags/", "tag")]
)
async def test_names_are_unique(admin_client, base, verbose):
    await admin_client.post(base, json={"name": "same"})
    response = await admin_client.post(base, json={"name": "same"})
    assert response.status_code == 400
    assert response.json() == {"name": [f"{verbose} with this name already exists."]}


@pytest.mark.parametrize("base", ["/api/employers/", "/api/tags/"])
async def test_image_must_exist_and_be_an_image(app, admin_client, base):
    document = await create_document(app)
    missing = await admin_client.post(base, json={"name": "a", "image": 424242})
    assert missing.json() == {"image": ['Invalid pk "424242" - object does not exist.']}
    not_image = await admin_client.post(base, json={"name": "b", "image": document.id})
    assert not_image.json() == {"image": [f"File {document.id} is not an image."]}
    wrong_type = await admin_client.post(base, json={"name": "c", "image": True})
    assert wrong_type.json() == {"image": ["Incorrect type. Expected pk value, received bool."]}


async def test_employer_list_search_and_filters(app, admin_client):
    image = await create_image(app)
    await create_row(app, Employer, name="Acme", description="rockets", image_id=image.id)
    await create_row(app, Employer, name="Globex", description="")
    await create_row(app, Employer, name="Initech")

    async def names(**params):
        response = await admin_client.get("/api/employers/", params=params)
        assert response.status_code == 200
        return [e["name"] for e in response.json()["results"]]

    assert await names() == ["Initech", "Globex", "Acme"]  # newest first
    assert await names(search="ROCKET") == ["Acme"]
    assert await names(has_image="true") == ["Acme"]
    assert await names(has_description="false") == ["Initech", "Globex"]
    assert await names(ordering="name") == ["Acme", "Globex", "Initech"]


async def test_tag_list(app, admin_client):
    await create_row(app, Tag, name="وب")
    await create_row(app, Tag, name="web")
    body = (await admin_client.get("/api/tags", params={"search": "وب"})).json()
    assert [t["name"] for t in body["results"]] == ["وب"]
