"""The OpenAPI document states exactly what the server does."""

import re
from collections import Counter

OPERATIONS = {"get", "post", "put", "patch", "delete"}


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in OPERATIONS:
                yield path, method, operation


def test_no_422_anywhere(notes_app):
    document = notes_app.openapi()
    for _, _, operation in operations(document):
        assert "422" not in operation["responses"]
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_operation_ids_are_unique_and_readable(notes_app, app):
    for document in (notes_app.openapi(), app.openapi()):
        ids = [operation["operationId"] for _, _, operation in operations(document)]
        assert not [name for name, seen in Counter(ids).items() if seen > 1]
        assert all(re.fullmatch(r"[a-z][a-z_]*", name) for name in ids)


def test_list_parameters_state_what_is_enforced(notes_app):
    parameters = {
        p["name"]: p for p in notes_app.openapi()["paths"]["/test/notes/"]["get"]["parameters"]
    }
    limit = parameters["limit"]["schema"]
    assert limit["minimum"] == 1
    assert "maximum" not in limit
    assert parameters["offset"]["schema"]["minimum"] == 0
    ordering = parameters["ordering"]
    assert ordering["schema"]["type"] == "string"
    assert "id, title, rank, created_at, updated_at" in ordering["description"]
    assert parameters["tag" if "tag" in parameters else "id_min"]["schema"]["format"] == "int64"


def test_error_responses_are_documented_with_their_bodies(notes_app):
    paths = notes_app.openapi()["paths"]
    listing = paths["/test/notes/"]["get"]["responses"]
    assert set(listing) == {"200", "400", "503"}
    create = paths["/test/notes/"]["post"]["responses"]
    assert set(create) == {"201", "400", "413", "415", "503"}
    item = paths["/test/notes/{note_id}"]["get"]["responses"]
    assert set(item) == {"200", "404", "503"}
    bad_request = create["400"]["content"]["application/json"]["schema"]
    assert bad_request == {"$ref": "#/components/schemas/BadRequestBody"}


def test_security_schemes_for_token_and_bearer(app):
    schemes = app.openapi()["components"]["securitySchemes"]
    assert schemes["TokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <key>`, as Django REST Framework clients send it.",
    }
    assert schemes["BearerAuth"]["scheme"] == "bearer"


async def test_docs_render_from_local_assets_only(client):
    for page in ("/docs", "/redoc", "/docs/"):
        response = await client.get(page)
        assert response.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert sources
        assert all(source.startswith("/static/docs/") for source in sources), sources
        for source in sources:
            asset = await client.get(source)
            assert asset.status_code == 200, source
    assert "cdn" not in (await client.get("/docs")).text.lower()


async def test_openapi_json_is_served(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Portfolio API"
