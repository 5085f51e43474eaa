"""The S3 backend against a real S3 API on loopback (moto), whichever backend the app runs on:
signatures, conditional writes, listing, object headers, URL styles, retries and errors."""

import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from app.media.storage import StorageError
from app.media.storage.s3 import S3Error, S3Storage
from app.media.storage.sigv4 import Credentials, Signer, canonical_query, uri_encode
from tests.media import samples
from tests.media.conftest import upload
from tests.object_storage import bucket_name

KEY = "core_media/2026/01/13/پیک_موتوری (1)~x.jpg"


@pytest.fixture
async def bucket(s3_server):
    """A bucket of the test's own, so that listings hold only what the test stored."""
    name = bucket_name()
    await s3_server.create_bucket(name)
    yield name
    await s3_server.remove_bucket(name)


@pytest.fixture
async def storage(s3_server, bucket):
    storage = s3_server.storage(bucket, key_prefix="site/")
    yield storage
    await storage.aclose()


@asynccontextmanager
async def serving_from(app, storage):
    """The app on another storage for one test."""
    original = app.state.storage
    app.state.storage = storage
    try:
        yield
    finally:
        app.state.storage = original
        await storage.aclose()


@pytest.mark.parametrize("token", [None, "session/token+=="])
def test_signatures_are_the_ones_botocore_makes(token):
    from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    now = datetime(2026, 1, 13, 12, 30, 5, tzinfo=UTC)
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    boto_credentials = BotoCredentials(
        credentials.access_key_id, credentials.secret_access_key, token
    )
    signer = Signer(credentials, "eu-west-1")
    path = "/bucket/" + uri_encode(KEY, keep_slash=True)
    query = canonical_query([("list-type", "2"), ("prefix", "a b/ی"), ("token", "x+y/z=")])
    headers = {"Content-Type": "image/jpeg", "If-None-Match": "*"}
    body = b"\xff\xd8 a body"
    payload_hash = hashlib.sha256(body).hexdigest()
    signed = signer.sign_headers("PUT", "127.0.0.1:9000", path, query, headers, payload_hash, now)
    request = AWSRequest(
        method="PUT",
        url=f"http://127.0.0.1:9000{path}?{query}",
        data=body,
        headers=headers,
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=now.replace(tzinfo=None)):
        S3SigV4Auth(boto_credentials, "s3", "eu-west-1").add_auth(request)
    assert signed["authorization"] == request.headers["Authorization"]

    presigned = signer.presign("GET", "http", "127.0.0.1:9000", path, 3600, now)
    request = AWSRequest(method="GET", url=f"http://127.0.0.1:9000{path}")
    with mock.patch("botocore.auth.get_current_datetime", return_value=now.replace(tzinfo=None)):
        S3SigV4QueryAuth(boto_credentials, "s3", "eu-west-1", expires=3600).add_auth(request)
    assert urlsplit(presigned).path == urlsplit(request.url).path
    assert dict(parse_qsl(urlsplit(presigned).query)) == dict(
        parse_qsl(urlsplit(request.url).query)
    )


def xml_text(response: httpx.Response, name: str) -> str:
    found = [e.text for e in ET.fromstring(response.content).iter() if e.tag.endswith(name)]
    return found[0] or ""


async def test_the_server_accepts_the_signatures(s3_server, bucket):
    """moto checks every signature here (as S3 does) against an IAM user's keys."""
    if not s3_server.is_moto:
        pytest.skip("creates an IAM user on moto")
    user = f"uploader-{bucket[-6:]}"
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    async def iam(action, **params):
        query = [("Action", action), ("Version", "2010-05-08"), *params.items()]
        response = await s3_server.request("POST", "/", params=query, service="iam")
        assert response.status_code == 200, response.text
        return response

    await iam("CreateUser", UserName=user)
    await iam("PutUserPolicy", UserName=user, PolicyName="s3", PolicyDocument=policy)
    created = await iam("CreateAccessKey", UserName=user)
    keys = Credentials(xml_text(created, "AccessKeyId"), xml_text(created, "SecretAccessKey"))
    signed = s3_server.storage(bucket, credentials=keys, key_prefix="p/")
    forged = s3_server.storage(bucket, credentials=Credentials(keys.access_key_id, "wrong"))
    await s3_server.set_authentication(True)
    try:
        key = await signed.save(KEY, samples.photo((60, 40)), "image/jpeg")
        assert await signed.save(KEY, io.BytesIO(b"x" * 3_000_000), "image/jpeg") != key
        assert await signed.exists(key)
        signed.conditional_writes = False
        assert await signed.save(KEY, b"third", "image/jpeg") not in (key, KEY)
        assert len([stored async for stored in signed.list_objects("core_media/")]) == 3
        await signed.delete([stored.key async for stored in signed.list_objects("")])
        assert [stored async for stored in signed.list_objects("")] == []
        with pytest.raises(S3Error) as refused:
            await forged.save("core_media/forged.txt", b"no", "text/plain")
        assert refused.value.status == 403
        assert refused.value.code == "SignatureDoesNotMatch"
    finally:
        await s3_server.set_authentication(False)
        await signed.aclose()
        await forged.aclose()


@pytest.mark.parametrize("conditional", [True, False], ids=["if-none-match", "head-first"])
async def test_a_taken_key_gets_a_random_suffix(storage, conditional):
    storage.conditional_writes = conditional
    first = await storage.save("core_media/twin.jpg", b"one", "image/jpeg")
    second = await storage.save("core_media/twin.jpg", b"two", "image/jpeg")
    assert first == "core_media/twin.jpg"
    assert re.fullmatch(r"core_media/twin_[A-Za-z0-9]{7}\.jpg", second)
    async with httpx.AsyncClient() as client:
        assert (await client.get(storage.url(first, ""))).content == b"one"
        assert (await client.get(storage.url(second, ""))).content == b"two"


async def test_a_store_that_ignores_if_none_match_never_overwrites_a_file(storage, caplog):
    """A second upload of a taken name must not replace the first file (and then delete it
    when that upload fails): the store is probed once, and written to with a HEAD first."""

    async def ignore_if_none_match(request: httpx.Request) -> None:
        request.headers.pop("if-none-match", None)

    storage._client = httpx.AsyncClient(event_hooks={"request": [ignore_if_none_match]})
    first = await storage.save("core_media/twin.jpg", b"one", "image/jpeg")
    second = await storage.save("core_media/twin.jpg", b"two", "image/jpeg")
    assert first == "core_media/twin.jpg"
    assert second != first
    assert storage.conditional_writes is False
    assert "ignores If-None-Match" in caplog.text
    async with httpx.AsyncClient() as client:
        assert (await client.get(storage.url(first, ""))).content == b"one"
    assert [stored.key async for stored in storage.list_objects("")] != []
    assert not [stored async for stored in storage.list_objects(".portfolio-api/")]


async def test_a_store_that_honours_if_none_match_keeps_conditional_writes(storage):
    await storage.save("core_media/single.jpg", b"one", "image/jpeg")
    assert storage.conditional_writes is True
    assert not [stored async for stored in storage.list_objects(".portfolio-api/")]


async def test_listing_pages_through_continuation_tokens_inside_the_prefix(s3_server, storage):
    outside = s3_server.storage(storage.bucket, key_prefix="other/")
    await outside.put("core_media/elsewhere.txt", b"not ours", "text/plain")
    await outside.aclose()
    keys = {f"core_media/2026/01/0{day}/file.txt" for day in range(1, 6)}
    for key in keys:
        await storage.put(key, key.encode(), "text/plain")
    storage.list_page_size = 2
    listed = [stored async for stored in storage.list_objects("core_media/")]
    assert {stored.key for stored in listed} == keys
    assert all(
        abs(stored.modified_at - datetime.now(UTC)) < timedelta(minutes=5) for stored in listed
    )
    await storage.delete([*sorted(keys), "core_media/never-stored.txt"])
    assert [stored async for stored in storage.list_objects("")] == []


async def test_objects_carry_their_type_caching_and_disposition(storage):
    large = io.BytesIO(samples.PDF + b"%" * (3 * 1024 * 1024))  # streamed a megabyte at a time
    stored = {
        "core_media/a/photo.jpg": (b"\xff\xd8\xff jpeg", "image/jpeg"),
        "core_media/a/گزارش_سالانه.pdf": (large, "application/pdf"),
        "core_media/a/notes.txt": (b"plain", "text/plain"),
    }
    async with httpx.AsyncClient() as client:
        for key, (content, content_type) in stored.items():
            assert await storage.save(key, content, content_type) == key
            response = await client.get(storage.url(key, ""))
            assert response.status_code == 200
            expected = content if isinstance(content, bytes) else content.getvalue()
            assert response.content == expected
            assert response.headers["content-type"] == content_type
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            disposition = response.headers.get("content-disposition")
            if content_type.startswith("image/"):
                assert disposition is None
            elif key.endswith(".pdf"):
                assert disposition == (
                    "attachment; filename=\"file.pdf\"; filename*=UTF-8''"
                    "%DA%AF%D8%B2%D8%A7%D8%B1%D8%B4_%D8%B3%D8%A7%D9%84%D8%A7%D9%86%D9%87.pdf"
                )
            else:
                assert (
                    disposition == "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"
                )


def test_url_styles():
    keys = Credentials("id", "secret")
    aws = S3Storage(bucket="media", credentials=keys, region="eu-west-1", key_prefix="site/")
    assert aws.url_prefix("") == "https://media.s3.eu-west-1.amazonaws.com/site/"
    assert aws.url(KEY, "").startswith("https://media.s3.eu-west-1.amazonaws.com/site/core_media/")
    dotted = S3Storage(bucket="media.example.com", credentials=keys, region="eu-west-1")
    assert dotted.url_prefix("") == "https://s3.eu-west-1.amazonaws.com/media.example.com/"
    minio = S3Storage(bucket="media", credentials=keys, endpoint_url="http://minio:9000")
    assert minio.url_prefix("") == "http://minio:9000/media/"
    virtual = S3Storage(
        bucket="media",
        credentials=keys,
        endpoint_url="https://r2.example:443",
        addressing_style="virtual",
    )
    assert virtual.url_prefix("") == "https://media.r2.example/"
    public = S3Storage(
        bucket="media", credentials=keys, key_prefix="site/", public_base_url="https://cdn.example"
    )
    assert public.url(KEY, "") == (
        "https://cdn.example/site/core_media/2026/01/13/"
        "%D9%BE%DB%8C%DA%A9_%D9%85%D9%88%D8%AA%D9%88%D8%B1%DB%8C%20%281%29~x.jpg"
    )
    signed = S3Storage(bucket="media", credentials=keys, presigned_url_ttl=3600)
    assert signed.url_prefix("") is None  # the database cannot build signed URLs


def test_presigned_urls_stay_the_same_for_a_quarter_of_their_lifetime():
    storage = S3Storage(bucket="media", credentials=Credentials("id", "s"), presigned_url_ttl=3600)
    start = datetime(2026, 1, 13, 12, 0, tzinfo=UTC)

    def url_at(moment):
        with mock.patch("app.media.storage.s3.datetime", wraps=datetime) as clock:
            clock.now.return_value = moment
            return storage.url("core_media/a.jpg", "")

    first = url_at(start + timedelta(seconds=10))
    assert url_at(start + timedelta(minutes=14)) == first
    assert url_at(start + timedelta(minutes=15)) != first
    query = dict(parse_qsl(urlsplit(first).query))
    assert (query["X-Amz-Date"], query["X-Amz-Expires"]) == ("20260113T120000Z", "3600")


async def test_private_bucket_files_get_presigned_urls_everywhere(
    app, s3_server, s3_bucket, media_client, admin_client
):
    """No URL prefix: lists and nested portfolios (JSON built in SQL on PostgreSQL) fall back
    to the Python serialisers, which sign each URL."""
    storage = s3_server.storage(s3_bucket, key_prefix="private/", presigned_url_ttl=600)
    async with serving_from(app, storage):
        body = (await upload(media_client, samples.photo((120, 80)), "secret.jpg")).json()
        listed = (await media_client.get("/api/media/")).json()["results"][0]
        portfolio = (
            await admin_client.post(
                "/api/portfolios/",
                json={"title": "Signed", "image": body["id"], "images": [body["id"]]},
            )
        ).json()
        fetched = (await admin_client.get(f"/api/portfolios/{portfolio['id']}")).json()
        page = (await admin_client.get("/api/portfolios/")).json()["results"][0]
    urls = [
        body["f"],
        listed["f"],
        fetched["image_data"]["f"],
        fetched["images_data"][0]["f"],
        page["image_data"]["f"],
        *(thumbnail["f"] for thumbnail in fetched["image_data"]["thumbnails"]),
    ]
    for url in urls:
        assert "X-Amz-Signature=" in url
        assert "/private/core_media/" in url
    async with httpx.AsyncClient() as client:
        response = await client.get(fetched["image_data"]["f"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"


async def test_f_uses_the_public_base_url(app, s3_server, s3_bucket, media_client):
    storage = s3_server.storage(
        s3_bucket, key_prefix="public/", public_base_url="https://cdn.example.com/media"
    )
    async with serving_from(app, storage):
        body = (await upload(media_client, samples.PDF, "brochure.pdf")).json()
    assert re.fullmatch(
        r"https://cdn\.example\.com/media/public/core_media/\d{4}/\d\d/\d\d/brochure\.pdf",
        body["f"],
    )


async def test_a_transient_failure_is_tried_again(s3_server, storage):
    for mode in ("error", "drop"):
        await s3_server.break_puts(after=0, mode=mode, count=1)
        try:
            key = await storage.save(f"core_media/retried-{mode}.txt", b"at last", "text/plain")
        finally:
            await s3_server.heal()
        assert key == f"core_media/retried-{mode}.txt"


async def test_failures_name_the_s3_error(s3_server, storage):
    missing = s3_server.storage("no-such-bucket-here", max_attempts=1)
    try:
        with pytest.raises(StorageError, match="NoSuchBucket"):
            await missing.save("core_media/a.txt", b"a", "text/plain")
        with pytest.raises(StorageError, match="NoSuchBucket"):
            _ = [stored async for stored in missing.list_objects("")]
    finally:
        await missing.aclose()
    storage.max_attempts = 2
    await s3_server.break_puts(after=0)
    try:
        with pytest.raises(S3Error) as failed:
            await storage.save("core_media/a.txt", b"a", "text/plain")
    finally:
        await s3_server.heal()
    assert (failed.value.status, failed.value.code) == (500, "InternalError")
    unreachable = S3Storage(
        bucket="media",
        credentials=Credentials("id", "secret"),
        endpoint_url="http://127.0.0.1:9",  # nothing listens on the discard port
        max_attempts=1,
    )
    try:
        with pytest.raises(StorageError, match="ConnectError"):
            await unreachable.save("core_media/a.txt", b"a", "text/plain")
    finally:
        await unreachable.aclose()


async def test_the_app_closes_the_storage_connections_when_it_stops(settings, s3_server, s3_bucket):
    from app.main import create_app

    app = create_app(settings)
    storage = app.state.storage = s3_server.storage(s3_bucket, key_prefix="lifespan/")
    async with app.router.lifespan_context(app):
        await storage.put("core_media/a.txt", b"a", "text/plain")
        assert storage._client is not None
    assert storage._client is None


def test_the_app_serves_no_local_media_when_files_live_in_a_bucket(settings):
    from pydantic import SecretStr

    from app.main import create_app

    on_s3 = settings.model_copy(
        update={
            "media_storage": "s3",
            "s3_bucket": "b",
            "s3_endpoint_url": "http://127.0.0.1:9",
            "s3_access_key_id": "key",
            "s3_secret_access_key": SecretStr("secret"),
        }
    )
    mounted = {getattr(route, "name", None) for route in create_app(on_s3).routes}
    assert "media" not in mounted
    on_disk = settings.model_copy(update={"media_storage": "local"})
    assert "media" in {getattr(route, "name", None) for route in create_app(on_disk).routes}
