"""`app.common.route_index`: the app's requests reach the route FastAPI's loop would choose,
trying only the routes that could match; what none matches fully is FastAPI's to answer."""

import re

from starlette.routing import Match

from app.common.route_index import RouteIndex

SAMPLES = {"id": "7", "portfolio_id": "3", "slug": "atlas", "path": "css/app.css"}
MADE_UP = [
    "/", "/nothing", "/api", "/api/nothing/7", "/api/portfolios/7/nothing", "/healthz/extra",
    "/api/portfolios/7/links/8/9", "/static/docs", "/static/docs/a/b/c", "/" + "x/" * 40 + "x",
]  # fmt: skip


def first_full_match(routes, scope):
    """FastAPI's loop: the first route in order that matches fully, or None."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


def indexed_match(index, scope):
    return first_full_match(index.candidates(scope["method"], scope["path"]), scope)


def sample_path(path_format):
    return re.sub(r"{(\w+)}", lambda m: SAMPLES.get(m.group(1), "x"), path_format)


def scope(method, path):
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def test_the_app_dispatches_through_the_index(app):
    assert isinstance(app.router.middleware_stack, RouteIndex)


def test_every_route_is_found_as_fastapi_finds_it_and_the_index_narrows(app):
    index = app.router.middleware_stack
    paths = {
        sample_path(route.path_format) for route in app.routes if hasattr(route, "path_format")
    }
    methods = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    for path in sorted(paths | set(MADE_UP)):
        for method in methods:
            asked = scope(method, path)
            assert indexed_match(index, asked) is first_full_match(app.routes, asked), (
                method,
                path,
            )
    retrieve = scope("GET", "/api/portfolios/7")
    assert len(index.candidates("GET", "/api/portfolios/7")) <= 2 < len(app.routes) // 10
    assert first_full_match(app.routes, retrieve).name == "get_portfolio"


def test_made_up_paths_add_no_entries(app):
    index = app.router.middleware_stack
    index.candidates("GET", "/api/portfolios/7")
    before = len(index._candidates)
    for number in range(500):
        index.candidates("GET", f"/nothing-{number}/else-{number}/7")
    assert len(index._candidates) <= before + 1


async def test_a_route_added_later_is_found(app, client):
    assert (await client.get("/healthz")).status_code == 200  # the index is built

    @app.get("/late/{name}")
    async def late(name: str) -> dict[str, str]:
        return {"name": name}

    response = await client.get("/late/x")
    assert response.status_code == 200
    assert response.json() == {"name": "x"}


async def test_what_no_route_matches_fully_is_answered_as_before(client):
    wrong_method = await client.delete("/api/portfolios/")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"detail": 'Method "DELETE" not allowed.'}
    missing = await client.get("/api/nothing/7")
    assert missing.status_code == 404
