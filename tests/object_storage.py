"""A real S3 API on loopback for the tests: moto's server, started here in a subprocess.

`TEST_STORAGE=s3` runs the session's app on S3 (the `settings` fixture of tests/conftest.py):
`make test-s3` runs the media tests so. `TEST_S3_ENDPOINT_URL` (with `TEST_S3_ACCESS_KEY_ID`
and `TEST_S3_SECRET_ACCESS_KEY`) uses a running S3-compatible server instead, such as the MinIO
of `docker compose --profile s3 up`; each session then makes a bucket of its own there.
"""

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from app.media.storage.s3 import Credentials, S3Storage

ROOT = Path(__file__).resolve().parent.parent
TEST_STORAGE = os.environ.get("TEST_STORAGE", "local")
if TEST_STORAGE not in ("local", "s3"):
    raise RuntimeError(f"TEST_STORAGE must be local or s3, not {TEST_STORAGE!r}")
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class S3Server:
    """An S3 endpoint and an administrator's credentials for it."""

    def __init__(self, endpoint: str, credentials: Credentials, *, is_moto: bool) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.is_moto = is_moto

    def storage_settings(self, bucket: str, **overrides: Any) -> dict[str, Any]:
        """Settings keyword arguments for an app on this server's `bucket`."""
        return {
            "media_storage": "s3",
            "s3_bucket": bucket,
            "s3_endpoint_url": self.endpoint,
            "s3_region": REGION,
            "s3_access_key_id": self.credentials.access_key_id,
            "s3_secret_access_key": self.credentials.secret_access_key,
            "s3_addressing_style": "path",
            **overrides,
        }

    def storage(self, bucket: str, **options: Any) -> S3Storage:
        return S3Storage(
            bucket=bucket,
            credentials=options.pop("credentials", self.credentials),
            region=REGION,
            endpoint_url=self.endpoint,
            addressing_style="path",
            **options,
        )

    @asynccontextmanager
    async def client(
        self, service: str = "s3", credentials: Credentials | None = None
    ) -> AsyncIterator[Any]:
        """A client of this server, for what the app never does (buckets, policies, IAM)."""
        keys = credentials or self.credentials
        async with get_session().create_client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
            config=AioConfig(s3={"addressing_style": "path"}),
        ) as client:
            yield client

    async def create_bucket(self, name: str, *, public_read: bool = True) -> None:
        async with self.client() as s3:
            await s3.create_bucket(Bucket=name)
            if public_read:  # `f` is then the bucket URL, fetched anonymously
                statement = {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{name}/*",
                }
                policy = {"Version": "2012-10-17", "Statement": [statement]}
                await s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))

    async def remove_bucket(self, name: str) -> None:
        storage = self.storage(name)
        try:
            keys = [stored.key async for stored in storage.list_objects("")]
            await storage.delete(keys)
        finally:
            await storage.aclose()
        async with self.client() as s3:
            with suppress(ClientError):  # left to the server's end (moto) or its owner
                await s3.delete_bucket(Bucket=name)

    async def break_puts(self, after: int, mode: str = "error", count: int | None = None) -> None:
        """Let `after` object PUTs (parts included) through, then fail `count` of them (all:
        None): "error" (500), "slow-down" (503 SlowDown), "too-many" (429) or "drop"."""
        if not self.is_moto:
            pytest.skip("breaking the bucket needs the tests' own moto server")
        options = {"after": after, "mode": mode, "count": count}
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{self.endpoint}/_faults", json=options)
        assert response.status_code == 204

    async def failed_puts(self) -> int:
        """How many PUTs the switch failed since it was last set."""
        async with httpx.AsyncClient() as client:
            return int((await client.get(f"{self.endpoint}/_faults")).json()["failed"])

    async def heal(self) -> None:
        async with httpx.AsyncClient() as client:
            await client.delete(f"{self.endpoint}/_faults")

    async def set_authentication(self, enabled: bool) -> None:
        """moto checks signatures only when asked (an IAM user's keys, not the admin's)."""
        count = b"0" if enabled else b"inf"
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{self.endpoint}/moto-api/reset-auth", content=count)
        assert response.status_code == 200


@contextmanager
def moto_server(log_folder: Path) -> Iterator[S3Server]:
    port = free_port()
    with (log_folder / "moto.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.moto_server", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"moto did not start; see {log_folder / 'moto.log'}"
                    ) from None
                time.sleep(0.1)
        yield S3Server(f"http://127.0.0.1:{port}", Credentials("testing", "testing"), is_moto=True)
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def s3_server_for_tests(log_folder: Path) -> Iterator[S3Server]:
    endpoint = os.environ.get("TEST_S3_ENDPOINT_URL")
    if endpoint:
        credentials = Credentials(
            os.environ["TEST_S3_ACCESS_KEY_ID"], os.environ["TEST_S3_SECRET_ACCESS_KEY"]
        )
        yield S3Server(endpoint.rstrip("/"), credentials, is_moto=False)
        return
    with moto_server(log_folder) as server:
        yield server


def bucket_name() -> str:
    return f"portfolio-test-{uuid.uuid4().hex[:12]}"
