"""One delivery attempt over HTTP: to an address the SSRF guard allowed (connected to by that
address, so a DNS answer cannot change between the check and the connection), no redirects
followed, the whole exchange within WEBHOOK_TIMEOUT, at most 64 KiB of the answer read."""

import asyncio
import email.utils
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from app.settings import Settings
from app.webhooks.addresses import AddressRefused, resolve

logger = logging.getLogger("app.webhooks")
ANSWER_READ_LIMIT = 64 * 1024
MAX_RETRY_AFTER = 24 * 3600.0
USER_AGENT = "portfolio-api-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None = None
    retry_after: float | None = None  # seconds, from a 429 or 503

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(max((moment - datetime.now(UTC)).total_seconds(), 0.0), MAX_RETRY_AFTER)


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


class Sender:
    def __init__(self, settings: Settings) -> None:
        self.timeout = settings.webhook_timeout
        self.allow_private = settings.webhooks_reach_private_addresses
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            headers={"user-agent": USER_AGENT},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> Outcome:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                return await self._send(httpx.URL(url), headers, body)
        except TimeoutError:
            return Outcome(None, f"No answer within {self.timeout:g} s.")
        except AddressRefused as refused:
            return Outcome(None, str(refused))
        except httpx.HTTPError as exc:
            return Outcome(None, _describe(exc))
        finally:
            logger.debug("webhook POST %s took %.1f ms", url, (time.monotonic() - started) * 1e3)

    async def _send(self, url: httpx.URL, headers: dict[str, str], body: bytes) -> Outcome:
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await resolve(url.host, port, allow_private=self.allow_private)
        extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
        headers = {**headers, "host": url.netloc.decode("ascii")}
        for position, address in enumerate(addresses):
            try:
                async with self.client.stream(
                    "POST",
                    url.copy_with(host=address),
                    content=body,
                    headers=headers,
                    extensions=extensions,
                ) as response:
                    await _read_some(response)
                    retry_after = None
                    if response.status_code in (429, 503):
                        retry_after = retry_after_seconds(response.headers.get("retry-after"))
                    return Outcome(response.status_code, None, retry_after)
            except httpx.ConnectError:
                if position == len(addresses) - 1:
                    raise  # every address refused: the last error says why
        raise AddressRefused(f"The host {url.host!r} has no address.")


async def _read_some(response: httpx.Response) -> None:
    """Read the answer (so the connection can serve the next attempt), up to a limit."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > ANSWER_READ_LIMIT:
            break
