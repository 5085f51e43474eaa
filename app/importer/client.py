"""Reading the original deployment over HTTP: its JSON pages and its files.

A real server misbehaves: requests are tried again after a timeout, a lost connection or a 5xx
(0.5, 1, 2 ... seconds apart), 301 redirects are followed, and a collection that 404s with its
trailing slash is asked again without it. What cannot be mended stops the import with one line:
the token refused (401, 403), a host that does not answer, an answer that is not JSON.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from app.common.commands import CommandError
from app.importer.shapes import NotTheOriginal, Page, parse
from app.settings import Settings

logger = logging.getLogger("app.importer")

FIRST_RETRY_DELAY = 0.5
CHUNK = 256 * 1024
RETRIED = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
MAX_JSON_BYTES = 64 * 1024 * 1024  # a page of 100 portfolios is well under 1 MB


class Unreachable(CommandError):
    """The original does not answer (or keeps failing) at all."""


class Refused(CommandError):
    """The original refuses the token: 401 or 403."""


class Missing(Exception):
    """404: the original has no such route or object."""


class DownloadFailed(Exception):
    """One file could not be fetched whole; the import goes on without it."""


class _ServerError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def _detail(response: httpx.Response, body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return response.reason_phrase
    detail = parsed.get("detail") if isinstance(parsed, dict) else None
    return str(detail) if detail else response.reason_phrase


def _toggled_slash(path: str) -> str:
    return path[:-1] if path.endswith("/") else f"{path}/"


class OriginalClient:
    def __init__(
        self, base_url: str, token: str, settings: Settings, *, retry_delay: float | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.attempts = settings.import_attempts
        self.retry_delay = FIRST_RETRY_DELAY if retry_delay is None else retry_delay
        # The token goes to `--from` only (see `_send`): never to the hosts files come from.
        self.authorization = f"Token {token}"
        self.http = httpx.AsyncClient(
            headers={"Accept": "application/json"},
            follow_redirects=True,
            timeout=httpx.Timeout(
                settings.import_timeout, connect=min(10, settings.import_timeout)
            ),
            limits=httpx.Limits(max_connections=settings.import_downloads + 4),
        )
        self._dead_origins: set[str] = set()

    async def aclose(self) -> None:
        await self.http.aclose()

    def on_base(self, url: str) -> str:
        """`url`'s path and query on the `--from` origin: the original writes its `next` links
        and file URLs with whatever host it was asked by (often `localhost`)."""
        parts = urlsplit(url)
        base = urlsplit(self.base_url)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))

    def _headers_for(self, url: str) -> dict[str, str]:
        same_origin = urlsplit(url).netloc == urlsplit(self.base_url).netloc
        return {"Authorization": self.authorization} if same_origin else {}

    async def _send(
        self, method: str, url: str, *, stream: bool = False, attempts: int | None = None
    ) -> httpx.Response:
        """One request, tried again after timeouts, lost connections and 5xx; any other failure
        of HTTP itself (a URL it cannot fetch, a redirect loop, a bad encoding) is Unreachable."""
        attempts = attempts or self.attempts
        for attempt in range(1, attempts + 1):
            try:
                request = self.http.build_request(method, url, headers=self._headers_for(url))
                response = await self.http.send(request, stream=stream)
                if response.status_code < 500:
                    return response
                await response.aclose()
                failure: Exception = _ServerError(response.status_code)
            except RETRIED as error:
                failure = error
            except httpx.HTTPError as error:
                raise Unreachable(f"{url}: {error!r}") from error
            if attempt < attempts:
                delay = self.retry_delay * 2 ** (attempt - 1)
                logger.info(
                    "%s %s failed (%s); trying again in %.1f s", method, url, failure, delay
                )
                await asyncio.sleep(delay)
        raise Unreachable(f"{url} did not answer after {attempts} tries: {failure!r}")

    async def get_json(self, path_or_url: str) -> Any:
        """The JSON at a path under `--from` (which may have a path of its own), or at an
        absolute URL (a `next` link) moved onto `--from`'s origin."""
        absolute = "://" in path_or_url
        url = self.on_base(path_or_url) if absolute else f"{self.base_url}{path_or_url}"
        response, body = await self._get_capped(url)
        if response.status_code == 404 and urlsplit(url).path.endswith("/"):
            parts = urlsplit(url)
            other = urlunsplit(parts._replace(path=_toggled_slash(parts.path)))
            response, body = await self._get_capped(other)
        if response.status_code in (401, 403):
            raise Refused(
                f"the original refused the token: {response.status_code} {_detail(response, body)}"
            )
        if response.status_code == 404:
            raise Missing(url)
        if response.status_code != 200:
            raise NotTheOriginal(f"{url} answered {response.status_code} {_detail(response, body)}")
        try:
            return json.loads(body)
        except ValueError:
            raise NotTheOriginal(f"{url} did not answer JSON: not the original API") from None

    async def _get_capped(self, url: str) -> tuple[httpx.Response, bytes]:
        """A GET whose body is read up to MAX_JSON_BYTES (decompressed): more is not the
        original's page, whatever it claims."""
        response = await self._send("GET", url, stream=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JSON_BYTES:
                    raise NotTheOriginal(f"{url} answered more than {MAX_JSON_BYTES} bytes")
        except httpx.HTTPError as error:
            raise Unreachable(f"{url}: {error!r}") from error
        finally:
            await response.aclose()
        return response, bytes(body)

    async def pages(self, path: str) -> AsyncIterator[dict[str, Any]]:
        """Every result of a paged collection, following `next` until `count` results are
        read (an empty page, or a `next` seen before, ends it too: a broken or hostile original
        cannot keep the import reading forever)."""
        url: str | None = path
        seen: set[str] = set()
        read = 0
        while url is not None and url not in seen:
            seen.add(url)
            page = parse(Page, await self.get_json(url), f"GET {url}")
            for result in page.results:
                yield result
            read += len(page.results)
            url = page.next if page.results and read < page.count else None

    async def download(self, url: str, into: IO[bytes], expected_size: int) -> int:
        """Stream the file at `url` into `into`: the byte count, checked against the original's
        `size`. `url`'s own origin is tried once, then the same path on `--from` with every try
        (an origin that does not answer at all is not tried again). A body longer than
        announced is cut off there."""
        candidates = self._file_urls(url)
        for candidate in candidates:
            last = candidate == candidates[-1]
            try:
                return await self._download_from(
                    candidate, into, expected_size, attempts=None if last else 1
                )
            except (Unreachable, DownloadFailed) as error:
                if last:
                    raise DownloadFailed(str(error)) from error
                if isinstance(error, Unreachable):
                    origin = urlsplit(candidate).netloc
                    logger.info("%s does not answer; files come from %s", origin, self.base_url)
                    self._dead_origins.add(origin)
        raise AssertionError("unreachable")

    def _file_urls(self, url: str) -> list[str]:
        on_base = self.on_base(url)
        if on_base == url or urlsplit(url).netloc in self._dead_origins:
            return [on_base]
        return [url, on_base]

    async def _download_from(
        self, url: str, into: IO[bytes], expected_size: int, *, attempts: int | None
    ) -> int:
        attempts = attempts or self.attempts
        for attempt in range(1, attempts + 1):
            into.seek(0)
            into.truncate()
            async with self._streamed(url, attempts) as response:
                if response.status_code != 200:
                    raise DownloadFailed(f"{url} answered {response.status_code}")
                try:
                    received = await _copy(response, into, expected_size)
                except RETRIED as error:
                    if attempt == attempts:
                        raise DownloadFailed(f"{url}: {error!r}") from error
                    await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
                    continue
                except httpx.HTTPError as error:
                    raise DownloadFailed(f"{url}: {error!r}") from error
            if received != expected_size:
                raise DownloadFailed(
                    f"{url}: {received} bytes downloaded, the original says {expected_size}"
                )
            into.seek(0)
            return received
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def _streamed(self, url: str, attempts: int) -> AsyncIterator[httpx.Response]:
        response = await self._send("GET", url, stream=True, attempts=attempts)
        try:
            yield response
        finally:
            await response.aclose()


async def _copy(response: httpx.Response, into: IO[bytes], limit: int) -> int:
    """Copy the body, stopping one byte past `limit` (enough to know it is too long)."""
    received = 0
    async for chunk in response.aiter_bytes(CHUNK):
        into.write(chunk[: limit + 1 - received])
        received += len(chunk)
        if received > limit:
            return received
    return received
