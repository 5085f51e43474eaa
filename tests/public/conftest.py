"""A small published site made through the staff API, committed for real (the public cache is
dropped by commits), read back anonymously."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import make_client
from tests.factories import create_superuser
from tests.media import samples
from tests.media.conftest import upload


@dataclass
class Site:
    cover: dict[str, Any]  # an image
    tag: dict[str, Any]
    unused_tag: dict[str, Any]
    employer: dict[str, Any]
    shown: dict[str, Any]  # an active portfolio with all of the above, a link and meta
    hidden: dict[str, Any]  # an inactive one
    link: dict[str, Any]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else None


@pytest.fixture
async def staff(app, committing_client):
    root = await create_superuser(app)
    committing_client.headers.update(root.headers)
    return committing_client


@pytest.fixture
async def anonymous(app, committing_client):
    async with make_client(app) as client:
        yield client


@pytest.fixture
async def site(staff) -> Site:
    cover = ok(await upload(staff, samples.photo((300, 200)), "cover.jpg"), 201)
    tag = ok(await staff.post("/api/tags/", json={"name": "Web", "image": cover["id"]}), 201)
    unused = ok(await staff.post("/api/tags/", json={"name": "Unused"}), 201)
    employer = ok(await staff.post("/api/employers/", json={"name": "Acme"}), 201)
    hidden_tag = ok(await staff.post("/api/tags/", json={"name": "Secret"}), 201)
    shown = ok(
        await staff.post(
            "/api/portfolios/",
            json={
                "title": "پروژه اول",
                "image": cover["id"],
                "employer": employer["id"],
                "tags": [tag["id"]],
                "is_active": True,
            },
        ),
        201,
    )
    hidden = ok(
        await staff.post(
            "/api/portfolios/",
            json={"title": "Draft", "tags": [hidden_tag["id"]], "is_active": False},
        ),
        201,
    )
    base = f"/api/portfolios/{shown['id']}"
    link = ok(
        await staff.post(f"{base}/links/", json={"name": "code", "url": "https://x.test/"}), 201
    )
    ok(await staff.post(f"{base}/meta/", json={"key": "client", "value_text": "Acme"}), 201)
    ok(await staff.post(f"{base}/meta/", json={"key": "_budget", "value_text": "secret"}), 201)
    shown = ok(await staff.get(f"{base}/"))
    return Site(cover, tag, unused, employer, shown, hidden, link)
