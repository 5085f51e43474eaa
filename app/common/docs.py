"""The OpenAPI document and its viewers, served from local assets (no CDN)."""

import json
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.common.routing import CANONICAL_PATHS, APIRouter, Public, install_routes

STATIC_DOCS = Path(__file__).resolve().parent.parent / "static" / "docs"
ASSETS = "/static/docs"

SECURITY_SCHEMES = {
    "TokenAuth": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <key>`, as Django REST Framework clients send it.",
    },
    "BearerAuth": {"type": "http", "scheme": "bearer", "description": "`Bearer <key>`."},
}
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
# Headers every response (or every 401) carries, declared once and referenced by each.
HEADERS = {
    "X-Request-ID": {
        "description": "The request's id: the one the client sent, or a new one. Log lines and "
        "traces of the request carry it.",
        "schema": {"type": "string"},
    },
    "WWW-Authenticate": {
        "description": "`Token`: how to authenticate.",
        "schema": {"type": "string"},
    },
}
UPLOADED_FILE = {"type": "string", "contentMediaType": "application/octet-stream"}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document without its 422 responses (this API answers DRF-style 400s), saying
    what FastAPI cannot know: empty query values, optional bodies, files, links."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=in_documented_order(app),
    )
    document["paths"] = {
        CANONICAL_PATHS.get(path, path): item for path, item in document.get("paths", {}).items()
    }
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for path_item in document["paths"].values():
        for operation in path_item.values():
            operation.get("responses", {}).pop("422", None)
            allow_empty_query_values(operation)
            mark_optional_json_body(operation, schemas)
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    components["securitySchemes"] = SECURITY_SCHEMES
    components["headers"] = HEADERS
    declare_headers(document["paths"])
    mark_binary_strings(schemas)
    describe_request_defaults(document["paths"], schemas)
    add_links(document["paths"])
    app.openapi_schema = document
    return document


def in_documented_order(app: FastAPI) -> list[Any]:
    """The app's routes, those of `app.state.documented_routes` in that order (the routes are
    tried in another), any others after them as they were added."""
    order = {id(route): n for n, route in enumerate(getattr(app.state, "documented_routes", []))}
    return sorted(app.routes, key=lambda route: order.get(id(route), len(order)))


def allow_empty_query_values(operation: dict[str, Any]) -> None:
    """An optional query parameter sent empty (`?tag=&ordering=`) counts as not given, as
    django-filter treats it: the parsers in `app.common.query` say so, and so does OpenAPI."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and not parameter.get("required"):
            parameter["allowEmptyValue"] = True


def mark_optional_json_body(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """An empty JSON body is read as `{}` (as DRF reads it): where `{}` is a valid body (a
    PATCH, a token request with defaults only), the body may be left out altogether."""
    body = operation.get("requestBody", {})
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    reference = schema.get("$ref", "")
    if reference.startswith("#/components/schemas/"):
        schema = schemas[reference.rsplit("/", 1)[-1]]
    if body and schema.get("type") == "object" and not schema.get("required"):
        body["required"] = False


def describe_request_defaults(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """In schemas only requests use, a server default is said in words, not as `default`.

    A field left out is filled in by the server (`order` 0, `is_active` true): for the client it
    is optional. openapi-typescript makes any property with a `default` in a component schema
    non-optional (its `defaultNonNullable`, on by default, spares only inline request bodies),
    so `LinkIn.order` came out required; without `default`, every generator reads "optional".
    """
    in_requests = _schemas_under(paths, "requestBody", schemas)
    in_responses = _schemas_under(paths, "responses", schemas)
    for name in in_requests - in_responses:
        for field in schemas[name].get("properties", {}).values():
            if "default" in field:
                default = json.dumps(field.pop("default"), ensure_ascii=False)
                said = f"Default when left out: `{default}`."
                field["description"] = (
                    f"{field['description']} {said}" if "description" in field else said
                )


def _schemas_under(paths: dict[str, Any], part: str, schemas: dict[str, Any]) -> set[str]:
    """The component schemas the operations' `part` refers to, directly or through others."""
    found: set[str] = set()
    pending = [operation.get(part, {}) for item in paths.values() for operation in item.values()]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            reference = node.get("$ref", "")
            name = reference.rsplit("/", 1)[-1]
            if reference.startswith("#/components/schemas/") and name not in found:
                found.add(name)
                pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def declare_headers(paths: dict[str, Any]) -> None:
    """`X-Request-ID` on every response, `WWW-Authenticate` on every 401 (what the middleware
    and the error handler add, which FastAPI cannot see)."""
    for path_item in paths.values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                names = ["X-Request-ID", *(["WWW-Authenticate"] if status == "401" else [])]
                for name in names:
                    headers[name] = {"$ref": f"#/components/headers/{name}"}


def mark_binary_strings(node: Any) -> None:
    """Uploaded files say `format: binary` as well as OpenAPI 3.1's `contentMediaType`.

    Generators that read only the 3.0 form (openapi-python-client among them) would otherwise
    send the file as a plain text field, without a file name, and the upload would be refused.
    """
    if isinstance(node, dict):
        if UPLOADED_FILE.items() <= node.items():
            node.setdefault("format", "binary")
        for value in node.values():
            mark_binary_strings(value)
    elif isinstance(node, list):
        for value in node:
            mark_binary_strings(value)


PATH_PARAMETER = re.compile(r"\{([^}]+)\}")
ITEM_METHODS = ("get", "patch", "put", "delete")


def add_links(paths: dict[str, Any]) -> None:
    """OpenAPI links, from the route table: what a created object's `id` can be used for.

    A create (`POST <collection>/` answering 201) links to every operation on
    `<collection>/{id}` and on the collections nested under it; a retrieve (`GET` on an item)
    links to the other operations on that item and its nested collections. The other path
    parameters are the request's own, matched by position (`/api/portfolios/{id}`
    names the portfolio `id`, `/api/portfolios/{portfolio_id}/links/{id}` names it
    `portfolio_id`). Clients and stateful testers can then chain create, retrieve, update and
    delete; a new resource gets its links without a line of its own.
    """
    shapes = {path: PATH_PARAMETER.sub("{}", path) for path in paths}
    for path, item in paths.items():
        names = PATH_PARAMETER.findall(path)
        create = item.get("post", {}).get("responses", {}).get("201")
        if create is not None and path.endswith("/"):
            values = [f"$request.path.{name}" for name in names] + ["$response.body#/id"]
            _link(create, paths, shapes, shapes[path] + "{}", values)
        retrieve = item.get("get", {}).get("responses", {}).get("200")
        if retrieve is not None and names and not path.endswith("/"):
            values = [f"$request.path.{name}" for name in names]
            _link(retrieve, paths, shapes, shapes[path], values, skip="get")


def _link(
    response: dict[str, Any],
    paths: dict[str, Any],
    shapes: dict[str, str],
    item_shape: str,
    values: list[str],
    skip: str | None = None,
) -> None:
    """Link `response` to the operations on the item of `item_shape` and under it whose path
    parameters are exactly `values`, in order."""
    links: dict[str, Any] = {}
    for path, item in paths.items():
        shape = shapes[path]
        if shape != item_shape and not shape.startswith(item_shape + "/"):
            continue
        names = PATH_PARAMETER.findall(path)
        if len(names) != len(values):
            continue
        for method in ITEM_METHODS if shape == item_shape else ("get", "post"):
            operation = item.get(method)
            if operation is None or (method == skip and shape == item_shape):
                continue
            links[operation["operationId"]] = {
                "operationId": operation["operationId"],
                "parameters": dict(zip(names, values, strict=True)),
            }
    if links:
        response["links"] = links


def install_docs(app: FastAPI) -> None:
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    app.mount(ASSETS, StaticFiles(directory=STATIC_DOCS), name="docs-assets")
    router = APIRouter(include_in_schema=False, dependencies=[Public])

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=f"{ASSETS}/oauth2-redirect.html",
        )

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon-32x32.png",
            with_google_fonts=False,
        )

    install_routes(app, router)
