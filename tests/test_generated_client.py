"""A client generated from /openapi.json by openapi-python-client drives a live server.

The document is the contract for such clients: generation must succeed without a warning,
functions are named after the operation ids, every status the server answers is one the
document lists (the client is told to raise on any other), and every body parses into the
generated models.
"""

import importlib
import io
import json
import os
import pkgutil
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from bench.server import Server, live_server

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


@pytest.fixture(scope="module")
def server(backend: str) -> Iterator[Server]:
    database_url = os.environ["DATABASE_URL"] if backend == "postgresql" else None
    with live_server(database_url) as running:
        yield running


@pytest.fixture(scope="module")
def document(server: Server) -> dict:
    response = httpx.get(f"{server.url}/openapi.json", timeout=10)
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="module")
def generated(
    document: dict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SimpleNamespace]:
    """The generated package, imported under a unique name; `api.<operation_id>` modules."""
    folder = tmp_path_factory.mktemp("generated_client")
    spec = folder / "openapi.json"
    spec.write_text(json.dumps(document), encoding="utf-8")
    config = folder / "config.json"
    config.write_text(json.dumps({"post_hooks": []}))  # formatting would need ruff on PATH
    package = f"portfolio_client_{uuid.uuid4().hex[:8]}"
    result = subprocess.run(
        [
            str(GENERATOR), "generate", "--path", str(spec), "--output-path",
            str(folder / package), "--meta", "none", "--config", str(config), "--fail-on-warning",
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(folder))
    try:
        api = importlib.import_module(f"{package}.api")
        operations = {
            info.name.rsplit(".", 1)[-1]: importlib.import_module(info.name)
            for info in pkgutil.walk_packages(api.__path__, f"{package}.api.")
            if not info.ispkg
        }
        yield SimpleNamespace(
            api=SimpleNamespace(**operations),
            operation_paths={
                name: module.__name__.removeprefix(f"{package}.api.")
                for name, module in operations.items()
            },
            models=importlib.import_module(f"{package}.models"),
            types=importlib.import_module(f"{package}.types"),
            client=importlib.import_module(f"{package}.client"),
        )
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == package]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def api_client(server: Server, generated: SimpleNamespace):
    """Authenticated as DRF clients are (`Token <key>`), raising on any undocumented status."""
    with generated.client.AuthenticatedClient(
        base_url=server.url, token=server.token, prefix="Token", raise_on_unexpected_status=True
    ) as authenticated:
        yield authenticated


def png(size: tuple[int, int] = (300, 200)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(output, "PNG")
    return output.getvalue()


def ok(response, status: int = 200):
    assert response.status_code == HTTPStatus(status), response.content
    return response.parsed


def upload_image(generated: SimpleNamespace, api_client, name: str):
    body = generated.models.BodyUploadMedia(
        file=generated.types.File(
            payload=io.BytesIO(png()), file_name=f"{name}.png", mime_type="image/png"
        ),
        alt=f"{name} alt",
    )
    return ok(generated.api.upload_media.sync_detailed(client=api_client, body=body), 201)


def query(url: str | None) -> dict[str, list[str]]:
    assert url is not None
    return parse_qs(urlsplit(url).query)


def test_operations_are_named_after_readable_operation_ids(document, generated):
    operation_ids = {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
    }
    assert set(generated.operation_paths) == operation_ids
    paths = generated.operation_paths
    assert paths["list_portfolios"] == "portfolios.list_portfolios"
    assert paths["create_portfolio"] == "portfolios.create_portfolio"
    assert paths["update_portfolio"] == "portfolios.update_portfolio"
    assert paths["replace_portfolio"] == "portfolios.replace_portfolio"
    assert paths["create_portfolio_link"] == "portfolio_links.create_portfolio_link"
    assert paths["list_portfolio_links"] == "portfolio_links.list_portfolio_links"
    assert paths["get_portfolio_link"] == "portfolio_links.get_portfolio_link"
    assert paths["upload_media"] == "media.upload_media"
    assert paths["delete_media"] == "media.delete_media"
    # Every schema the client uses has a name of ours, none made up from an operation.
    models = {name for name in dir(generated.models) if name[:1].isupper()}
    assert {"PortfolioIn", "PortfolioOut", "PortfolioPatch", "LinkIn", "MediaType"} <= models
    assert not [name for name in models if re.search(r"Type\d+$", name)]


def test_upload_then_portfolios_through_the_generated_client(generated, api_client):
    models, api = generated.models, generated.api
    image = upload_image(generated, api_client, "cover")
    assert image.type_ == models.MediaType.IMAGE
    assert (image.width, image.height) == (300, 200)
    assert (image.mime_type, image.alt) == ("image/png", "cover alt")
    assert [thumbnail.size for thumbnail in image.thumbnails] == [64, 128, 512, 1080]
    assert isinstance(image.created_at, datetime)
    listed = ok(api.list_media.sync_detailed(client=api_client, type_=models.MediaType.IMAGE))
    assert image.id in [media.id for media in listed.results]

    employer = ok(
        api.create_employer.sync_detailed(
            client=api_client, body=models.EmployerIn(name="Acme", description=None, image=image.id)
        ),
        201,
    )
    assert employer.image_data.id == image.id
    tag = ok(api.create_tag.sync_detailed(client=api_client, body=models.TagIn(name="وب")), 201)

    completed = datetime(2024, 12, 14, tzinfo=UTC)
    body = models.PortfolioIn(
        title="طراحی سایت",
        excerpt="A site",
        completed_at=completed,
        image=image.id,
        employer=employer.id,
        tags=[tag.id],
        images=[image.id],
        order=1,
    )
    portfolio = ok(api.create_portfolio.sync_detailed(client=api_client, body=body), 201)
    assert portfolio.slug == "طراحی-سایت"
    assert portfolio.employer_data.name == "Acme"
    assert [t.name for t in portfolio.tags_data] == ["وب"]
    assert portfolio.image_data.id == image.id
    assert [m.id for m in portfolio.images_data] == [image.id]
    assert portfolio.completed_at == completed
    others = [
        ok(
            api.create_portfolio.sync_detailed(
                client=api_client, body=models.PortfolioIn(title=f"Other {n}", order=2 + n)
            ),
            201,
        )
        for n in range(3)
    ]

    by_employer = ok(api.list_portfolios.sync_detailed(client=api_client, employer=employer.id))
    assert (by_employer.count, [p.id for p in by_employer.results]) == (1, [portfolio.id])
    by_tag = ok(api.list_portfolios.sync_detailed(client=api_client, tag=[tag.id], has_image=True))
    assert [p.id for p in by_tag.results] == [portfolio.id]
    without_image = ok(api.list_portfolios.sync_detailed(client=api_client, has_image=False))
    assert {p.id for p in without_image.results} == {p.id for p in others}
    found = ok(api.list_portfolios.sync_detailed(client=api_client, search="سایت"))
    assert [p.id for p in found.results] == [portfolio.id]

    middle = ok(
        api.list_portfolios.sync_detailed(client=api_client, limit=1, offset=1, ordering="id")
    )
    assert (middle.count, [p.id for p in middle.results]) == (4, [others[0].id])
    assert query(middle.next_) == {"limit": ["1"], "offset": ["2"], "ordering": ["id"]}
    assert query(middle.previous) == {"limit": ["1"], "ordering": ["id"]}
    last = ok(
        api.list_portfolios.sync_detailed(client=api_client, limit=3, offset=3, ordering="id")
    )
    assert (last.count, last.next_, [p.id for p in last.results]) == (4, None, [others[2].id])
    first = ok(api.list_portfolios.sync_detailed(client=api_client, limit=2))
    assert first.previous is None
    assert [p.id for p in first.results] == [portfolio.id, others[0].id]  # order, -created_at

    fetched = ok(api.get_portfolio.sync_detailed(portfolio.id, client=api_client))
    assert (fetched.title, fetched.slug, fetched.employer_data.id) == (
        "طراحی سایت", "طراحی-سایت", employer.id,
    )  # fmt: skip
    patch = models.PortfolioPatch(title="Site design", tags=[], excerpt=None)
    updated = ok(api.update_portfolio.sync_detailed(portfolio.id, client=api_client, body=patch))
    assert (updated.title, updated.slug, updated.excerpt) == ("Site design", "طراحی-سایت", None)
    assert (updated.tags_data, updated.employer_data.id) == ([], employer.id)
    assert updated.updated_at > fetched.updated_at

    refused = api.create_portfolio.sync_detailed(
        client=api_client, body=models.PortfolioIn(title="Refused", employer=999_999_999)
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert isinstance(refused.parsed, models.FieldErrors)
    assert refused.parsed["employer"] == ['Invalid pk "999999999" - object does not exist.']

    for each in (portfolio, *others):
        assert ok(api.delete_portfolio.sync_detailed(each.id, client=api_client), 204) is None
    missing = api.get_portfolio.sync_detailed(portfolio.id, client=api_client)
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert missing.parsed.detail == "Not found."
    assert ok(api.delete_media.sync_detailed(image.id, client=api_client), 204) is None
    assert api.get_media.sync_detailed(image.id, client=api_client).status_code == 404
    assert ok(api.get_employer.sync_detailed(employer.id, client=api_client)).image_data is None


def test_links_through_the_generated_client(generated, api_client):
    models, api = generated.models, generated.api
    image = upload_image(generated, api_client, "link")
    portfolio = ok(
        api.create_portfolio.sync_detailed(
            client=api_client, body=models.PortfolioIn(title="Links")
        ),
        201,
    )
    create = api.create_portfolio_link.sync_detailed
    link = ok(
        create(
            portfolio.id,
            client=api_client,
            body=models.LinkIn(
                name="Site", url="https://example.com/", image=image.id, description="The site"
            ),
        ),
        201,
    )
    assert (link.name, link.url, link.image_data.id, link.order) == (
        "Site", "https://example.com/", image.id, 0,
    )  # fmt: skip
    plain = ok(
        create(portfolio.id, client=api_client, body=models.LinkIn(name="Repo", order=1)), 201
    )

    listed = ok(api.list_portfolio_links.sync_detailed(portfolio.id, client=api_client))
    assert (listed.count, [item.id for item in listed.results]) == (2, [link.id, plain.id])
    with_image = ok(
        api.list_portfolio_links.sync_detailed(portfolio.id, client=api_client, has_image=True)
    )
    assert [item.id for item in with_image.results] == [link.id]
    paged = ok(api.list_portfolio_links.sync_detailed(portfolio.id, client=api_client, limit=1))
    assert (paged.count, paged.previous, query(paged.next_)) == (
        2, None, {"limit": ["1"], "offset": ["1"]},
    )  # fmt: skip

    fetched = ok(api.get_portfolio_link.sync_detailed(portfolio.id, link.id, client=api_client))
    assert (fetched.id, fetched.description) == (link.id, "The site")
    patch = models.LinkPatch(name="Website", image=None, order=5)
    updated = ok(
        api.update_portfolio_link.sync_detailed(
            portfolio.id, link.id, client=api_client, body=patch
        )
    )
    assert (updated.name, updated.image_data, updated.order, updated.url) == (
        "Website", None, 5, "https://example.com/",
    )  # fmt: skip
    owner = ok(api.get_portfolio.sync_detailed(portfolio.id, client=api_client))
    assert [item.name for item in owner.links_data] == ["Repo", "Website"]

    deleted = api.delete_portfolio_link.sync_detailed(portfolio.id, link.id, client=api_client)
    assert deleted.status_code == HTTPStatus.NO_CONTENT
    gone = api.get_portfolio_link.sync_detailed(portfolio.id, link.id, client=api_client)
    assert (gone.status_code, gone.parsed.detail) == (HTTPStatus.NOT_FOUND, "Not found.")
    assert ok(api.delete_portfolio.sync_detailed(portfolio.id, client=api_client), 204) is None
    assert ok(api.delete_media.sync_detailed(image.id, client=api_client), 204) is None


async def test_asyncio_functions_and_bearer_tokens(server, generated):
    api = generated.api
    async with generated.client.AuthenticatedClient(
        base_url=server.url, token=server.token, raise_on_unexpected_status=True
    ) as bearer:
        page = (await api.list_portfolios.asyncio_detailed(client=bearer, limit=1)).parsed
        assert page.count >= 0
        me = await api.get_current_user.asyncio(client=bearer)
        assert (me.username, me.is_superuser) == ("bench", True)


def test_error_bodies_parse_as_documented(generated, api_client, server):
    """400 is `{"detail": ...}` for a body that is not JSON, field errors otherwise."""
    models = generated.models
    module = generated.api.create_portfolio
    for body, expected in (
        ({"detail": "JSON parse error - Expecting value"}, models.ErrorDetail),
        ({"title": ["This field is required."]}, models.FieldErrors),
    ):
        response = httpx.Response(400, json=body)
        assert isinstance(
            module._build_response(client=api_client, response=response).parsed, expected
        )
    stranger = generated.client.Client(base_url=server.url, raise_on_unexpected_status=True)
    with stranger:
        refused = generated.api.list_portfolios.sync_detailed(client=stranger)
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.parsed.detail == "Authentication credentials were not provided."
