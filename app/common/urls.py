"""Absolute URLs as clients see them: the configured public base URL, else the request's own."""

from starlette.requests import Request

from app.settings import Settings


def public_origin(request: Request) -> str:
    """`scheme://host[:port]`; trusted proxy headers were already applied to the scope."""
    configured: str | None = request.app.state.settings.public_base_url
    if configured:
        return configured
    return f"{request.url.scheme}://{request.url.netloc}"


def origin_outside_requests(settings: Settings) -> str:
    """The origin of URLs written where no request is (a worker's events): PUBLIC_BASE_URL."""
    return settings.public_base_url or "http://localhost"


def absolute_request_url(request: Request) -> str:
    """The URL as the client sent it (with its trailing slash, if it had one)."""
    path = request.scope.get("state", {}).get("request_path") or request.url.path
    query = request.url.query
    return f"{public_origin(request)}{path}" + (f"?{query}" if query else "")
