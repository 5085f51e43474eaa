"""Graceful shutdown of a live uvicorn: SIGTERM under load.

What uvicorn 0.54 does with one worker (`portfolio-api serve`), as observed here:

- The signal only sets a flag; its main loop sees it within 0.1 s and then stops listening
  (new connections are refused), closes every connection with no request in progress (an idle
  kept-alive one, or one whose request headers are still incomplete: the client reads an end of
  file, no response at all, no 503), and marks the others to close after their response (which
  carries `Connection: close` if its headers were not sent yet).
- A request is in progress from the moment its headers are parsed: an upload whose body is
  still streaming in is read to the end and answered normally.
- It then waits for those connections (up to `timeout_graceful_shutdown`, 30 s), runs the
  lifespan shutdown (the engine is disposed only now, after the last request) and, having
  restored the default handler, raises SIGTERM again: the process ends "killed by SIGTERM"
  (-15, shell status 143), uvicorn's cooperative signal handling since 0.29 (PR #1600).

A request that arrives on a kept-alive connection in the tenth of a second before the flag is
seen is served normally; after that the connection is already closed.

With several workers the supervisor forwards SIGTERM to them (within 0.5 s) and exits 0 once
they have finished; each worker drains as above. uvicorn's supervisor would keep its own copy of
the listening socket open meanwhile (new connections accepted by the kernel, then left waiting
up to 30 s); `serve` closes it, so they are refused as with one worker.
"""

import asyncio
import hashlib
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bench.server import Server, live_server
from tests.media import samples
from tests.media.conftest import media_path, stored_files
from tests.media.test_upload import FILE_KEYS, SEED_IMAGE_KEYS

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="reads the kernel's socket table (Linux)"
)

UPLOADS = 4
DOWNLOADS = 2
LOAD_CLIENTS = 3
BIG_FILE_BYTES = 12 * 1024 * 1024  # more than the socket buffers between server and client hold
# Every bound is generous: a shared 2-core machine; the expected times are a fraction of them.
BOUND = 10.0
# How a connection may end when the server closes it: refused, reset, or closed before any
# byte of a response. Never a timeout, never a partial response.
CLEAN_FAILURES = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


@dataclass
class Outcome:
    ended: float = 0.0
    response: httpx.Response | None = None
    error: Exception | None = None


def check_clean(outcome: Outcome, signalled_at: float, check_body: Callable[[Any], None]) -> None:
    """A response is a normal one; a failure comes after the signal and is a clean close."""
    if outcome.response is not None:
        assert outcome.response.status_code == 200, outcome.response.text
        check_body(outcome.response.json())
        return
    assert isinstance(outcome.error, CLEAN_FAILURES), repr(outcome.error)
    if isinstance(outcome.error, httpx.RemoteProtocolError):
        assert str(outcome.error).startswith("Server disconnected without sending a response")
    assert outcome.ended > signalled_at


def unread_bytes(port: int) -> dict[int, int]:
    """For each client port, the bytes it sent that the server has not read yet: the receive
    queue of the server's end of the connection, as the kernel reports it. A connection still
    waiting to be accepted is listed too, with what it sent unread."""
    unread = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == "01":  # ESTABLISHED
            unread[remote_port] = int(fields[4].split(":")[1], 16)
    return unread


async def eventually(condition: Any, what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < deadline, f"not within {BOUND} s: {what}"
        await asyncio.sleep(0.02)


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    head = (
        f"{''.join(parts)}--{boundary}\r\nContent-Disposition: form-data; "
        f'name="file"; filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'
    )
    body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


class SlowUpload:
    """An upload that sends its headers and a first piece of its body, waits for `resume`,
    then streams the rest in small pieces with pauses."""

    def __init__(self, server: Server, index: int, image: bytes, resume: asyncio.Event) -> None:
        self.server = server
        self.name = f"in flight {index}"
        self.content_type, self.body = multipart({"name": self.name}, f"flight{index}.jpg", image)
        self.resume = resume
        self.first_piece_sent = asyncio.Event()
        self.client_port = 0

    async def pieces(self) -> AsyncIterator[bytes]:
        yield self.body[:2048]
        self.first_piece_sent.set()
        await self.resume.wait()
        step = len(self.body) // 10 + 1
        for start in range(2048, len(self.body), step):
            await asyncio.sleep(0.05)
            yield self.body[start : start + step]

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            self.client_port = info["return_value"].get_extra_info("client_addr")[1]

    async def send(self) -> httpx.Response:
        headers = {
            "Authorization": f"Token {self.server.token}",
            "Content-Type": self.content_type,
            "Content-Length": str(len(self.body)),
        }
        async with httpx.AsyncClient(base_url=self.server.url, timeout=30) as client:
            return await client.post(
                "/api/media/",
                content=self.pieces(),
                headers=headers,
                extensions={"trace": self.trace},
            )


async def slow_download(
    client: httpx.AsyncClient, path: str, headers_received: asyncio.Event, resume: asyncio.Event
) -> tuple[httpx.Response, bytes]:
    """Receive the response's headers, then read nothing until `resume`: the server's sending
    blocks on full socket buffers, so the response is still in progress at the signal."""
    async with client.stream("GET", path) as response:
        headers_received.set()
        await resume.wait()
        return response, await response.aread()


async def load(client: httpx.AsyncClient, stop: asyncio.Event, outcomes: list[Outcome]) -> None:
    """Ordinary GETs, back to back on one kept-alive connection, until told to stop."""
    while not stop.is_set():
        outcome = Outcome()
        try:
            outcome.response = await client.get("/api/media/", params={"limit": 5})
        except httpx.TimeoutException:
            raise  # a hang: the test fails
        except httpx.TransportError as error:
            outcome.error = error
            await asyncio.sleep(0.02)
        outcome.ended = time.monotonic()
        outcomes.append(outcome)


async def raw_get(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A kept-alive connection that has had one complete exchange."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    response = await asyncio.wait_for(read_response(reader), BOUND)
    assert response is not None
    assert response[0] == 200
    return reader, writer


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes] | None:
    """One whole HTTP/1.1 response, or None if the connection ends before its first byte (the
    server closed it; a reset if it closed with a request of ours unread)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except ConnectionResetError:
        return None
    except asyncio.IncompleteReadError as ended:
        if ended.partial:
            raise AssertionError(f"a partial response: {ended.partial!r}") from ended
        return None
    status_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
    headers = dict(line.lower().split(": ", 1) for line in lines)
    body = await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, body


async def probe_new_connections(server: Server, signalled_at: float) -> None:
    """New clients after the signal: served while uvicorn has not yet seen it, then refused."""
    port = urlsplit(server.url).port
    assert port is not None
    deadline = time.monotonic() + BOUND
    while True:
        outcome = Outcome()
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=3) as client:
                outcome.response = await client.get("/healthz")
        except httpx.TransportError as error:
            outcome.error = error
        outcome.ended = time.monotonic()
        check_clean(outcome, signalled_at, check_health)
        if isinstance(outcome.error, httpx.ConnectError):
            break
        assert time.monotonic() < deadline, "new connections were still accepted"
        await asyncio.sleep(0.02)
    # Refused, not merely unanswered, and while the process is still draining its requests.
    for _ in range(3):
        with pytest.raises(ConnectionRefusedError):
            await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 3)
    assert server.process.poll() is None


def check_health(body: dict[str, Any]) -> None:
    assert body == {"status": "ok"}


def check_page(body: dict[str, Any]) -> None:
    assert list(body) == ["count", "next", "previous", "results"]
    assert body["results"]
    for item in body["results"]:
        assert list(item) in (FILE_KEYS, SEED_IMAGE_KEYS)


async def stored_paths(server: Server) -> tuple[set[int], set[str]]:
    engine = create_async_engine(server.env["database_url"], poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            ids = set((await connection.execute(text("SELECT id FROM media_file"))).scalars())
            paths = set(
                (
                    await connection.execute(
                        text("SELECT path FROM media_file UNION SELECT path FROM media_thumbnail")
                    )
                ).scalars()
            )
    finally:
        await engine.dispose()
    return ids, paths


def database_server() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.mark.parametrize("workers", [1, 2])
async def test_sigterm_finishes_accepted_requests_and_refuses_new_ones(
    tmp_path: Path, workers: int
) -> None:
    big_file = b"\0shutdown test\0" + os.urandom(BIG_FILE_BYTES)
    image = samples.photo((800, 600))
    log = tmp_path / "server.log"
    with live_server(database_server(), workers=workers, log=log) as server:
        port = urlsplit(server.url).port
        assert port is not None
        auth = {"Authorization": f"Token {server.token}"}
        clients = [
            httpx.AsyncClient(base_url=server.url, headers=auth, timeout=5)
            for _ in range(1 + LOAD_CLIENTS)
        ]
        setup, *load_clients = clients
        tasks: list[asyncio.Task[Any]] = []
        raw: list[asyncio.StreamWriter] = []
        try:
            big = await setup.post(
                "/api/media/",
                files={"file": ("big.bin", big_file, "application/octet-stream")},
                timeout=30,
            )
            assert big.status_code == 201, big.text

            resume = asyncio.Event()
            uploads = [SlowUpload(server, index, image, resume) for index in range(UPLOADS)]
            upload_tasks = [asyncio.create_task(upload.send()) for upload in uploads]
            headers_received = [asyncio.Event() for _ in range(DOWNLOADS)]
            big_path = urlsplit(big.json()["f"]).path
            download_tasks = [
                asyncio.create_task(slow_download(setup, big_path, received, resume))
                for received in headers_received
            ]
            stop_load = asyncio.Event()
            load_outcomes: list[list[Outcome]] = [[] for _ in load_clients]
            load_tasks = [
                asyncio.create_task(load(client, stop_load, outcomes))
                for client, outcomes in zip(load_clients, load_outcomes, strict=True)
            ]
            tasks += [*upload_tasks, *download_tasks, *load_tasks]

            # In flight as the server sees it: each upload's headers and first piece read by
            # uvicorn (nothing of them left unread in the kernel), each download's headers
            # sent, and GETs answered on every load connection.
            await eventually(
                lambda: (
                    all(upload.first_piece_sent.is_set() for upload in uploads)
                    and all(received.is_set() for received in headers_received)
                    and all(any(o.response is not None for o in got) for got in load_outcomes)
                ),
                "the requests are in flight",
            )
            await eventually(
                lambda: all(unread_bytes(port).get(u.client_port) == 0 for u in uploads),
                "the server has read the uploads' headers",
            )
            idle_reader, idle_writer = await raw_get(port)
            reused_reader, reused_writer = await raw_get(port)
            slow_reader, slow_writer = await asyncio.open_connection("127.0.0.1", port)
            raw += [idle_writer, reused_writer, slow_writer]
            slow_writer.write(b"GET /healthz HTTP/1.1\r\nHost: ")  # its headers unfinished
            await slow_writer.drain()

            signalled_at = time.monotonic()
            os.kill(server.pid, signal.SIGTERM)

            # A request on a kept-alive connection right after the signal: answered whole if
            # uvicorn has not seen the signal yet, else the connection is closed under it.
            reused_writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            late = await asyncio.wait_for(read_response(reused_reader), BOUND)
            assert late is None or (late[0], late[2]) == (200, b'{"status":"ok"}'), late
            await probe_new_connections(server, signalled_at)
            # Connections with no request in progress are closed, without a response: idle
            # kept-alive ones, and one whose request headers are not complete.
            assert await asyncio.wait_for(read_response(idle_reader), BOUND) is None
            assert await asyncio.wait_for(read_response(reused_reader), BOUND) is None
            assert await asyncio.wait_for(read_response(slow_reader), BOUND) is None

            stop_load.set()
            await asyncio.wait_for(asyncio.gather(*load_tasks), BOUND)
            resume.set()
            responses = await asyncio.wait_for(asyncio.gather(*upload_tasks), 3 * BOUND)
            downloads = await asyncio.wait_for(asyncio.gather(*download_tasks), BOUND)
            finished_at = time.monotonic()
        finally:
            for task in tasks:
                task.cancel()  # after a failure: let the server drain instead of waiting 30 s
            await asyncio.gather(*tasks, return_exceptions=True)
            for writer in raw:
                writer.close()
            for client in clients:
                await client.aclose()

        for outcomes in load_outcomes:
            assert any(o.response is not None and o.ended < signalled_at for o in outcomes)
            for outcome in outcomes:
                check_clean(outcome, signalled_at, check_page)
        for download, content in downloads:
            assert download.status_code == 200
            assert hashlib.sha256(content).digest() == hashlib.sha256(big_file).digest()
        for upload, response in zip(uploads, responses, strict=True):
            # Answered in full; uvicorn says it will close the connection after the response.
            assert response.status_code == 201, response.text
            assert response.headers["connection"] == "close"
            body = response.json()
            assert list(body) == SEED_IMAGE_KEYS
            assert (body["name"], body["size"], body["width"]) == (upload.name, len(image), 800)
            assert [thumbnail["size"] for thumbnail in body["thumbnails"]] == [64, 128, 512, 1080]

        # Once shut down, uvicorn ends a lone worker with the signal it was sent (-15); a
        # supervisor of several returns, and the command exits 0.
        exit_status = -signal.SIGTERM if workers == 1 else 0
        assert await asyncio.to_thread(server.process.wait, BOUND) == exit_status
        assert time.monotonic() - finished_at < BOUND

        ids, paths = await stored_paths(server)
        assert ids == {big.json()["id"], *(response.json()["id"] for response in responses)}
        for response in responses:
            body = response.json()
            files = {media_path(body["f"]), *(media_path(t["f"]) for t in body["thumbnails"])}
            assert files <= paths
        # Every row has its file and every file its row: nothing lost, nothing orphaned.
        assert stored_files(server.media_root) == paths

    output = log.read_text()
    assert "ERROR" not in output, output
    assert "Traceback" not in output, output
