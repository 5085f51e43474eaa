"""Portfolios: the update-portfolio seed, every write rule, filters and deletion."""

import asyncio

import pytest

from app.models import Employer, PortfolioLink, PortfolioMeta, Tag
from tests.factories import create_document, create_image, create_row
from tests.shapes import assert_same_shape, seed


async def create(client, **fields):
    response = await client.post("/api/portfolios/", json={"title": "Wordpress site", **fields})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def full(app, admin_client):
    """A portfolio like the seed's example: image, employer, two tags, a gallery."""
    image = await create_image(app, "test text", size=73062, width=156, height=156, mode="RGB")
    preview = await create_image(app, "asdf", size=11740, width=216, height=263, mode="RGBA")
    employer = await create_row(
        app, Employer, name="digikala", description="some store", image_id=image.id
    )
    sites = await create_row(app, Tag, name="sites", image_id=preview.id)
    webs = await create_row(app, Tag, name="webs", image_id=image.id)
    return await create(
        admin_client,
        excerpt="a wordpress site built with elementor and great performance for product showcase",
        order=1,
        image=image.id,
        employer=employer.id,
        tags=[sites.id, webs.id],
        images=[image.id],
        completed_at="2024-12-14T00:00:00Z",
        description="this can be a long text describing the project",
    )


async def test_created_portfolio_has_the_seed_shape(full):
    assert_same_shape(full, seed("update_portfolio"))
    expected = seed("update_portfolio")
    for field in ("title", "slug", "excerpt", "order", "is_active", "completed_at", "description"):
        assert full[field] == expected[field], field
    assert full["employer_data"]["name"] == "digikala"
    assert [tag["name"] for tag in full["tags_data"]] == ["sites", "webs"]
    assert full["tags_data"][0]["image_data"]["human_readable_size"] == "11.46 KB"
    assert full["image_data"]["human_readable_size"] == "71.35 KB"
    assert (full["links_data"], full["meta"]) == ([], [])


async def test_update_portfolio_seed_requests(app, admin_client, full):
    path = f"/api/portfolios/{full['id']}"
    renamed = await admin_client.patch(path, json={"title": "DjangoSite"})
    assert renamed.status_code == 200
    assert renamed.json()["title"] == "DjangoSite"
    assert renamed.json()["slug"] == "wordpress-site"  # never regenerated from a new title
    assert_same_shape(renamed.json(), seed("update_portfolio"))

    other = await create_image(app, "other")
    image_only = (await admin_client.patch(path, json={"image": other.id})).json()
    assert image_only["image_data"]["id"] == other.id
    assert image_only["title"] == "DjangoSite"

    cleared = (await admin_client.patch(path, json={"image": None})).json()
    assert cleared["image_data"] is None
    assert cleared["employer_data"]["name"] == "digikala"
    assert cleared["updated_at"] >= renamed.json()["updated_at"]


async def test_an_spa_may_patch_back_what_it_read(admin_client, full):
    response = await admin_client.patch(f"/api/portfolios/{full['id']}", json=full)
    assert response.status_code == 200
    assert response.json()["tags_data"] == full["tags_data"]


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("طراحی سایت", "طراحی-سایت"),
        ("Hello, World!  Again", "hello-world-again"),
        ("!!!", "portfolio"),
        ("  Ünïcode Café ", "ünïcode-café"),
    ],
)
async def test_slug_is_generated_from_the_title(admin_client, title, slug):
    assert (await create(admin_client, title=title))["slug"] == slug


async def test_generated_slugs_are_made_unique(admin_client):
    first = await create(admin_client, title="Same Name")
    second = await create(admin_client, title="same name!")
    third = await create(admin_client, title="SAME NAME?", slug="")
    assert [first["slug"], second["slug"], third["slug"]] == [
        "same-name",
        "same-name-2",
        "same-name-3",
    ]


async def test_a_long_series_of_taken_slugs_is_searched_to_its_first_gap(admin_client):
    # Given slugs fill `long`, `long-2` ... `long-24` except `long-23`: past one probe batch.
    for number in [1, *range(2, 23), 24]:
        slug = "long" if number == 1 else f"long-{number}"
        await create(admin_client, title=f"Given {number}", slug=slug)
    assert (await create(admin_client, title="Long!"))["slug"] == "long-23"
    assert (await create(admin_client, title="long?"))["slug"] == "long-25"


async def test_given_slug_is_validated_and_unique(admin_client):
    await create(admin_client, title="One", slug="taken")
    bad = await admin_client.post("/api/portfolios/", json={"title": "Two", "slug": "no spaces"})
    assert bad.json() == {
        "slug": [
            "Enter a valid “slug” consisting of Unicode letters, numbers, underscores, or hyphens."
        ]
    }
    taken = await admin_client.post("/api/portfolios/", json={"title": "Two", "slug": "taken"})
    assert taken.json() == {"slug": ["portfolio with this slug already exists."]}


async def test_a_slug_taken_after_validation_is_a_400_or_a_retry(admin_client, monkeypatch):
    """What a concurrent request does between the checks and the insert, done here by skipping
    the checks and by handing out a taken slug first."""
    from app.portfolios import service

    await create(admin_client, title="First", slug="taken")
    checks = service.validate

    async def no_checks(session, changes, portfolio_id=None):
        pass

    monkeypatch.setattr(service, "validate", no_checks)
    given = await admin_client.post("/api/portfolios/", json={"title": "Given", "slug": "taken"})
    assert given.status_code == 400
    assert given.json() == {"slug": ["portfolio with this slug already exists."]}

    monkeypatch.setattr(service, "validate", checks)
    real_free_slug = service.free_slug
    handed_out = []

    async def stale_then_real(session, title, tried=(), own=None):
        slug = "taken" if not handed_out else await real_free_slug(session, title, tried, own)
        handed_out.append(slug)
        return slug

    monkeypatch.setattr(service, "free_slug", stale_then_real)
    assert (await create(admin_client, title="Taken"))["slug"] == "taken-2"
    assert handed_out == ["taken", "taken-2"]


async def test_null_slug_on_update_regenerates_it(admin_client):
    created = await create(admin_client, title="Keep Me", slug="custom")
    patched = await admin_client.patch(f"/api/portfolios/{created['id']}", json={"slug": None})
    assert patched.json()["slug"] == "keep-me"


async def test_booleans_and_integers_are_json_ones(admin_client):
    """OpenAPI says boolean and integer: `0` is no boolean and `false` no integer (as in DRF);
    a numeric string still reads as its number, as DRF reads it."""
    refused = await admin_client.post(
        "/api/portfolios/", json={"title": "Typed", "is_active": 0, "order": False}
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "is_active": ["Must be a valid boolean."],
        "order": ["A valid integer is required."],
    }
    created = await create(admin_client, title="Typed", order="3")
    assert created["order"] == 3


async def test_title_is_required_and_unique(admin_client):
    missing = await admin_client.post("/api/portfolios/", json={"excerpt": "x"})
    assert missing.json() == {"title": ["This field is required."]}
    await create(admin_client, title="Unique")
    dup = await admin_client.post("/api/portfolios/", json={"title": "Unique"})
    assert dup.json() == {"title": ["portfolio with this title already exists."]}


async def test_every_bad_reference_is_named_at_once(app, admin_client):
    document = await create_document(app)
    response = await admin_client.post(
        "/api/portfolios/",
        json={
            "title": "Refs",
            "image": document.id,
            "employer": 999999,
            "tags": [999998, 999997],
            "images": [document.id, 999996],
            "completed_at": "yesterday",
            "excerpt": "x" * 501,
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body == {
        "excerpt": ["Ensure this field has no more than 500 characters."],
        "completed_at": [
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
        ],
    }
    refs = await admin_client.post(
        "/api/portfolios/",
        json={
            "title": "Refs",
            "image": document.id,
            "employer": 999999,
            "tags": [999998, 999997],
            "images": [document.id, 999996],
        },
    )
    assert refs.json() == {
        "image": [f"File {document.id} is not an image."],
        "employer": ['Invalid pk "999999" - object does not exist.'],
        "tags": [
            'Invalid pk "999998" - object does not exist.',
            'Invalid pk "999997" - object does not exist.',
        ],
        "images": [
            f"File {document.id} is not an image.",
            'Invalid pk "999996" - object does not exist.',
        ],
    }


async def test_lists_replace_the_set_in_the_given_order_without_repeats(app, admin_client):
    a, b, c = [await create_row(app, Tag, name=name) for name in "abc"]
    created = await create(admin_client, tags=[c.id, a.id, c.id])
    assert [t["name"] for t in created["tags_data"]] == ["c", "a"]
    path = f"/api/portfolios/{created['id']}"
    patched = (await admin_client.patch(path, json={"tags": [b.id, a.id]})).json()
    assert [t["name"] for t in patched["tags_data"]] == ["b", "a"]
    untouched = (await admin_client.patch(path, json={"order": 3})).json()
    assert [t["name"] for t in untouched["tags_data"]] == ["b", "a"]
    emptied = (await admin_client.patch(path, json={"tags": []})).json()
    assert emptied["tags_data"] == []


async def test_gallery_keeps_its_order(app, admin_client):
    images = [await create_image(app, f"g{n}") for n in range(3)]
    created = await create(admin_client, images=[images[2].id, images[0].id, images[1].id])
    assert [i["name"] for i in created["images_data"]] == ["g2", "g0", "g1"]


async def test_naive_completed_at_is_read_in_the_configured_zone(app, admin_client):
    original = app.state.settings
    app.state.settings = original.model_copy(update={"time_zone": "Asia/Tehran"})
    try:
        created = await create(admin_client, completed_at="2024-12-14T03:30:00")
    finally:
        app.state.settings = original
    assert created["completed_at"] == "2024-12-14T00:00:00Z"


async def test_put_requires_title(admin_client):
    created = await create(admin_client, title="Put Me", order=4)
    path = f"/api/portfolios/{created['id']}"
    assert (await admin_client.put(path, json={"order": 1})).json() == {
        "title": ["This field is required."]
    }
    replaced = (await admin_client.put(path, json={"title": "Put Me Too"})).json()
    assert (replaced["title"], replaced["order"], replaced["slug"]) == ("Put Me Too", 4, "put-me")


async def test_delete_takes_links_and_meta_but_never_media(app, admin_client, db_connection):
    from sqlalchemy import func, select

    image = await create_image(app)
    created = await create(admin_client, image=image.id, images=[image.id])
    await admin_client.post(
        f"/api/portfolios/{created['id']}/links/", json={"name": "l", "image": image.id}
    )
    await admin_client.post(
        f"/api/portfolios/{created['id']}/meta/", json={"key": "k", "value_file": image.id}
    )
    assert (await admin_client.delete(f"/api/portfolios/{created['id']}")).status_code == 204
    assert (await admin_client.get(f"/api/portfolios/{created['id']}")).status_code == 404
    for model in (PortfolioLink, PortfolioMeta):
        count = select(func.count()).select_from(model)
        assert (await db_connection.execute(count)).scalar_one() == 0
    assert (await admin_client.get(f"/api/media/{image.id}")).status_code == 200


async def test_deleting_referenced_things_nulls_or_drops_them(app, admin_client):
    image = await create_image(app)
    employer = await create_row(app, Employer, name="gone")
    tag = await create_row(app, Tag, name="gone too")
    created = await create(
        admin_client, image=image.id, employer=employer.id, tags=[tag.id], images=[image.id]
    )
    await admin_client.delete(f"/api/employers/{employer.id}")
    await admin_client.delete(f"/api/tags/{tag.id}")
    await admin_client.delete(f"/api/media/{image.id}")
    after = (await admin_client.get(f"/api/portfolios/{created['id']}")).json()
    assert (after["image_data"], after["employer_data"]) == (None, None)
    assert (after["tags_data"], after["images_data"]) == ([], [])


@pytest.fixture
async def listed(app, admin_client):
    employer = await create_row(app, Employer, name="acme")
    image = await create_image(app)
    red, blue = await create_row(app, Tag, name="red"), await create_row(app, Tag, name="blue")
    await create(admin_client, title="Alpha", order=2, employer=employer.id, tags=[red.id, blue.id],
                 completed_at="2024-01-10T00:00:00Z", image=image.id)  # fmt: skip
    await create(admin_client, title="Beta", order=1, is_active=False, tags=[blue.id],
                 completed_at="2024-02-10T00:00:00Z", excerpt="second")  # fmt: skip
    await create(admin_client, title="Gamma", order=1)
    return admin_client, employer, red, blue


async def titles(client, **params):
    response = await client.get("/api/portfolios/", params=params)
    assert response.status_code == 200, response.text
    return [p["title"] for p in response.json()["results"]]


async def test_default_ordering_is_order_then_newest(listed):
    client, *_ = listed
    assert await titles(client) == ["Gamma", "Beta", "Alpha"]


async def test_portfolio_filters(listed):
    client, employer, red, blue = listed
    assert await titles(client, is_active="false") == ["Beta"]
    assert await titles(client, employer=employer.id) == ["Alpha"]
    assert await titles(client, has_employer="false") == ["Gamma", "Beta"]
    assert await titles(client, has_image="true") == ["Alpha"]
    assert await titles(client, tag=red.id) == ["Alpha"]
    assert await titles(client, tag=[red.id, blue.id]) == ["Beta", "Alpha"]  # any, no repeats
    assert await titles(client, completed_from="2024-02-01") == ["Beta"]
    assert await titles(client, completed_to="2024-01-10") == ["Alpha"]
    assert await titles(client, search="second") == ["Beta"]
    assert await titles(client, search="alpha", is_active="true") == ["Alpha"]
    assert await titles(client, ordering="-title") == ["Gamma", "Beta", "Alpha"]
    assert await titles(client, tag=999999) == []


async def test_bad_filters_are_reported_together(admin_client):
    response = await admin_client.get(
        "/api/portfolios/",
        params={"tag": "x", "employer": "y", "completed_from": "z", "has_image": "w"},
    )
    assert response.status_code == 400
    assert set(response.json()) == {"tag", "employer", "completed_from", "has_image"}


async def test_racing_creates_of_one_title_give_one_success(app, committing_client):
    from tests.factories import create_superuser

    committing_client.headers.update((await create_superuser(app)).headers)
    responses = await asyncio.gather(
        *(committing_client.post("/api/portfolios/", json={"title": "Race"}) for _ in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * 19
    assert all(
        r.json() in ({"title": ["portfolio with this title already exists."]},
                     {"slug": ["portfolio with this slug already exists."]})
        for r in responses if r.status_code == 400
    )  # fmt: skip
    assert (await committing_client.get("/api/portfolios/")).json()["count"] == 1


async def test_racing_creates_of_one_slug_from_different_titles_all_succeed(app, committing_client):
    from tests.factories import create_superuser

    committing_client.headers.update((await create_superuser(app)).headers)
    responses = await asyncio.gather(
        *(
            committing_client.post("/api/portfolios/", json={"title": f"Race{'!' * n}"})
            for n in range(8)
        )
    )
    assert [r.status_code for r in responses] == [201] * 8
    slugs = sorted(r.json()["slug"] for r in responses)
    assert slugs == sorted(["race"] + [f"race-{n}" for n in range(2, 9)])
