"""The OpenAPI document and its viewers, served from local assets (no CDN)."""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.auth.dependencies import Public
from app.common.routing import CANONICAL_PATHS, APIRouter

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
UPLOADED_FILE = {"type": "string", "contentMediaType": "application/octet-stream"}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document without its 422 responses (this API answers DRF-style 400s)."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    document["paths"] = {
        CANONICAL_PATHS.get(path, path): item for path, item in document.get("paths", {}).items()
    }
    for path_item in document["paths"].values():
        for operation in path_item.values():
            operation.get("responses", {}).pop("422", None)
    components = document.setdefault("components", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        components.get("schemas", {}).pop(name, None)
    components["securitySchemes"] = SECURITY_SCHEMES
    mark_binary_strings(components.get("schemas", {}))
    app.openapi_schema = document
    return document


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

    app.include_router(router)
