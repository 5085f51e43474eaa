"""The trash as the SPA sees it: a world of related objects made through the API, every read an
editor would look at, and the expected bodies of those reads while one object is in the trash
(derived from the bodies before the delete)."""

import copy
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import make_client
from tests.factories import Caller, create_superuser
from tests.media import samples
from tests.media.conftest import media_client, media_root, media_store, upload  # noqa: F401

NOT_FOUND = {"detail": "Not found."}
DENIED = {"detail": "You do not have permission to perform this action."}
EMPTY_PAGE = {"count": 0, "next": None, "previous": None, "results": []}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


def body(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else None


@pytest.fixture
async def root(app: FastAPI, db_connection: AsyncConnection) -> Caller:
    return await create_superuser(app)


@pytest.fixture
async def api(app: FastAPI, root: Caller) -> AsyncIterator[httpx.AsyncClient]:
    """A superuser's client (the per-test rollback of `db_connection` applies)."""
    async with make_client(app) as http:
        http.headers.update(root.headers)
        yield http


def client_for(app: FastAPI, caller: Caller | None = None) -> httpx.AsyncClient:
    http = make_client(app)
    if caller is not None:
        http.headers.update(caller.headers)
    return http


async def image(api: httpx.AsyncClient, name: str, size: tuple[int, int] = (90, 60)) -> Any:
    return body(await upload(api, samples.photo(size), f"{name}.jpg"), 201)


async def post(api: httpx.AsyncClient, path: str, **fields: Any) -> Any:
    return body(await api.post(path, json=fields), 201)


@dataclass
class World:
    """A portfolio as an editor builds it, and a second one sharing its tag and employer."""

    cover: dict[str, Any]  # the portfolio's image, the employer's and the first tag's
    gallery: list[dict[str, Any]]
    link_image: dict[str, Any]
    document: dict[str, Any]  # the first meta item's value_file
    employer: dict[str, Any]
    tags: list[dict[str, Any]]
    portfolio: dict[str, Any]
    links: list[dict[str, Any]]
    meta: list[dict[str, Any]]
    other: dict[str, Any]  # another portfolio: tags [tags[1]], the same employer

    @property
    def id(self) -> int:
        return int(self.portfolio["id"])

    def reads(self) -> list[str]:
        """Every read the SPA would show of this world, object by object and list by list."""
        pid = self.id
        paths = [
            f"/api/portfolios/{pid}",
            f"/api/portfolios/{self.other['id']}",
            "/api/portfolios/?limit=100",
            "/api/portfolios/?limit=100&search=Shop",
            f"/api/portfolios/?limit=100&tag={self.tags[0]['id']}",
            f"/api/portfolios/?limit=100&tag={self.tags[1]['id']}",
            f"/api/portfolios/?limit=100&employer={self.employer['id']}",
            "/api/portfolios/?limit=100&has_image=true",
            "/api/portfolios/?limit=100&has_employer=true",
            f"/api/portfolios/{pid}/links/?limit=100",
            f"/api/portfolios/{pid}/links/?limit=100&search=Live",
            f"/api/portfolios/{pid}/meta/?limit=100",
            f"/api/portfolios/{pid}/meta/?limit=100&search=client",
            "/api/employers/?limit=100",
            "/api/employers/?limit=100&search=ACME",
            "/api/tags/?limit=100",
            "/api/tags/?limit=100&search=python",
            "/api/media/?limit=100",
            "/api/media/?limit=100&search=cover",
            f"/api/employers/{self.employer['id']}",
        ]
        paths += [f"/api/tags/{tag['id']}" for tag in self.tags]
        paths += [f"/api/portfolios/{pid}/links/{link['id']}" for link in self.links]
        paths += [f"/api/portfolios/links/{link['id']}" for link in self.links]
        paths += [f"/api/portfolios/{pid}/meta/{item['id']}" for item in self.meta]
        media = [self.cover, *self.gallery, self.link_image, self.document]
        paths += [f"/api/media/{file['id']}" for file in media]
        return paths


async def build_world(api: httpx.AsyncClient) -> World:
    cover = await image(api, "cover")
    gallery = [await image(api, f"gallery{number}") for number in (1, 2, 3)]
    link_image = await image(api, "screenshot")
    document = body(await upload(api, samples.PDF, "brief.pdf"), 201)
    employer = await post(
        api, "/api/employers/", name="ACME", description="Makers", image=cover["id"]
    )
    tags = [
        await post(api, "/api/tags/", name="python", image=cover["id"]),
        await post(api, "/api/tags/", name="django"),
        await post(api, "/api/tags/", name="web"),
    ]
    portfolio = await post(
        api,
        "/api/portfolios/",
        title="Shop site",
        excerpt="A shop",
        description="Built for ACME",
        order=2,
        image=cover["id"],
        images=[file["id"] for file in gallery],
        tags=[tag["id"] for tag in tags],
        employer=employer["id"],
        completed_at="2024-12-14T00:00:00Z",
    )
    pid = portfolio["id"]
    links = [
        await post(
            api,
            f"/api/portfolios/{pid}/links/",
            name="Live",
            url="https://shop.example/",
            description="The shop",
            image=link_image["id"],
            order=1,
        ),
        await post(
            api, f"/api/portfolios/{pid}/links/", name="Repo", url="https://git.example/", order=2
        ),
    ]
    meta = [
        await post(
            api,
            f"/api/portfolios/{pid}/meta/",
            key="client",
            value_text="ACME",
            value_file=document["id"],
        ),
        await post(api, f"/api/portfolios/{pid}/meta/", key="stack", value_text="FastAPI"),
    ]
    other = await post(
        api, "/api/portfolios/", title="Blog", tags=[tags[1]["id"]], employer=employer["id"]
    )
    return World(
        cover, gallery, link_image, document, employer, tags, portfolio, links, meta, other
    )


# Two objects of the world with a reference between them, in the order they are deleted (by
# their names in `path_and_kind`).
INTERTWINED = [
    ("portfolio", "employer"),
    ("portfolio", "tag"),
    ("portfolio", "cover"),
    ("portfolio", "gallery"),
    ("employer", "portfolio"),
    ("tag", "portfolio"),
    ("gallery", "portfolio"),
    ("link", "link_image"),
]


def path_and_kind(world: World, name: str) -> tuple[str, str, int]:
    """The retrieve path, kind and id of the world's object called `name` here."""
    pid = world.id
    found = {
        "portfolio": (f"/api/portfolios/{pid}", "portfolio", pid),
        "employer": (f"/api/employers/{world.employer['id']}", "employer", world.employer["id"]),
        "tag": (f"/api/tags/{world.tags[0]['id']}", "tag", world.tags[0]["id"]),
        "cover": (f"/api/media/{world.cover['id']}", "media", world.cover["id"]),
        "gallery": (f"/api/media/{world.gallery[1]['id']}", "media", world.gallery[1]["id"]),
        "link": (
            f"/api/portfolios/{pid}/links/{world.links[0]['id']}",
            "link",
            world.links[0]["id"],
        ),
        "link_image": (
            f"/api/media/{world.link_image['id']}",
            "media",
            world.link_image["id"],
        ),
    }
    return found[name]


@pytest.fixture
async def world(api: httpx.AsyncClient) -> World:
    return await build_world(api)


Reads = dict[str, tuple[int, Any]]


async def read_all(api: httpx.AsyncClient, paths: list[str]) -> Reads:
    found = {}
    for path in paths:
        response = await api.get(path)
        found[path] = (response.status_code, response.json())
    return found


# What the reads show while one object is in the trash, from what they showed before.


def _page_kind(path: str) -> str | None:
    """The kind of the objects a list route shows."""
    route = path.split("?")[0]
    if re.fullmatch(r"/api/portfolios/\d+/links/", route):
        return "link"
    if re.fullmatch(r"/api/portfolios/\d+/meta/", route):
        return "meta"
    return {
        "/api/portfolios/": "portfolio",
        "/api/employers/": "employer",
        "/api/tags/": "tag",
        "/api/media/": "media",
    }.get(route)


def _is_page(value: Any) -> bool:
    return isinstance(value, dict) and list(value) == ["count", "next", "previous", "results"]


def scrubbed(value: Any, kind: str, object_id: int) -> Any:
    """`value` as it reads with the object gone: references to it `null` or left out of lists
    (a portfolio's links and meta, its tags and gallery)."""
    if isinstance(value, list):
        return [scrubbed(item, kind, object_id) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        is_it = isinstance(item, dict) and item.get("id") == object_id
        if is_it and (kind, key) in (
            ("media", "image_data"),
            ("media", "value_file"),
            ("employer", "employer_data"),
        ):
            result[key] = None
        elif (kind, key) in (
            ("media", "images_data"),
            ("tag", "tags_data"),
            ("link", "links_data"),
            ("meta", "meta"),
        ):
            result[key] = [scrubbed(x, kind, object_id) for x in item if x["id"] != object_id]
        else:
            result[key] = scrubbed(item, kind, object_id)
    return result


def _goes_with(path: str, kind: str, object_id: int) -> bool:
    """Whether `path` reads the object itself (or, for a portfolio, something under it: every
    link of the world is the portfolio's, so the alias of each link route too)."""
    route = path.split("?")[0].rstrip("/")
    own = {
        "portfolio": [rf"/api/portfolios/{object_id}(/.*)?"],
        "link": [
            rf"/api/portfolios/\d+/links/{object_id}",
            rf"/api/portfolios/links/{object_id}",
        ],
        "meta": [rf"/api/portfolios/\d+/meta/{object_id}"],
        "employer": [rf"/api/employers/{object_id}"],
        "tag": [rf"/api/tags/{object_id}"],
        "media": [rf"/api/media/{object_id}"],
    }[kind]
    if kind == "portfolio":
        own.append(r"/api/portfolios/links/\d+")
    return any(re.fullmatch(pattern, route) for pattern in own)


def while_trashed(before: Reads, kind: str, object_id: int) -> Reads:
    """What each read answers while the object is in the trash."""
    expected: Reads = {}
    for path, (status, value) in before.items():
        if _goes_with(path, kind, object_id):
            expected[path] = (404, NOT_FOUND)
            continue
        if not _is_page(value):
            expected[path] = (status, scrubbed(copy.deepcopy(value), kind, object_id))
            continue
        filtered = (kind == "tag" and f"tag={object_id}" in path) or (
            kind == "employer" and f"employer={object_id}" in path
        )
        results = [] if filtered else value["results"]
        if _page_kind(path) == kind:
            results = [item for item in results if item["id"] != object_id]
        results = scrubbed(copy.deepcopy(results), kind, object_id)
        if kind == "media" and "has_image=true" in path:
            results = [item for item in results if item["image_data"] is not None]
        if kind == "employer" and "has_employer=true" in path:
            results = [item for item in results if item["employer_data"] is not None]
        expected[path] = (status, {**value, "count": len(results), "results": results})
    return expected


def differences(actual: Any, expected: Any, where: str = "$") -> list[str]:
    """Where two JSON values differ, leaf by leaf (for readable failures)."""
    if isinstance(actual, dict) and isinstance(expected, dict) and list(actual) == list(expected):
        return [
            found
            for key in expected
            for found in differences(actual[key], expected[key], f"{where}.{key}")
        ]
    sequences = (list, tuple)
    if (
        isinstance(actual, sequences)
        and isinstance(expected, sequences)
        and len(actual) == len(expected)
    ):
        return [
            found
            for index, (one, other) in enumerate(zip(actual, expected, strict=True))
            for found in differences(one, other, f"{where}[{index}]")
        ]
    return [] if actual == expected else [f"{where}: {actual!r} != {expected!r}"[:400]]


def assert_same(actual: Any, expected: Any) -> None:
    found = differences(actual, expected)
    assert not found, "\n".join(found)


def assert_reads_equal(actual: Reads, expected: Reads) -> None:
    """Read by read, for a readable failure."""
    assert list(actual) == list(expected)
    found = [
        f"{path} {difference}"
        for path in expected
        for difference in differences(actual[path], expected[path])
    ]
    assert not found, "\n".join(found)


def without_updated_at(reads: Reads) -> Reads:
    """The reads without the `updated_at` of the objects they show (nested file objects keep
    theirs): a restore that puts references back touches the `updated_at` of the objects it
    repairs (see the report on the trash's repairs); everything else must be as it was."""

    def strip(value: Any) -> Any:
        if _is_page(value):
            return {**value, "results": [strip(item) for item in value["results"]]}
        if isinstance(value, dict):
            return {key: item for key, item in value.items() if key != "updated_at"}
        return value

    return {path: (status, strip(value)) for path, (status, value) in reads.items()}


async def trash_page(api: httpx.AsyncClient, **params: Any) -> Any:
    return body(await api.get("/api/trash/", params={"limit": 100, **params}))


def trash_entry(kind: str, object_id: int, label: str, caller: Caller, page: Any) -> Any:
    """The page's entry for the object, checked whole (its `deleted_at` a recent timestamp)."""
    found = [item for item in page["results"] if (item["kind"], item["id"]) == (kind, object_id)]
    assert len(found) == 1, page
    entry = found[0]
    assert TIMESTAMP.match(entry["deleted_at"]), entry
    moment = datetime.fromisoformat(entry["deleted_at"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 60
    assert entry == {
        "kind": kind,
        "id": object_id,
        "label": label,
        "deleted_at": entry["deleted_at"],
        "deleted_by": {"id": caller.user_id, "username": caller.username},
    }
    return entry


async def count_rows(connection: AsyncConnection, table: Any, *conditions: Any) -> int:
    statement = select(func.count()).select_from(table).where(*conditions)
    return int((await connection.execute(statement)).scalar_one())
