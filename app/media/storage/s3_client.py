"""botocore's side of the S3 backend (s3.py): the client's configuration and errors, presigned
URLs signed at a given time, and bodies read and hashed in threads."""

import base64
import hashlib
import os
import random
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

# botocore and aiobotocore ship no type hints
import botocore.session  # type: ignore[import-untyped]
from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
from botocore.auth import SIGV4_TIMESTAMP, S3SigV4QueryAuth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import ReadOnlyCredentials  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from app.media.storage import StorageError

MIB = 1024 * 1024


@dataclass(frozen=True)
class Credentials:
    """Static keys; without them the AWS credential chain is asked (see `S3Storage`)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


class S3Error(StorageError):
    def __init__(self, operation: str, status: int | None, code: str, message: str = "") -> None:
        self.status = status
        self.code = code
        super().__init__(f"S3 {operation}: {status or 'no answer'} {code} {message}".rstrip())

    @classmethod
    def of(cls, operation: str, error: Exception) -> "S3Error":
        if isinstance(error, ClientError):
            details = error.response.get("Error", {})
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return cls(operation, status, details.get("Code", ""), details.get("Message", ""))
        return cls(operation, None, type(error).__name__, str(error))


@asynccontextmanager
async def failing_as(operation: str) -> AsyncIterator[None]:
    """botocore's errors (after its retries) as S3Error, which the app answers with a 503."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise S3Error.of(operation, error) from error


@dataclass(frozen=True)
class Body:
    """An object's bytes, measured once in a thread: whole (with its MD5) for one PUT, or read
    a part at a time for a multipart upload."""

    size: int
    whole: bytes | None
    md5: str | None
    read: Callable[[int, int], bytes]  # (start, length), in a thread

    @classmethod
    def measure(cls, content: bytes | IO[bytes], threshold: int) -> "Body":  # in a thread
        if isinstance(content, bytes):
            view = memoryview(content)
            size = len(content)

            def read(start: int, length: int) -> bytes:
                return bytes(view[start : start + length])

            whole = content if size <= threshold else None
        else:
            lock = threading.Lock()

            def read(start: int, length: int) -> bytes:
                with lock:
                    content.seek(start)
                    return content.read(length)

            content.seek(0, os.SEEK_END)
            size = content.tell()
            whole = read(0, size) if size <= threshold else None
        return cls(size, whole, _md5(whole) if whole is not None else None, read)

    def part(self, start: int, length: int) -> tuple[bytes, str]:  # in a thread
        data = self.read(start, length)
        return data, _md5(data)


def _md5(data: bytes) -> str:
    """`Content-MD5`: the store checks the bytes it received (and every S3 look-alike can)."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


class _PresignAt(S3SigV4QueryAuth):  # type: ignore[misc]
    """botocore's presigned-URL signer, at a given time (its own signs at the present)."""

    def __init__(
        self, credentials: ReadOnlyCredentials, region: str, ttl: int, at: datetime
    ) -> None:
        super().__init__(credentials, "s3", region, expires=ttl)
        self._at = at

    def add_auth(self, request: AWSRequest) -> None:
        request.context["timestamp"] = self._at.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        signature = self.signature(
            self.string_to_sign(request, self.canonical_request(request)), request
        )
        self._inject_signature_to_request(request, signature)


def retry_too_many_requests(max_attempts: int) -> Callable[..., float | None]:
    """A `needs-retry` handler for a 429 whatever its error code: botocore's standard retries
    know 429 only by the codes AWS sends with it, and S3 look-alikes send others."""

    def delay(response: Any = None, attempts: int = 1, **kwargs: Any) -> float | None:
        if response is None or response[0].status_code != 429 or attempts >= max_attempts:
            return None  # botocore's own decision stands
        return random.random() * min(2.0 ** (attempts - 1), 20.0)  # full jitter, as botocore's

    return delay


def client_config(*, virtual: bool, timeout: float, max_attempts: int) -> AioConfig:
    return AioConfig(
        signature_version="s3v4",
        s3={"addressing_style": "virtual" if virtual else "path"},
        # "standard": 5xx, throttling codes (SlowDown) and lost connections, with full jitter
        # (a random wait of up to 1, 2, 4 ... 20 s) and a retry quota; 429 is added on top.
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=min(timeout, 10.0),
        read_timeout=timeout,
        max_pool_connections=50,
        # No CRC trailers (aws-chunked), which S3 look-alikes often refuse: s3.py sends
        # Content-MD5, and botocore adds a checksum only where S3 requires one.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


class SigningKeys:
    """The keys presigned URLs are signed with: the static ones, else botocore's own chain.

    `Storage.url` is not async, so this chain is the blocking one: it asks the metadata endpoint
    or STS for the first URL, and then only when the credentials near their expiry (a presigned
    URL lives at most as long as the temporary credentials that signed it).
    """

    def __init__(self, static: Credentials | None) -> None:
        self._static = static
        self._chain: Any = None
        self._resolved = False

    def get(self) -> ReadOnlyCredentials:
        if self._static is not None:
            keys = self._static
            return ReadOnlyCredentials(
                keys.access_key_id, keys.secret_access_key, keys.session_token
            )
        if not self._resolved:
            self._chain = botocore.session.Session().get_credentials()
            self._resolved = True
        if self._chain is None:
            raise StorageError("S3: no credentials found to sign URLs with")
        return self._chain.get_frozen_credentials()


def presign_get(url: str, keys: ReadOnlyCredentials, region: str, ttl: int, at: datetime) -> str:
    """`url` (already percent-encoded) signed for GET by anyone for `ttl` seconds from `at`."""
    request = AWSRequest(method="GET", url=url)
    _PresignAt(keys, region, ttl, at).add_auth(request)
    return str(request.url)
