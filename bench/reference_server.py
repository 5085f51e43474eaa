"""A hand-written reference for `bench.public_api`: the staff links list of a portfolio
(`GET /api/portfolios/{id}/links/`) in Starlette and asyncpg alone, with no FastAPI, SQLAlchemy
or Pydantic, to tell what the service's own stack costs on the same data.

Per request, on one pooled connection, two statements (asyncpg prepares and caches both):

1. The caller: the SHA-256 hex digest of the key from `Authorization: Token <key>` (or
   `Bearer`) looked up in `auth_token` joined to `auth_user`, as app/auth/dependencies.py does;
   401 for no, an unknown or an expired key or an inactive user, 403 without the view permission
   (superusers, or staff holding code 4242, LINK_VIEW). The once-a-minute `last_used_at` write
   the service makes after a response is left out.
2. The page: the total and the 10 (`limit`, `offset`; at most 100) links in the service's
   default order (`order`, `-created_at`), each as the service's link object with its nested
   `image_data` (thumbnails, variants, focal point, formatted times and sizes), written as JSON
   by PostgreSQL with json_build_object/json_agg in one statement. An empty page asks whether
   the portfolio exists (404 if not).

Python only wraps the array in the `{"count", "next", "previous", "results"}` envelope.

    .venv/bin/python -m bench.reference_server --port 8100 \\
        --database-url postgresql://postgres@127.0.0.1:5432/DB

One uvicorn worker with uvloop and httptools, as `portfolio-api serve` runs. Not shipped in the
package (only `app` is).
"""

import argparse
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import urlencode

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

LINK_VIEW = 4242  # app.auth.permissions.Permission.LINK_VIEW
PAGE_SIZE_DEFAULT = 10
PAGE_SIZE_MAX = 100
MAX_KEY_LENGTH = 128
POOL_SIZE = 20  # the service's DATABASE_POOL_SIZE default

TOKEN_SQL = f"""
SELECT t.expires_at, u.is_active, u.is_staff, u.is_superuser,
       coalesce(u.permissions::jsonb @> '[{LINK_VIEW}]'::jsonb, false) AS may_view
FROM auth_token AS t JOIN auth_user AS u ON u.id = t.user_id
WHERE t.digest = $1
"""


def utc_text(column: str) -> str:
    """`drf_datetime`: UTC, `Z`, microseconds only when not zero."""
    utc = f"timezone('UTC', {column})"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN date_trunc('second', {column})"
        f" = {column} THEN '' ELSE to_char({utc}, '.US') END || 'Z'"
    )


def human_size(column: str) -> str:
    """`human_readable_size`: 1024 per unit, two decimals."""
    branches = []
    for power, unit in enumerate(("B", "KB", "MB", "GB")):
        scaled = f"round({column}::float8 / {1024**power}.0 * 100) / 100.0"
        branches.append(
            f"WHEN {column} < {1024 ** (power + 1)} "
            f"THEN to_char({scaled}, 'FM999999999990.00') || ' {unit}'"
        )
    scaled = f"round({column}::float8 / {1024**4}.0 * 100) / 100.0"
    return f"CASE {' '.join(branches)} ELSE to_char({scaled}, 'FM999999999990.00') || ' TB' END"


FILE_FIELDS = f"""
    'id', m.id, 'type', m.kind, 'name', m.name, 'size', m.size,
    'human_readable_size', {human_size("m.size")}, 'f', $4 || m.url_path"""
FILE_EXTRAS = f"""
    'mime_type', m.mime_type, 'alt', m.alt,
    'created_at', {utc_text("m.created_at")}, 'updated_at', {utc_text("m.updated_at")}"""

IMAGE_DATA = f"""
CASE
  WHEN m.id IS NULL THEN NULL
  WHEN m.kind = 'image' THEN json_build_object({FILE_FIELDS},
    'width', m.width, 'height', m.height, 'mode', m.mode,
    'thumbnails', (
      SELECT coalesce(json_agg(json_build_object('id', t.id, 'f', $4 || t.url_path, 'size', t.box)
                               ORDER BY t.box), '[]'::json)
      FROM media_thumbnail AS t WHERE t.file_id = m.id),
    'focal_point', CASE WHEN m.focal_x IS NULL THEN NULL
                        ELSE json_build_object('x', m.focal_x, 'y', m.focal_y) END,
    'placeholder', m.placeholder,
    'variants', (
      SELECT coalesce(json_agg(json_build_object('box', v.box, 'format', v.format,
                                                 'width', v.width, 'height', v.height,
                                                 'f', $4 || v.url_path, 'bytes', v.size)
                               ORDER BY v.box, v.format), '[]'::json)
      FROM media_variant AS v WHERE v.file_id = m.id),
    {FILE_EXTRAS})
  ELSE json_build_object({FILE_FIELDS}, {FILE_EXTRAS})
END"""

# $1 portfolio id, $2 limit, $3 offset, $4 the media URL prefix.
PAGE_SQL = f"""
WITH page AS (
  SELECT l.id, count(*) OVER () AS total,
         row_number() OVER (ORDER BY l."order", l.created_at DESC, l.id DESC) AS position
  FROM portfolio_link AS l
  WHERE l.portfolio_id = $1
  ORDER BY l."order", l.created_at DESC, l.id DESC
  LIMIT $2 OFFSET $3
)
SELECT
  (SELECT total FROM page LIMIT 1) AS total,
  (SELECT coalesce(json_agg(json_build_object(
            'id', l.id, 'name', l.name, 'url', l.url,
            'image_data', {IMAGE_DATA},
            'description', l.description, 'order', l."order",
            'created_at', {utc_text("l.created_at")}, 'updated_at', {utc_text("l.updated_at")}
          ) ORDER BY page.position), '[]'::json)::text
   FROM page
   JOIN portfolio_link AS l ON l.id = page.id
   LEFT JOIN media_file AS m ON m.id = l.image_id) AS results
"""

PORTFOLIO_EXISTS_SQL = "SELECT EXISTS (SELECT 1 FROM portfolio WHERE id = $1)"
COUNT_SQL = "SELECT count(*) FROM portfolio_link WHERE portfolio_id = $1"


def detail(status: int, message: str) -> Response:
    body = json.dumps({"detail": message}, separators=(",", ":")).encode()
    headers = {"WWW-Authenticate": "Token"} if status == 401 else None
    return Response(body, status, headers=headers, media_type="application/json")


def api_key(request: Request) -> str | Response:
    """The key of `Authorization: Token <key>`, or the 401 the service answers."""
    parts = request.headers.get("authorization", "").split()
    if not parts or parts[0].lower() not in ("token", "bearer"):
        return detail(401, "Authentication credentials were not provided.")
    if len(parts) == 1:
        return detail(401, "Invalid token header. No credentials provided.")
    if len(parts) > 2:
        return detail(401, "Invalid token header. Token string should not contain spaces.")
    if len(parts[1]) > MAX_KEY_LENGTH:
        return detail(401, "Invalid token.")
    return parts[1]


def query_int(request: Request, name: str, default: int, least: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= least else None


def page_url(request: Request, limit: int, offset: int | None) -> str:
    params = {key: value for key, value in request.query_params.items() if key != "offset"}
    params["limit"] = str(limit)
    if offset:
        params["offset"] = str(offset)
    return f"{request.url.scheme}://{request.url.netloc}{request.url.path}?" + urlencode(
        sorted(params.items())
    )


async def list_links(request: Request) -> Response:
    key = api_key(request)
    if isinstance(key, Response):
        return key
    portfolio_id = request.path_params["portfolio_id"]
    limit = query_int(request, "limit", PAGE_SIZE_DEFAULT, 1)
    offset = query_int(request, "offset", 0, 0)
    if limit is None or offset is None:
        return detail(400, "limit and offset must be whole numbers.")
    limit = min(limit, PAGE_SIZE_MAX)
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    prefix = f"{request.url.scheme}://{request.url.netloc}/media/"
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as connection:
        caller = await connection.fetchrow(TOKEN_SQL, digest)
        if caller is None or (
            caller["expires_at"] is not None and caller["expires_at"] <= datetime.now(UTC)
        ):
            return detail(401, "Invalid token.")
        if not caller["is_active"]:
            return detail(401, "User inactive or deleted.")
        if not (caller["is_superuser"] or (caller["is_staff"] and caller["may_view"])):
            return detail(403, "You do not have permission to perform this action.")
        total, results = await connection.fetchrow(PAGE_SQL, portfolio_id, limit, offset, prefix)
        if total is None:
            if not await connection.fetchval(PORTFOLIO_EXISTS_SQL, portfolio_id):
                return detail(404, "Not found.")
            total = await connection.fetchval(COUNT_SQL, portfolio_id)
    next_url = page_url(request, limit, offset + limit) if offset + limit < total else None
    previous = page_url(request, limit, max(offset - limit, 0)) if offset > 0 else None
    body = (
        f'{{"count":{total},"next":{json.dumps(next_url)},'
        f'"previous":{json.dumps(previous)},"results":{results}}}'
    )
    return Response(body.encode(), media_type="application/json")


async def readyz(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    await pool.fetchval("SELECT 1")
    return Response(b'{"status":"ok"}', media_type="application/json")


def create_app(database_url: str) -> Starlette:
    """`database_url` in SQLAlchemy's form (`postgresql+asyncpg://...`) or asyncpg's."""
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=POOL_SIZE)
        try:
            yield
        finally:
            await app.state.pool.close()

    routes = [
        Route("/api/portfolios/{portfolio_id:int}/links/", list_links),
        Route("/readyz", readyz),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.database_url),
        host=args.host,
        port=args.port,
        workers=1,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
