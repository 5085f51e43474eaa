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


async def test_the_viewers_bundles_name_no_outside_address_they_would_fetch(client):
    """ReDoc's footer logo came from cdn.redoc.ly: the bundle now points at a local copy."""
    redoc = (await client.get("/static/docs/redoc.standalone.js")).text
    assert "cdn.redoc.ly" not in redoc
    assert 'src:"/static/docs/redoc-logo-mini.svg"' in redoc
    logo = await client.get("/static/docs/redoc-logo-mini.svg")
    assert logo.status_code == 200
    assert logo.headers["content-type"].startswith("image/svg+xml")


async def test_openapi_json_is_served(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Portfolio API"


def test_creates_link_to_what_their_id_is_for(app):
    """Links, generated from the route table, let clients and testers chain create, retrieve,
    update and delete (and reach the collections under the new object)."""
    document = app.openapi()
    by_id = {
        operation["operationId"]: (path, method) for path, method, operation in operations(document)
    }
    for path, method, operation in operations(document):
        if method == "post" and "201" in operation["responses"] and path.endswith("/"):
            links = operation["responses"]["201"].get("links")
            assert links, f"{operation['operationId']} declares no links"
            for target, link in links.items():
                assert link["operationId"] == target
                target_path, _ = by_id[target]
                assert set(link["parameters"]) == set(re.findall(r"\{(\w+)\}", target_path))
    paths = document["paths"]
    links = paths["/api/portfolios/{portfolio_id}/links/"]["post"]["responses"]["201"]["links"]
    assert set(links) == {
        "get_portfolio_link", "update_portfolio_link", "replace_portfolio_link",
        "delete_portfolio_link",
    }  # fmt: skip
    assert links["delete_portfolio_link"]["parameters"] == {
        "portfolio_id": "$request.path.portfolio_id",
        "id": "$response.body#/id",
    }
    portfolio = paths["/api/portfolios/"]["post"]["responses"]["201"]["links"]
    assert portfolio["create_portfolio_meta"]["parameters"] == {
        "portfolio_id": "$response.body#/id"
    }
    media = paths["/api/media/"]["post"]["responses"]["201"]["links"]
    assert media["get_media"]["parameters"] == {"id": "$response.body#/id"}
    retrieve = paths["/api/tags/{id}"]["get"]["responses"]["200"]["links"]
    assert set(retrieve) == {"update_tag", "replace_tag", "delete_tag"}
    assert retrieve["delete_tag"]["parameters"] == {"id": "$request.path.id"}


def test_a_body_that_may_be_empty_is_optional(app):
    paths = app.openapi()["paths"]
    assert paths["/api/portfolios/{id}"]["patch"]["requestBody"]["required"] is False
    assert paths["/api/users/{user_id}/tokens/"]["post"]["requestBody"]["required"] is False
    assert paths["/api/portfolios/{id}"]["put"]["requestBody"]["required"] is True
    assert paths["/api/portfolios/"]["post"]["requestBody"]["required"] is True


async def test_every_optional_query_parameter_may_be_empty(app, admin_client):
    """OpenAPI says `allowEmptyValue`, and an empty value is indeed taken as not given."""
    document = app.openapi()
    checked = 0
    for path, method, operation in operations(document):
        if method != "get" or "{" in path:
            continue
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            assert parameter["allowEmptyValue"] is True, (path, parameter["name"])
            response = await admin_client.get(path, params={parameter["name"]: ""})
            assert response.status_code == 200, (path, parameter["name"], response.json())
            checked += 1
    assert checked > 50


def test_every_response_declares_its_request_id_and_every_401_how_to_authenticate(app):
    document = app.openapi()
    for _path, _method, operation in operations(document):
        for status, response in operation["responses"].items():
            headers = response["headers"]
            assert headers["X-Request-ID"] == {"$ref": "#/components/headers/X-Request-ID"}
            assert ("WWW-Authenticate" in headers) == (status == "401")
    assert document["components"]["headers"]["X-Request-ID"]["schema"] == {"type": "string"}


def test_request_fields_the_server_fills_in_are_optional_in_every_generator(app):
    """No `default` in request-only schemas (openapi-typescript would make those properties
    required): the field is optional, and its description says what the server fills in."""
    schemas = app.openapi()["components"]["schemas"]
    for name, field in (("LinkIn", "order"), ("PortfolioIn", "is_active"), ("TokenIssue", "name")):
        schema = schemas[name]
        assert field not in schema.get("required", [])
        assert "default" not in schema["properties"][field]
        assert "Default when left out: " in schema["properties"][field]["description"]
    assert schemas["PortfolioIn"]["properties"]["order"]["description"].endswith(
        "Default when left out: `0`."
    )


def test_path_parameters_are_named_after_what_they_identify_on_every_route(app):
    """The object itself is `id`; a parent is `<resource>_id` (`portfolio_id` everywhere), so
    generated calls never mix `{id: pid}` and `{portfolio_id: pid}` for the same portfolio."""
    for path in app.openapi()["paths"]:
        segments = path.strip("/").split("/")
        for at, segment in enumerate(segments):
            name = segment.strip("{}")
            if segment == name or name in ("kind", "slug"):
                continue
            after = segments[at + 1 :]  # a collection under it, or an action on it (`ping`)
            nested = len(after) >= 2 or (len(after) == 1 and path.endswith("/"))
            expected = f"{segments[at - 1].removesuffix('s')}_id" if nested else "id"
            assert name == expected, path
