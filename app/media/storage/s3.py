"""Media in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Ceph RGW).

Spoken through aiobotocore (botocore's requests, credentials and retries on aiohttp): the AWS
credential chain, retries with jitter on 5xx, 429 and `SlowDown`, and a multipart upload above
`MULTIPART_THRESHOLD`. Files are read and hashed in threads, so nothing slow happens in the event
loop. Keys are the local ones (`core_media/YYYY/MM/DD/...`) behind an optional prefix; a taken
key gets a random suffix, as on disk: a conditional write (`If-None-Match: *`) where the store
supports it, else a HEAD first.
"""

import asyncio
import logging
import math
import secrets
import tempfile
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import IO, Any, Literal
from urllib.parse import quote, urlsplit

from aiobotocore.session import get_session  # type: ignore[import-untyped]

from app.media.naming import with_random_suffix
from app.media.serving import CACHE_FOREVER
from app.media.storage import Backend, MissingObject, NewObject, StorageError, StoredObject
from app.media.storage.s3_client import (
    MIB,
    Body,
    Credentials,
    S3Error,
    SigningKeys,
    client_config,
    failing_as,
    presign_get,
    retry_too_many_requests,
)
from app.settings import Settings

logger = logging.getLogger("app.media.s3")

MULTIPART_THRESHOLD = 8 * MIB  # larger objects go up in parts (as the AWS CLI does)
PART_SIZE = 8 * MIB  # S3 takes 5 MiB to 5 GiB a part, and 10,000 parts at most
MAX_PARTS = 10_000
PART_CONCURRENCY = 4  # parts of one object in flight (each held in memory while it is)
DELETE_BATCH = 1000  # DeleteObjects' limit
DOWNLOAD_CHUNK = 1 * MIB
NAME_ATTEMPTS = 10
DEFAULT_PORTS = {"http": 80, "https": 443}
PROBE_FOLDER = ".portfolio-api/"  # beside the media folders, never under them


def content_disposition(key: str) -> str:
    """`attachment`, keeping the file's name (RFC 6266: ASCII fallback, then UTF-8)."""
    name = PurePosixPath(key).name
    path = PurePosixPath(name)
    fallback = "".join(c for c in path.stem if c.isascii() and (c.isalnum() or c in "-_."))
    if not any(c.isalnum() for c in fallback):
        fallback = "file"
    return f"attachment; filename=\"{fallback}{path.suffix}\"; filename*=UTF-8''{quote(name)}"


class S3Storage:
    """A bucket through one aiobotocore client, made on first use.

    Without static `credentials` the AWS chain finds them: the `AWS_*` variables, the shared
    credentials and config files (`AWS_PROFILE`, SSO, `credential_process`, assumed roles), web
    identity (`AWS_WEB_IDENTITY_TOKEN_FILE`, as on EKS), ECS task roles and EC2 instance
    metadata, refreshed before they expire.
    """

    name: Backend = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        credentials: Credentials | None = None,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        addressing_style: Literal["auto", "path", "virtual"] = "auto",
        key_prefix: str = "",
        public_base_url: str | None = None,
        presigned_url_ttl: int | None = None,
        conditional_writes: bool = True,
        timeout: float = 30.0,
        max_attempts: int = 3,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        part_size: int = PART_SIZE,
    ) -> None:
        if part_size < 5 * MIB:
            raise ValueError("S3 parts are 5 MiB at least")
        self.bucket = bucket
        self.credentials = credentials
        self.region = region
        self.key_prefix = key_prefix
        self.public_base_url = public_base_url
        self.presigned_url_ttl = presigned_url_ttl
        self.conditional_writes = conditional_writes
        self.max_attempts = max_attempts
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.list_page_size = 1000  # ListObjectsV2's maximum
        endpoint = urlsplit(endpoint_url or f"https://s3.{region}.amazonaws.com")
        self.scheme = endpoint.scheme
        netloc = endpoint.hostname or ""
        if endpoint.port and endpoint.port != DEFAULT_PORTS.get(self.scheme):
            netloc = f"{netloc}:{endpoint.port}"
        virtual = addressing_style == "virtual" or (
            addressing_style == "auto" and endpoint_url is None and "." not in bucket
        )
        base_path = endpoint.path.rstrip("/")
        # The host and the path up to the key, for URLs: bucket.host/key or host/bucket/key.
        self.host = f"{bucket}.{netloc}" if virtual else netloc
        self.bucket_path = base_path if virtual else f"{base_path}/{quote(bucket, safe='~')}"
        self._client_options: dict[str, Any] = {
            "region_name": region,
            "endpoint_url": endpoint_url,
            "config": client_config(virtual=virtual, timeout=timeout, max_attempts=max_attempts),
        }
        if credentials is not None:
            self._client_options |= {
                "aws_access_key_id": credentials.access_key_id,
                "aws_secret_access_key": credentials.secret_access_key,
                "aws_session_token": credentials.session_token,
            }
        self._client: Any = None
        self._client_lock = asyncio.Lock()
        self._signing_keys = SigningKeys(credentials)
        self._conditional_writes_checked = False

    @classmethod
    def from_settings(cls, settings: Settings) -> "S3Storage":
        problems = settings.s3_problems()
        if problems or not settings.s3_bucket:
            raise StorageError("S3 storage needs " + "; ".join(problems))
        key_id, secret, token = (
            settings.s3_access_key_id,
            settings.s3_secret_access_key,
            settings.s3_session_token,
        )
        credentials = None
        if key_id and secret:
            credentials = Credentials(
                key_id, secret.get_secret_value(), token.get_secret_value() if token else None
            )
        return cls(
            bucket=settings.s3_bucket,
            credentials=credentials,
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

    async def client(self) -> Any:
        """The aiobotocore S3 client (one per storage, its connections pooled)."""
        if self._client is None:
            async with self._client_lock:
                if self._client is None:
                    creating = get_session().create_client("s3", **self._client_options)
                    client = await creating.__aenter__()
                    client.meta.events.register(
                        "needs-retry.s3", retry_too_many_requests(self.max_attempts)
                    )
                    self._client = client
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def save(self, key: str, content: bytes | IO[bytes], content_type: str) -> str:
        await self._check_conditional_writes()
        body = await asyncio.to_thread(Body.measure, content, self.multipart_threshold)
        candidate = key
        for _ in range(NAME_ATTEMPTS):
            if self.conditional_writes:
                stored = await self._put(candidate, body, content_type, only_new=True)
            else:  # racy, but the best a store without conditional writes allows
                stored = not await self.exists(candidate) and await self._put(
                    candidate, body, content_type, only_new=False
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
        probe = Body.measure(b"probe", self.multipart_threshold)
        try:
            await self._put(key, probe, "text/plain", only_new=True)
            honoured = not await self._put(key, probe, "text/plain", only_new=True)
        finally:
            try:
                await self.delete([key])
            except StorageError as error:  # what failed before, if anything, is raised
                logger.warning("S3 cannot remove the probe %s: %s", key, error)
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
        body = await asyncio.to_thread(Body.measure, content, self.multipart_threshold)
        await self._put(key, body, content_type, only_new=False)

    async def _put(self, key: str, body: Body, content_type: str, *, only_new: bool) -> bool:
        """Upload; False when `only_new` and the key is taken."""
        options = {
            "Bucket": self.bucket,
            "Key": self.key_prefix + key,
            "ContentType": content_type,
            "CacheControl": CACHE_FOREVER,
        }
        if not content_type.startswith("image/"):
            options["ContentDisposition"] = content_disposition(key)
        try:
            if body.whole is None:
                return await self._put_in_parts(key, body, options, only_new=only_new)
            if only_new:
                options["IfNoneMatch"] = "*"
            client = await self.client()
            async with failing_as("PutObject"):
                await client.put_object(Body=body.whole, ContentMD5=body.md5, **options)
        except S3Error as error:
            # 412: taken; 409: a concurrent conditional write to the same key is in flight.
            if only_new and error.status in (409, 412):
                return False
            if only_new and error.status == 501:
                hint = "set S3_CONDITIONAL_WRITES=false for this store"
                raise StorageError(f"{error}; {hint}") from error
            raise
        return True

    async def _put_in_parts(
        self, key: str, body: Body, options: dict[str, str], *, only_new: bool
    ) -> bool:
        """A multipart upload, completed with `If-None-Match: *` when `only_new` (after a HEAD,
        so that a taken key costs no upload, and a store that would ignore the header on
        completion still overwrites nothing a HEAD sees)."""
        if only_new and await self.exists(key):
            return False
        client = await self.client()
        async with failing_as("CreateMultipartUpload"):
            upload_id = (await client.create_multipart_upload(**options))["UploadId"]
        upload = {"Bucket": self.bucket, "Key": options["Key"], "UploadId": upload_id}
        part_size = max(self.part_size, math.ceil(body.size / MAX_PARTS))
        slots = asyncio.Semaphore(PART_CONCURRENCY)

        async def send(number: int) -> dict[str, Any]:
            async with slots:
                start = (number - 1) * part_size
                data, md5 = await asyncio.to_thread(body.part, start, part_size)
                async with failing_as("UploadPart"):
                    sent = await client.upload_part(
                        Body=data, ContentMD5=md5, PartNumber=number, **upload
                    )
            return {"PartNumber": number, "ETag": sent["ETag"]}

        try:
            async with asyncio.TaskGroup() as parts:
                sending = [
                    parts.create_task(send(number))
                    for number in range(1, math.ceil(body.size / part_size) + 1)
                ]
            complete: dict[str, Any] = {
                "MultipartUpload": {"Parts": [task.result() for task in sending]},
                **upload,
            }
            if only_new:
                complete["IfNoneMatch"] = "*"
            async with failing_as("CompleteMultipartUpload"):
                await client.complete_multipart_upload(**complete)
        except BaseException as error:
            await self._abort(upload)
            if isinstance(error, BaseExceptionGroup):  # a part failed: raise its error
                raise error.exceptions[0] from None
            raise
        return True

    async def _abort(self, upload: dict[str, str]) -> None:
        """Drop the parts sent (a lifecycle rule for incomplete uploads is the backstop)."""
        try:
            client = await self.client()
            async with failing_as("AbortMultipartUpload"):
                await asyncio.shield(client.abort_multipart_upload(**upload))
        except StorageError as error:
            logger.warning("S3 cannot abort the upload of %s: %s", upload["Key"], error)

    async def exists(self, key: str) -> bool:
        client = await self.client()
        try:
            async with failing_as("HeadObject"):
                await client.head_object(Bucket=self.bucket, Key=self.key_prefix + key)
        except S3Error as error:
            if error.status == 404:
                return False
            raise
        return True

    async def open(self, key: str) -> IO[bytes]:
        client = await self.client()
        copy = await asyncio.to_thread(tempfile.TemporaryFile)
        try:
            async with failing_as("GetObject"):
                response = await client.get_object(Bucket=self.bucket, Key=self.key_prefix + key)
                async with response["Body"] as body:
                    async for chunk in body.iter_chunks(DOWNLOAD_CHUNK):
                        await asyncio.to_thread(copy.write, chunk)
            await asyncio.to_thread(copy.seek, 0)
        except S3Error as error:
            await asyncio.to_thread(copy.close)
            if error.status == 404:
                raise MissingObject(f"no object {key!r} in bucket {self.bucket}") from error
            raise
        except BaseException:
            await asyncio.to_thread(copy.close)
            raise
        return copy

    async def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            await self._delete_batch(keys[start : start + DELETE_BATCH])

    async def _delete_batch(self, keys: list[str]) -> None:
        if not keys:
            return
        client = await self.client()
        async with failing_as("DeleteObjects"):
            response = await client.delete_objects(
                Bucket=self.bucket,
                Delete={
                    "Objects": [{"Key": self.key_prefix + key} for key in keys],
                    "Quiet": True,
                },
            )
        failed = [
            f"{error.get('Key')}: {error.get('Code')}"
            for error in response.get("Errors", [])
            if error.get("Code") != "NoSuchKey"
        ]
        if failed:
            raise S3Error("DeleteObjects", 200, "PartialFailure", "; ".join(failed))

    async def list_objects(self, prefix: str) -> AsyncIterator[StoredObject]:
        client = await self.client()
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket,
            Prefix=self.key_prefix + prefix,
            PaginationConfig={"PageSize": self.list_page_size},
        )
        async with failing_as("ListObjectsV2"):
            async for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"].removeprefix(self.key_prefix)
                    yield StoredObject(key, item["LastModified"].astimezone(UTC))

    def url(self, key: str, origin: str) -> str:
        prefix = self.url_prefix(origin)
        if prefix is not None:
            return f"{prefix}{quote(key)}"
        assert self.presigned_url_ttl is not None
        # Signed at a time rounded down to a quarter of the lifetime: a page shows the same URL
        # for a while (browsers and CDNs cache it), valid for at least three quarters of it.
        step = max(1, self.presigned_url_ttl // 4)
        at = datetime.fromtimestamp(int(datetime.now(UTC).timestamp()) // step * step, UTC)
        path = f"{self.bucket_path}/{quote(self.key_prefix + key, safe='/~')}"
        url = f"{self.scheme}://{self.host}{path}"
        return presign_get(url, self._signing_keys.get(), self.region, self.presigned_url_ttl, at)

    def unsigned_url_prefix(self) -> str:
        """The public base URL, else the bucket's plain URL (readable if the bucket is)."""
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(self.key_prefix)}"
        return f"{self.scheme}://{self.host}{self.bucket_path}/{quote(self.key_prefix)}"

    def url_prefix(self, origin: str) -> str | None:
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(self.key_prefix)}"
        if self.presigned_url_ttl:
            return None  # each URL carries its own signature: SQL cannot build them
        return f"{self.scheme}://{self.host}{self.bucket_path}/{quote(self.key_prefix)}"
