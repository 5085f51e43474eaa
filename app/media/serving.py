"""Local media served at MEDIA_URL: immutable names, so cached for a year, never sniffed."""

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

CACHE_FOREVER = "public, max-age=31536000, immutable"


class MediaFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.status_code in (200, 206, 304):
            response.headers["Cache-Control"] = CACHE_FOREVER
        return response
