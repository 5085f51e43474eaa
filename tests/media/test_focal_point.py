"""`PATCH /api/media/{id}`: an image's alt text and focal point, as API.md's "Media for the web"
gives them; a coordinate outside 0..1 (or not a number) is a 400 that changes nothing."""

import pytest

from tests.factories import create_document, create_image


@pytest.fixture
async def image(app, media_client):
    return await create_image(app, "cover")


async def test_alt_and_focal_point_are_saved_and_shown_everywhere(app, media_client, image):
    response = await media_client.patch(
        f"/api/media/{image.id}", json={"alt": "A red bicycle", "focal_point": {"x": 0.3, "y": 1}}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["alt"], response.json()["focal_point"]) == (
        "A red bicycle",
        {"x": 0.3, "y": 1.0},
    )
    listed = (await media_client.get("/api/media/")).json()["results"]
    assert [item["focal_point"] for item in listed] == [{"x": 0.3, "y": 1.0}]
    history = (await media_client.get("/api/history/", params={"kind": "media"})).json()
    assert history["results"][0]["changes"]["focal_point"] == [None, {"x": 0.3, "y": 1.0}]

    reset = await media_client.patch(f"/api/media/{image.id}", json={"focal_point": None})
    assert reset.json()["focal_point"] is None  # the centre again
    assert reset.json()["alt"] == "A red bicycle"  # what was not sent stays


@pytest.mark.parametrize(
    ("focal_point", "message"),
    [
        ({"x": 1.5, "y": 0.5}, "Ensure this value is between 0 and 1."),
        ({"x": 0.5, "y": -0.01}, "Ensure this value is between 0 and 1."),
        ({"x": True, "y": 0.5}, "A valid number is required."),
        ({"x": 0.5}, "This field is required."),
    ],
)
async def test_a_coordinate_outside_0_to_1_is_refused_and_nothing_changes(
    media_client, image, focal_point, message
):
    response = await media_client.patch(
        f"/api/media/{image.id}", json={"alt": "changed", "focal_point": focal_point}
    )
    assert response.status_code == 400
    assert response.json() == {"focal_point": [message]}
    unchanged = (await media_client.get(f"/api/media/{image.id}")).json()
    assert (unchanged["alt"], unchanged["focal_point"]) == ("", None)


async def test_a_file_that_is_no_image_has_no_focal_point(app, media_client):
    document = await create_document(app)
    response = await media_client.patch(
        f"/api/media/{document.id}", json={"focal_point": {"x": 0.5, "y": 0.5}}
    )
    assert response.status_code == 400
    assert response.json() == {"focal_point": ["Only images have a focal point."]}
    body = (await media_client.get(f"/api/media/{document.id}")).json()
    assert "focal_point" not in body  # image fields are for images only
