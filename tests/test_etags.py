"""Lost updates: every staff response of one object carries a strong ETag of its body, and a
write with If-Match that no longer matches is refused with 412, changing nothing."""

import hashlib

import pytest

from app.main import create_app
from app.settings import Settings

STALE = {"detail": "The object changed since you read it."}


async def portfolio(admin_client, **fields):
    response = await admin_client.post("/api/portfolios/", json={"title": "Tagged", **fields})
    assert response.status_code == 201
    return response


async def test_a_retrieve_carries_a_strong_tag_of_its_body(admin_client):
    created = await portfolio(admin_client)
    response = await admin_client.get(f"/api/portfolios/{created.json()['id']}")
    tag = response.headers["etag"]
    assert tag == '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    assert created.headers["etag"] == tag  # the create's answer is the same body


@pytest.mark.parametrize("method", ["patch", "put"])
async def test_a_write_with_a_stale_tag_is_412_and_changes_nothing(admin_client, method):
    path = f"/api/portfolios/{(await portfolio(admin_client)).json()['id']}"
    read = await admin_client.get(path)
    other_tab = await admin_client.patch(path, json={"excerpt": "first"})
    assert other_tab.status_code == 200
    assert other_tab.headers["etag"] != read.headers["etag"]

    body = {"title": "Tagged", "excerpt": "second"}
    refused = await admin_client.request(
        method, path, json=body, headers={"If-Match": read.headers["etag"]}
    )
    assert refused.status_code == 412
    assert refused.json() == STALE
    assert (await admin_client.get(path)).json()["excerpt"] == "first"

    fresh = await admin_client.request(
        method, path, json=body, headers={"If-Match": other_tab.headers["etag"]}
    )
    assert fresh.status_code == 200
    assert fresh.json()["excerpt"] == "second"


async def test_if_match_takes_a_list_a_star_and_never_a_weak_tag(admin_client):
    path = f"/api/portfolios/{(await portfolio(admin_client)).json()['id']}"
    tag = (await admin_client.get(path)).headers["etag"]
    for header, status in [
        (f'"nope", {tag}', 200),
        ("*", 200),
        (f"W/{(await admin_client.get(path)).headers['etag']}", 412),
        ('"nope"', 412),
    ]:
        response = await admin_client.patch(path, json={}, headers={"If-Match": header})
        assert response.status_code == status, header


async def test_without_if_match_writes_proceed_as_before(admin_client):
    path = f"/api/portfolios/{(await portfolio(admin_client)).json()['id']}"
    assert (await admin_client.patch(path, json={"excerpt": "x"})).status_code == 200


async def test_a_link_edit_changes_its_portfolios_tag(admin_client):
    pid = (await portfolio(admin_client)).json()["id"]
    before = (await admin_client.get(f"/api/portfolios/{pid}")).headers["etag"]
    link = await admin_client.post(f"/api/portfolios/{pid}/links/", json={"name": "Site"})
    assert link.status_code == 201
    after = (await admin_client.get(f"/api/portfolios/{pid}")).headers["etag"]
    assert after != before
    stale = await admin_client.patch(
        f"/api/portfolios/{pid}", json={"excerpt": "y"}, headers={"If-Match": before}
    )
    assert stale.status_code == 412


async def test_a_stale_delete_is_412_and_the_object_stays(admin_client):
    created = await admin_client.post("/api/tags/", json={"name": "kept"})
    path = f"/api/tags/{created.json()['id']}"
    tag = created.headers["etag"]
    renamed = await admin_client.patch(path, json={"name": "renamed"})
    refused = await admin_client.delete(path, headers={"If-Match": tag})
    assert refused.status_code == 412
    assert (await admin_client.get(path)).status_code == 200
    deleted = await admin_client.delete(path, headers={"If-Match": renamed.headers["etag"]})
    assert deleted.status_code == 204


async def test_a_missing_object_is_404_before_any_precondition(admin_client):
    response = await admin_client.patch(
        "/api/portfolios/999999", json={}, headers={"If-Match": '"x"'}
    )
    assert response.status_code == 404


async def test_every_kind_tags_its_object_and_checks_if_match(admin_client):
    pid = (await portfolio(admin_client)).json()["id"]
    paths: dict[str, str] = {}
    for collection, body in [
        (f"/api/portfolios/{pid}/links/", {"name": "L"}),
        (f"/api/portfolios/{pid}/meta/", {"key": "k", "value_text": "v"}),
        ("/api/employers/", {"name": "E"}),
        ("/api/tags/", {"name": "T"}),
    ]:
        created = await admin_client.post(collection, json=body)
        assert created.status_code == 201
        paths[f"{collection}{created.json()['id']}"] = created.headers["etag"]
    upload = await admin_client.post("/api/media/", files={"file": ("a.txt", b"plain text")})
    assert upload.status_code == 201
    paths[f"/api/media/{upload.json()['id']}"] = upload.headers["etag"]
    for path, created_tag in paths.items():
        read = await admin_client.get(path)
        assert read.headers["etag"] == created_tag  # the same body, the same tag
        stale = await admin_client.patch(path, json={}, headers={"If-Match": '"stale"'})
        assert stale.status_code == 412, path
        fine = await admin_client.patch(path, json={}, headers={"If-Match": read.headers["etag"]})
        assert fine.status_code == 200, path


def test_openapi_documents_the_header_the_tag_and_the_412():
    document = create_app(Settings(_env_file=None)).openapi()
    for path, method in [
        ("/api/portfolios/{id}", "patch"),
        ("/api/portfolios/{id}", "put"),
        ("/api/portfolios/{id}", "delete"),
        ("/api/media/{id}", "patch"),
    ]:
        operation = document["paths"][path][method]
        assert "If-Match" in [p["name"] for p in operation["parameters"]]
        assert "412" in operation["responses"]
    retrieve = document["paths"]["/api/portfolios/{id}"]["get"]["responses"]["200"]
    assert "ETag" in retrieve["headers"]
