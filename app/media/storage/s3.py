"""Media in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Ceph RGW).

Requests are signed here (sigv4.py) and sent with httpx: no SDK, and nothing blocks the event
loop (files are read and hashed in threads, a megabyte at a time). Keys are the local ones
(`core_media/YYYY/MM/DD/...`) behind an optional prefix; a taken key gets a random suffix, as
on disk: a conditional PUT (`If-None-Match: *`) where the store supports it, else a HEAD first.
"""

import asyncio
import base64
import hashlib
import logging
import secrets
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import IO, Literal
from urllib.parse import quote, unquote_plus, urlsplit
from xml.sax.saxutils import escape

import httpx

from app.media.naming import with_random_suffix
from app.media.serving import CACHE_FOREVER
from app.media.storage import Backend, NewObject, StorageError, StoredObject
from app.media.storage.sigv4 import EMPTY_SHA256, Credentials, Signer, canonical_query, uri_encode
from app.settings import Settings

logger = logging.getLogger("app.media.s3")

CHUNK = 1024 * 1024
DELETE_BATCH = 1000  # DeleteObjects' limit
NAME_ATTEMPTS = 10
RETRY_DELAY = 0.1  # seconds, doubled after each failed attempt
RETRIED_STATUSES = frozenset({500, 502, 503, 504})
DEFAULT_PORTS = {"http": 80, "https": 443}
PROBE_FOLDER = ".portfolio-api/"  # beside the media folders, never under them


class S3Error(StorageError):
    def __init__(self, operation: str, status: int | None, code: str, message: str = "") -> None:
        self.status = status
        self.code = code
        super().__init__(f"S3 {operation}: {status or 'no answer'} {code} {message}".rstrip())

    @classmethod
    def from_response(cls, operation: str, response: httpx.Response) -> "S3Error":
        code, message = response.reason_phrase, ""
        if response.content.lstrip().startswith(b"<"):
            try:
                error = ET.fromstring(response.content)
            except ET.ParseError:
                pass
            else:
                code = error.findtext("Code") or code
                message = error.findtext("Message") or ""
        return cls(operation, response.status_code, code, message)


@dataclass
class _Payload:
    """A body measured and hashed once (SigV4 signs its SHA-256), sent as often as needed."""

    size: int
    sha256: str
    data: bytes | None  # small bodies are kept whole; larger ones are re-read from the file
    file: IO[bytes] | None

    @classmethod
    def measure(cls, content: bytes | IO[bytes]) -> "_Payload":  # in a thread
        if isinstance(content, bytes):
            return cls(len(content), hashlib.sha256(content).hexdigest(), content, None)
        content.seek(0)
        digest, size, chunks = hashlib.sha256(), 0, []
        while chunk := content.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if size <= CHUNK:
                chunks.append(chunk)
        if size <= CHUNK:
            return cls(size, digest.hexdigest(), b"".join(chunks), None)
        return cls(size, digest.hexdigest(), None, content)

    def body(self) -> bytes | AsyncIterator[bytes]:
        if self.data is not None:
            return self.data
        assert self.file is not None
        return _read_in_threads(self.file)


async def _read_in_threads(file: IO[bytes]) -> AsyncIterator[bytes]:
    await asyncio.to_thread(file.seek, 0)
    while chunk := await asyncio.to_thread(file.read, CHUNK):
        yield chunk


def _local_name(element: ET.Element) -> str:
    return element.tag.rpartition("}")[2]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local_name(child) == name]


def _text(element: ET.Element, name: str) -> str:
    found = _children(element, name)
    return (found[0].text or "") if found else ""


def content_disposition(key: str) -> str:
    """`attachment`, keeping the file's name (RFC 6266: ASCII fallback, then UTF-8)."""
    name = PurePosixPath(key).name
    path = PurePosixPath(name)
    fallback = "".join(c for c in path.stem if c.isascii() and (c.isalnum() or c in "-_."))
    if not any(c.isalnum() for c in fallback):
        fallback = "file"
    return f"attachment; filename=\"{fallback}{path.suffix}\"; filename*=UTF-8''{quote(name)}"


class S3Storage:
    name: Backend = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        credentials: Credentials,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        addressing_style: Literal["auto", "path", "virtual"] = "auto",
        key_prefix: str = "",
        public_base_url: str | None = None,
        presigned_url_ttl: int | None = None,
        conditional_writes: bool = True,
        timeout: float = 30.0,
        max_attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        self.key_prefix = key_prefix
        self.public_base_url = public_base_url
        self.presigned_url_ttl = presigned_url_ttl
        self.conditional_writes = conditional_writes
        self.max_attempts = max_attempts
        self.list_page_size = 1000  # ListObjectsV2's maximum
        self.signer = Signer(credentials, region)
        endpoint = urlsplit(endpoint_url or f"https://s3.{region}.amazonaws.com")
        self.scheme = endpoint.scheme
        netloc = endpoint.hostname or ""
        if endpoint.port and endpoint.port != DEFAULT_PORTS.get(self.scheme):
            netloc = f"{netloc}:{endpoint.port}"
        virtual = addressing_style == "virtual" or (
            addressing_style == "auto" and endpoint_url is None and "." not in bucket
        )
        base_path = endpoint.path.rstrip("/")
        # `Host` and the path up to the key: bucket.host/key or host/bucket/key.
        self.host = f"{bucket}.{netloc}" if virtual else netloc
        self.bucket_path = base_path if virtual else f"{base_path}/{uri_encode(bucket)}"
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._client: httpx.AsyncClient | None = None
        self._conditional_writes_checked = False

    @classmethod
    def from_settings(cls, settings: Settings) -> "S3Storage":
        bucket, key_id, secret = (
            settings.s3_bucket,
            settings.s3_access_key_id,
            settings.s3_secret_access_key,
        )
        if not (bucket and key_id and secret):
            raise StorageError("S3 storage needs " + "; ".join(settings.s3_problems()))
        token = settings.s3_session_token
        return cls(
            bucket=bucket,
            credentials=Credentials(
                key_id,
                secret.get_secret_value(),
                token.get_secret_value() if token else None,
            ),
            region=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url,
            addressing_style=settings.s3_addressing_style,
            key_prefix=settings.s3_key_prefix,
            public_base_url=settings.s3_public_base_url,
            presigned_url_ttl=settings.s3_presigned_url_ttl if settings.s3_presigned_urls else None,
            conditional_writes=settings.s3_conditional_writes,
            timeout=settings.s3_timeout,
            max_attempts=settings.s3_max_attempts,
        )

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _object_path(self, key: str) -> str:
        return f"{self.bucket_path}/{uri_encode(self.key_prefix + key, keep_slash=True)}"

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        headers: dict[str, str] | None = None,
        body: Callable[[], bytes | AsyncIterator[bytes]] = lambda: b"",
        payload_hash: str = EMPTY_SHA256,
        size: int = 0,
    ) -> httpx.Response:
        """Send a signed request; 5xx answers and lost connections are tried again (every
        request here may be repeated: a conditional PUT that did land answers 412 the second
        time, and its object is left to `media gc`). Any other answer is returned."""
        query = canonical_query(params)
        url = f"{self.scheme}://{self.host}{path}" + (f"?{query}" if query else "")
        failure: Exception | None = None
        for attempt in range(self.max_attempts):
            if attempt:
                await asyncio.sleep(RETRY_DELAY * 2 ** (attempt - 1))
            signed = self.signer.sign_headers(
                method, self.host, path, query, headers or {}, payload_hash
            )
            if method in ("PUT", "POST"):
                signed["content-length"] = str(size)
            try:
                response = await self.client.request(method, url, headers=signed, content=body())
            except httpx.TransportError as error:
                failure = error
                logger.warning("S3 %s %s: %r (attempt %d)", operation, path, error, attempt + 1)
                continue
            if response.status_code not in RETRIED_STATUSES:
                return response
            failure = S3Error.from_response(operation, response)
            logger.warning("S3 %s %s: %s (attempt %d)", operation, path, failure, attempt + 1)
        if isinstance(failure, S3Error):
            raise failure
        raise S3Error(operation, None, type(failure).__name__, str(failure)) from failure

    async def save(self, key: str, content: bytes | IO[bytes], content_type: str) -> str:
        await self._check_conditional_writes()
        payload = await asyncio.to_thread(_Payload.measure, content)
        candidate = key
        for _ in range(NAME_ATTEMPTS):
            if self.conditional_writes:
                stored = await self._put(candidate, payload, content_type, only_new=True)
            else:  # racy, but the best a store without conditional writes allows
                stored = not await self.exists(candidate) and await self._put(
                    candidate, payload, content_type, only_new=False
                )
            if stored:
                return candidate
            candidate = with_random_suffix(key)
        raise StorageError(f"no free name for {key!r} after {NAME_ATTEMPTS} attempts")

    async def _check_conditional_writes(self) -> None:
        """Once per process, before the first write: does the store honour `If-None-Match: *`?

        One that ignores it would let a second upload of a taken name overwrite the first file,
        and then delete it if that upload failed. Such a store is written to as if
        S3_CONDITIONAL_WRITES were false (a HEAD before each PUT), with a warning; the names
        table (`media_used_name`) already keeps two uploads from choosing the same key.
        """
        if not self.conditional_writes or self._conditional_writes_checked:
            return
        key = f"{PROBE_FOLDER}conditional-write-{secrets.token_hex(8)}"
        probe = _Payload.measure(b"probe")
        try:
            await self._put(key, probe, "text/plain", only_new=True)
            honoured = not await self._put(key, probe, "text/plain", only_new=True)
        finally:
            await self.delete([key])
        if not honoured:
            logger.warning(
                "S3 store ignores If-None-Match: writing with a HEAD first instead "
                "(set S3_CONDITIONAL_WRITES=false to skip this check)"
            )
            self.conditional_writes = False
        self._conditional_writes_checked = True

    async def save_all(self, objects: Sequence[NewObject]) -> list[str]:
        """Side by side: each write is a request that mostly waits for the network."""
        results = await asyncio.gather(
            *(self.save(new.key, new.content, new.content_type) for new in objects),
            return_exceptions=True,
        )
        stored = [result for result in results if isinstance(result, str)]
        failures = [result for result in results if isinstance(result, BaseException)]
        if failures:
            try:
                await self.delete(stored)
            except StorageError as error:  # `media gc` finds them later
                logger.warning("S3 cannot remove %s after a failed write: %s", stored, error)
            raise failures[0]
        return stored

    async def put(self, key: str, content: bytes | IO[bytes], content_type: str) -> None:
        """Store under exactly `key`, replacing what is there (copies between backends)."""
        payload = await asyncio.to_thread(_Payload.measure, content)
        await self._put(key, payload, content_type, only_new=False)

    async def _put(self, key: str, payload: _Payload, content_type: str, *, only_new: bool) -> bool:
        """Upload; False when `only_new` and the key is taken."""
        headers = {"Content-Type": content_type, "Cache-Control": CACHE_FOREVER}
        if not content_type.startswith("image/"):
            headers["Content-Disposition"] = content_disposition(key)
        if only_new:
            headers["If-None-Match"] = "*"
        response = await self._send(
            "PutObject",
            "PUT",
            self._object_path(key),
            headers=headers,
            body=payload.body,
            payload_hash=payload.sha256,
            size=payload.size,
        )
        # 412: taken; 409: a concurrent conditional write to the same key is in flight.
        if only_new and response.status_code in (409, 412):
            return False
        if response.status_code != 200:
            error = S3Error.from_response("PutObject", response)
            if only_new and response.status_code == 501:
                raise StorageError(f"{error}; set S3_CONDITIONAL_WRITES=false for this store")
            raise error
        return True

    async def exists(self, key: str) -> bool:
        response = await self._send("HeadObject", "HEAD", self._object_path(key))
        if response.status_code in (200, 404):
            return response.status_code == 200
        raise S3Error.from_response("HeadObject", response)

    async def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            await self._delete_batch(keys[start : start + DELETE_BATCH])

    async def _delete_batch(self, keys: list[str]) -> None:
        if not keys:
            return
        objects = "".join(
            f"<Object><Key>{escape(self.key_prefix + key)}</Key></Object>" for key in keys
        )
        body = (
            '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>'
            f"{objects}</Delete>"
        ).encode()
        md5 = hashlib.md5(body, usedforsecurity=False).digest()
        response = await self._send(
            "DeleteObjects",
            "POST",
            self.bucket_path or "/",
            params=[("delete", "")],
            headers={
                "Content-Type": "application/xml",
                "Content-MD5": base64.b64encode(md5).decode(),
            },
            body=lambda: body,
            payload_hash=hashlib.sha256(body).hexdigest(),
            size=len(body),
        )
        if response.status_code != 200:
            raise S3Error.from_response("DeleteObjects", response)
        failed = [
            f"{_text(error, 'Key')}: {_text(error, 'Code')}"
            for error in _children(ET.fromstring(response.content), "Error")
            if _text(error, "Code") != "NoSuchKey"
        ]
        if failed:
            raise S3Error("DeleteObjects", 200, "PartialFailure", "; ".join(failed))

    async def list_objects(self, prefix: str) -> AsyncIterator[StoredObject]:
        token: str | None = None
        while True:
            params = [
                ("list-type", "2"),
                ("prefix", self.key_prefix + prefix),
                ("encoding-type", "url"),
                ("max-keys", str(self.list_page_size)),
            ]
            if token:
                params.append(("continuation-token", token))
            response = await self._send(
                "ListObjectsV2", "GET", self.bucket_path or "/", params=params
            )
            if response.status_code != 200:
                raise S3Error.from_response("ListObjectsV2", response)
            listing = ET.fromstring(response.content)
            for item in _children(listing, "Contents"):
                key = unquote_plus(_text(item, "Key")).removeprefix(self.key_prefix)
                modified = datetime.fromisoformat(_text(item, "LastModified"))
                yield StoredObject(key, modified.astimezone(UTC))
            token = _text(listing, "NextContinuationToken")
            if _text(listing, "IsTruncated") != "true" or not token:
                return

    def url(self, key: str, origin: str) -> str:
        prefix = self.url_prefix(origin)
        if prefix is not None:
            return f"{prefix}{quote(key)}"
        assert self.presigned_url_ttl is not None
        # Signed at a time rounded down to a quarter of the lifetime: a page shows the same URL
        # for a while (browsers and CDNs cache it), valid for at least three quarters of it.
        step = max(1, self.presigned_url_ttl // 4)
        now = datetime.fromtimestamp(int(datetime.now(UTC).timestamp()) // step * step, UTC)
        return self.signer.presign(
            "GET", self.scheme, self.host, self._object_path(key), self.presigned_url_ttl, now
        )

    def url_prefix(self, origin: str) -> str | None:
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(self.key_prefix)}"
        if self.presigned_url_ttl:
            return None  # each URL carries its own signature: SQL cannot build them
        return f"{self.scheme}://{self.host}{self.bucket_path}/{quote(self.key_prefix)}"
