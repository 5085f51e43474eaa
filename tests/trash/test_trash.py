"""The trash as an editor of the SPA lives it (API.md, "Editorial safety"): a deleted object
disappears from every read, references to it read as absent, `/api/trash/` lists it, and a
restore brings it and every reference back exactly as they were; its unique values stay
reserved until it is purged."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import Caller
from tests.trash.conftest import (
    EMPTY_PAGE,
    INTERTWINED,
    NOT_FOUND,
    World,
    assert_reads_equal,
    body,
    build_world,
    image,
    path_and_kind,
    post,
    read_all,
    trash_entry,
    trash_page,
    while_trashed,
    without_updated_at,
)


@dataclass
class Case:
    """One kind's object in the world, how an editor changes it, and its label once changed."""

    kind: str
    target: Callable[[World], tuple[str, int]]  # its retrieve path and id
    change: dict[str, Any]
    label: str


def _link(world: World) -> tuple[str, int]:
    link_id = world.links[0]["id"]
    return f"/api/portfolios/{world.id}/links/{link_id}", link_id


def _meta(world: World) -> tuple[str, int]:
    meta_id = world.meta[0]["id"]
    return f"/api/portfolios/{world.id}/meta/{meta_id}", meta_id


# Kinds whose restore sets references back (`repairs`): it also moves the `updated_at` of the
# objects it repairs (a bug reported apart), so those are compared without it.
REPAIRING = {"employer", "media"}

CASES = [
    Case(
        "portfolio",
        lambda world: (f"/api/portfolios/{world.id}", world.id),
        {"title": "Shop website", "excerpt": "A better shop", "is_active": False},
        "Shop website",
    ),
    Case("link", _link, {"name": "Live shop", "order": 3}, "Live shop"),
    Case("meta", _meta, {"value_text": "ACME Inc."}, "client"),
    Case(
        "employer",
        lambda world: (f"/api/employers/{world.employer['id']}", world.employer["id"]),
        {"description": "Makers of things"},
        "ACME",
    ),
    # The middle tag of the portfolio (position 1), which the other portfolio has too.
    Case(
        "tag",
        lambda world: (f"/api/tags/{world.tags[1]['id']}", world.tags[1]["id"]),
        {"name": "django5"},
        "django5",
    ),
    # The cover: the portfolio's image, the employer's and the first tag's.
    Case(
        "media",
        lambda world: (f"/api/media/{world.cover['id']}", world.cover["id"]),
        {"name": "cover photo", "alt": "The shop's front page"},
        "cover photo",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.kind for case in CASES])
async def test_delete_hides_everywhere_and_restore_brings_back_exactly(
    api: httpx.AsyncClient, root: Caller, world: World, case: Case
):
    path, object_id = case.target(world)
    changed = body(await api.patch(path, json=case.change))
    for field, value in case.change.items():
        assert changed[field] == value
    shown = body(await api.get(path))
    before = await read_all(api, world.reads())
    assert before[path] == (200, shown)

    deleted = await api.delete(path)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_reads_equal(
        await read_all(api, world.reads()), while_trashed(before, case.kind, object_id)
    )
    again = await api.delete(path)
    assert (again.status_code, again.json()) == (404, NOT_FOUND)
    page = await trash_page(api)
    entry = trash_entry(case.kind, object_id, case.label, root, page)
    assert page == {"count": 1, "next": None, "previous": None, "results": [entry]}
    assert await trash_page(api, kind=case.kind) == page

    restored = await api.post(f"/api/trash/{case.kind}/{object_id}/restore")
    assert restored.status_code == 200
    assert restored.json() == shown
    assert body(await api.get(path)) == shown
    after = await read_all(api, world.reads())
    if case.kind in REPAIRING:
        assert_reads_equal(without_updated_at(after), without_updated_at(before))
    else:
        assert_reads_equal(after, before)
    assert await trash_page(api) == EMPTY_PAGE
    twice = await api.post(f"/api/trash/{case.kind}/{object_id}/restore")
    assert (twice.status_code, twice.json()) == (404, NOT_FOUND)


async def test_a_file_used_everywhere_reads_as_absent_and_comes_back_everywhere(
    api: httpx.AsyncClient, world: World
):
    """The cover also in the middle of the gallery, as a link's image and a meta's file."""
    cover, gallery = world.cover["id"], [file["id"] for file in world.gallery]
    pid, link, meta = world.id, world.links[1]["id"], world.meta[1]["id"]
    body(
        await api.patch(
            f"/api/portfolios/{pid}", json={"images": [gallery[0], cover, *gallery[1:]]}
        )
    )
    body(await api.patch(f"/api/portfolios/{pid}/links/{link}", json={"image": cover}))
    body(await api.patch(f"/api/portfolios/{pid}/meta/{meta}", json={"value_file": cover}))
    before = await read_all(api, world.reads())
    portfolio = before[f"/api/portfolios/{pid}"][1]
    assert [file["id"] for file in portfolio["images_data"]] == [gallery[0], cover, *gallery[1:]]
    assert portfolio["links_data"][1]["image_data"]["id"] == cover
    assert portfolio["meta"][1]["value_file"]["id"] == cover

    assert (await api.delete(f"/api/media/{cover}")).status_code == 204
    during = await read_all(api, world.reads())
    assert_reads_equal(during, while_trashed(before, "media", cover))
    shown = during[f"/api/portfolios/{pid}"][1]
    assert shown["image_data"] is None
    assert shown["employer_data"]["image_data"] is None
    assert shown["tags_data"][0]["image_data"] is None
    assert [file["id"] for file in shown["images_data"]] == gallery
    assert shown["links_data"][1]["image_data"] is None
    assert shown["meta"][1]["value_file"] is None

    body(await api.post(f"/api/trash/media/{cover}/restore"))
    after = await read_all(api, world.reads())
    assert_reads_equal(without_updated_at(after), without_updated_at(before))


async def test_a_put_or_patch_without_a_trashed_tag_or_image_keeps_it_for_the_restore(
    api: httpx.AsyncClient, world: World
):
    pid = world.id
    tags = [tag["id"] for tag in world.tags]
    gallery = [file["id"] for file in world.gallery]
    assert (await api.delete(f"/api/tags/{tags[1]}")).status_code == 204
    assert (await api.delete(f"/api/media/{gallery[1]}")).status_code == 204
    # The SPA sends back what it shows: the trashed ones are not among them.
    put = body(
        await api.put(
            f"/api/portfolios/{pid}",
            json={"title": "Shop site", "tags": [tags[2], tags[0]], "images": [gallery[2]]},
        )
    )
    assert [tag["id"] for tag in put["tags_data"]] == [tags[2], tags[0]]
    assert [file["id"] for file in put["images_data"]] == [gallery[2]]
    patched = body(
        await api.patch(f"/api/portfolios/{pid}", json={"images": [gallery[2], gallery[0]]})
    )
    assert [file["id"] for file in patched["images_data"]] == [gallery[2], gallery[0]]
    # Naming a trashed one is naming nothing.
    refused = await api.patch(f"/api/portfolios/{pid}", json={"tags": [tags[1]]})
    assert refused.status_code == 400
    assert refused.json() == {"tags": [f'Invalid pk "{tags[1]}" - object does not exist.']}

    body(await api.post(f"/api/trash/tag/{tags[1]}/restore"))
    body(await api.post(f"/api/trash/media/{gallery[1]}/restore"))
    shown = body(await api.get(f"/api/portfolios/{pid}"))
    assert sorted(tag["id"] for tag in shown["tags_data"]) == sorted(tags)
    assert sorted(file["id"] for file in shown["images_data"]) == sorted(gallery)
    other = body(await api.get(f"/api/portfolios/{world.other['id']}"))
    assert [tag["id"] for tag in other["tags_data"]] == [tags[1]]
    filtered = body(await api.get("/api/portfolios/", params={"tag": tags[1]}))
    assert sorted(item["id"] for item in filtered["results"]) == sorted([pid, world.other["id"]])


async def test_a_reference_changed_meanwhile_is_not_overwritten_by_the_restore(
    api: httpx.AsyncClient, world: World
):
    pid, cover, link = world.id, world.cover["id"], world.links[0]["id"]
    replacement = await image(api, "replacement")
    assert (await api.delete(f"/api/media/{cover}")).status_code == 204
    body(await api.patch(f"/api/portfolios/{pid}", json={"image": replacement["id"]}))
    body(await api.patch(f"/api/portfolios/{pid}/links/{link}", json={"image": replacement["id"]}))
    employer = body(
        await api.patch(f"/api/employers/{world.employer['id']}", json={"image": replacement["id"]})
    )
    portfolio = body(await api.get(f"/api/portfolios/{pid}"))
    first_tag = body(await api.get(f"/api/tags/{world.tags[0]['id']}"))

    restored = body(await api.post(f"/api/trash/media/{cover}/restore"))
    # What the editor chose meanwhile stays; what nobody touched (the tag's image) comes back.
    tags_data = [{**portfolio["tags_data"][0], "image_data": restored}, *portfolio["tags_data"][1:]]
    assert body(await api.get(f"/api/portfolios/{pid}")) == {**portfolio, "tags_data": tags_data}
    assert body(await api.get(f"/api/employers/{world.employer['id']}")) == employer
    tag = body(await api.get(f"/api/tags/{world.tags[0]['id']}"))
    assert {**tag, "updated_at": None} == {**first_tag, "image_data": restored, "updated_at": None}


async def test_an_employer_changed_meanwhile_is_not_overwritten_by_the_restore(
    api: httpx.AsyncClient, world: World
):
    employer = world.employer["id"]
    other_employer = await post(api, "/api/employers/", name="Initech")
    assert (await api.delete(f"/api/employers/{employer}")).status_code == 204
    portfolio = body(
        await api.patch(f"/api/portfolios/{world.id}", json={"employer": other_employer["id"]})
    )
    other = body(await api.get(f"/api/portfolios/{world.other['id']}"))
    assert other["employer_data"] is None

    restored = body(await api.post(f"/api/trash/employer/{employer}/restore"))
    assert body(await api.get(f"/api/portfolios/{world.id}")) == portfolio
    shown = {key: restored[key] for key in ("id", "name", "image_data", "description")}
    back = body(await api.get(f"/api/portfolios/{world.other['id']}"))
    assert {**back, "updated_at": None} == {**other, "employer_data": shown, "updated_at": None}


@pytest.mark.parametrize("kind", ["link", "meta"])
async def test_a_child_trashed_before_its_portfolio_waits_for_the_portfolio(
    api: httpx.AsyncClient, world: World, kind: str
):
    pid = world.id
    child = (world.links if kind == "link" else world.meta)[0]["id"]
    child_path = f"/api/portfolios/{pid}/{'links' if kind == 'link' else 'meta'}/{child}"
    child_body = body(await api.get(child_path))
    before = await read_all(api, world.reads())
    assert (await api.delete(child_path)).status_code == 204
    without_child = await read_all(api, world.reads())
    assert (await api.delete(f"/api/portfolios/{pid}")).status_code == 204
    page = await trash_page(api)
    assert [(item["kind"], item["id"]) for item in page["results"]] == [
        ("portfolio", pid),
        (kind, child),
    ]

    early = await api.post(f"/api/trash/{kind}/{child}/restore")
    assert early.status_code == 400
    assert early.json() == {"detail": f"Restore portfolio {pid} first."}
    assert await trash_page(api) == page  # nothing changed

    # The portfolio comes back as it was when it went: without the child trashed before it.
    portfolio = body(await api.post(f"/api/trash/portfolio/{pid}/restore"))
    assert portfolio == without_child[f"/api/portfolios/{pid}"][1]
    assert_reads_equal(await read_all(api, world.reads()), without_child)
    assert [(item["kind"], item["id"]) for item in (await trash_page(api))["results"]] == [
        (kind, child)
    ]

    assert body(await api.post(f"/api/trash/{kind}/{child}/restore")) == child_body
    assert_reads_equal(await read_all(api, world.reads()), before)


@pytest.mark.parametrize(
    ("first", "second"), INTERTWINED, ids=[f"{one}-then-{two}" for one, two in INTERTWINED]
)
async def test_two_trashed_objects_restored_last_deleted_first_come_back_as_they_were(
    api: httpx.AsyncClient, world: World, first: str, second: str
):
    """Both ends of a reference deleted, then restored as an undo would: the last deleted first.
    (The other order loses the reference between them: reported apart.)"""
    before = await read_all(api, world.reads())
    deleted = [path_and_kind(world, name) for name in (first, second)]
    for path, _kind, _id in deleted:
        assert (await api.delete(path)).status_code == 204
    for _path, kind, object_id in reversed(deleted):
        body(await api.post(f"/api/trash/{kind}/{object_id}/restore"))
    after = await read_all(api, world.reads())
    assert_reads_equal(without_updated_at(after), without_updated_at(before))


# Unique values a trashed object keeps.


async def purge(api: httpx.AsyncClient, kind: str, object_id: int) -> None:
    response = await api.delete(f"/api/trash/{kind}/{object_id}")
    assert response.status_code == 204, response.text


@pytest.mark.parametrize("kind", ["tag", "employer"])
async def test_a_trashed_name_stays_taken_until_purged(api: httpx.AsyncClient, kind: str):
    collection = f"/api/{kind}s/"
    taken = {"name": [f"{kind} with this name already exists."]}
    named = await post(api, collection, name="Reserved")
    bystander = await post(api, collection, name="Bystander")
    assert (await api.delete(f"{collection}{named['id']}")).status_code == 204

    created = await api.post(collection, json={"name": "Reserved"})
    assert (created.status_code, created.json()) == (400, taken)
    renamed = await api.patch(f"{collection}{bystander['id']}", json={"name": "Reserved"})
    assert (renamed.status_code, renamed.json()) == (400, taken)
    replaced = await api.put(f"{collection}{bystander['id']}", json={"name": "Reserved"})
    assert (replaced.status_code, replaced.json()) == (400, taken)

    await purge(api, kind, named["id"])
    again = await post(api, collection, name="Reserved")
    assert again["name"] == "Reserved"
    assert again["id"] != named["id"]


async def test_a_trashed_portfolios_title_and_slug_stay_taken_until_purged(
    api: httpx.AsyncClient,
):
    first = await post(api, "/api/portfolios/", title="Shop site")
    second = await post(api, "/api/portfolios/", title="Blog")
    assert first["slug"] == "shop-site"
    assert (await api.delete(f"/api/portfolios/{first['id']}")).status_code == 204
    title_taken = ["portfolio with this title already exists."]
    slug_taken = ["portfolio with this slug already exists."]

    both = await api.post("/api/portfolios/", json={"title": "Shop site", "slug": "shop-site"})
    assert (both.status_code, both.json()) == (400, {"title": title_taken, "slug": slug_taken})
    slug = await api.post("/api/portfolios/", json={"title": "Shop", "slug": "shop-site"})
    assert (slug.status_code, slug.json()) == (400, {"slug": slug_taken})
    generated = await post(api, "/api/portfolios/", title="Shop site!")
    assert generated["slug"] == "shop-site-2"
    path = f"/api/portfolios/{second['id']}"
    retitled = await api.patch(path, json={"title": "Shop site"})
    assert (retitled.status_code, retitled.json()) == (400, {"title": title_taken})
    reslugged = await api.patch(path, json={"slug": "shop-site"})
    assert (reslugged.status_code, reslugged.json()) == (400, {"slug": slug_taken})
    # A slug generated again (an empty one sent) skips it too.
    retitled_blog = body(await api.patch(path, json={"title": "Shop site?", "slug": ""}))
    assert retitled_blog["slug"] == "shop-site-3"

    await purge(api, "portfolio", first["id"])
    again = await post(api, "/api/portfolios/", title="Shop site", slug="shop-site")
    assert (again["title"], again["slug"]) == ("Shop site", "shop-site")


async def test_a_trashed_meta_key_stays_taken_in_its_portfolio_until_purged(
    api: httpx.AsyncClient,
):
    first = await post(api, "/api/portfolios/", title="First")
    second = await post(api, "/api/portfolios/", title="Second")
    collection = f"/api/portfolios/{first['id']}/meta/"
    item = await post(api, collection, key="client", value_text="ACME")
    other = await post(api, collection, key="stack")
    assert (await api.delete(f"{collection}{item['id']}")).status_code == 204
    taken = {"key": ["portfolio meta with this key already exists."]}

    created = await api.post(collection, json={"key": "client"})
    assert (created.status_code, created.json()) == (400, taken)
    renamed = await api.patch(f"{collection}{other['id']}", json={"key": "client"})
    assert (renamed.status_code, renamed.json()) == (400, taken)
    # Only within its portfolio.
    elsewhere = await post(api, f"/api/portfolios/{second['id']}/meta/", key="client")
    assert elsewhere["key"] == "client"

    await purge(api, "meta", item["id"])
    again = await post(api, collection, key="client")
    assert again["key"] == "client"


async def test_a_trashed_portfolios_meta_keys_come_back_with_it(api: httpx.AsyncClient):
    """A portfolio's meta went with it: its keys are its own again once it is back."""
    world = await build_world(api)
    assert (await api.delete(f"/api/portfolios/{world.id}")).status_code == 204
    body(await api.post(f"/api/trash/portfolio/{world.id}/restore"))
    duplicate = await api.post(f"/api/portfolios/{world.id}/meta/", json={"key": "client"})
    assert duplicate.status_code == 400
    assert duplicate.json() == {"key": ["portfolio meta with this key already exists."]}
