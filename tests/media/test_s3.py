"""The S3 backend against a real S3 API on loopback (moto), whichever backend the app runs on:
authentication and the credential chain, conditional writes, multipart uploads, listing, object
headers, URL styles, retries and errors."""

import io
import json
import re
import threading
from contextlib import ExitStack, asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from app.media.storage import StorageError
from app.media.storage.s3 import MIB, Credentials, S3Error, S3Storage
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


ALLOW_S3 = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)


async def iam_user_keys(s3_server, name: str) -> Credentials:
    """Keys of a new IAM user allowed everything on S3 (moto checks them once asked to)."""
    async with s3_server.client("iam") as iam:
        await iam.create_user(UserName=name)
        await iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=ALLOW_S3)
        created = (await iam.create_access_key(UserName=name))["AccessKey"]
    return Credentials(created["AccessKeyId"], created["SecretAccessKey"])


@asynccontextmanager
async def authenticating(s3_server):
    """moto checks every signature meanwhile, as S3 does (admin keys are refused then)."""
    if not s3_server.is_moto:
        pytest.skip("creates IAM users and roles on moto")
    await s3_server.set_authentication(True)
    try:
        yield
    finally:
        await s3_server.set_authentication(False)


async def test_the_server_accepts_the_clients_requests(s3_server, bucket):
    keys = await iam_user_keys(s3_server, f"uploader-{bucket[-6:]}")
    signed = s3_server.storage(bucket, credentials=keys, key_prefix="p/")
    signed.multipart_threshold = signed.part_size = 5 * MIB
    forged = s3_server.storage(bucket, credentials=Credentials(keys.access_key_id, "wrong"))
    try:
        async with authenticating(s3_server):
            key = await signed.save(KEY, samples.photo((60, 40)), "image/jpeg")
            assert await signed.save(KEY, io.BytesIO(b"x" * 3_000_000), "image/jpeg") != key
            assert await signed.save(KEY, io.BytesIO(b"y" * 11 * MIB), "image/jpeg") != key
            assert await signed.exists(key)
            signed.conditional_writes = False
            assert await signed.save(KEY, b"fourth", "image/jpeg") not in (key, KEY)
            assert len([stored async for stored in signed.list_objects("core_media/")]) == 4
            await signed.delete([stored.key async for stored in signed.list_objects("")])
            assert [stored async for stored in signed.list_objects("")] == []
            with pytest.raises(S3Error) as refused:
                await forged.save("core_media/forged.txt", b"no", "text/plain")
    finally:
        await signed.aclose()
        await forged.aclose()
    assert refused.value.status == 403
    assert refused.value.code == "SignatureDoesNotMatch"


class RoleCredentials(BaseHTTPRequestHandler):
    """What an ECS agent answers at AWS_CONTAINER_CREDENTIALS_FULL_URI: a task role's keys."""

    answer = b""
    asked = 0

    def do_GET(self) -> None:
        type(self).asked += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def container_credentials_endpoint(credentials: dict[str, object]):
    RoleCredentials.answer = json.dumps(credentials, default=str).encode()
    RoleCredentials.asked = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), RoleCredentials)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v2/credentials"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("source", ["ecs-task-role", "web-identity"])
async def test_without_keys_the_aws_credential_chain_finds_a_roles(
    s3_server, bucket, tmp_path, monkeypatch, source
):
    """No S3_ACCESS_KEY_ID: botocore's chain finds a role's temporary credentials, from the ECS
    agent's endpoint or through STS AssumeRoleWithWebIdentity (EKS), for requests and for
    presigned URLs alike."""
    if not s3_server.is_moto:
        pytest.skip("creates IAM roles on moto")
    role = f"media-{source}-{bucket[-6:]}"
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:*"}
    ]}  # fmt: skip
    async with s3_server.client("iam") as iam:
        created = await iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
        await iam.put_role_policy(RoleName=role, PolicyName="s3", PolicyDocument=ALLOW_S3)
    arn = created["Role"]["Arn"]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with ExitStack() as stack:
        if source == "ecs-task-role":
            async with s3_server.client("sts") as sts:
                assumed = await sts.assume_role(RoleArn=arn, RoleSessionName="task")
            answer = {
                "AccessKeyId": assumed["Credentials"]["AccessKeyId"],
                "SecretAccessKey": assumed["Credentials"]["SecretAccessKey"],
                "Token": assumed["Credentials"]["SessionToken"],
                "Expiration": assumed["Credentials"]["Expiration"].isoformat(),
            }
            url = stack.enter_context(container_credentials_endpoint(answer))
            monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url)
        else:
            token = tmp_path / "token"
            token.write_text("a-service-account-token")
            monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
            monkeypatch.setenv("AWS_ROLE_ARN", arn)
            monkeypatch.setenv("AWS_ENDPOINT_URL_STS", s3_server.endpoint)
        storage = s3_server.storage(bucket, credentials=None, presigned_url_ttl=600)
        try:
            # Both chains ask before moto checks signatures (STS's call has none to check).
            first = await storage.save("core_media/by-role.txt", b"role", "text/plain")
            signed = storage.url(first, "")
            async with authenticating(s3_server):
                key = await storage.save("core_media/by-role.txt", b"again", "text/plain")
                listed = {stored.key async for stored in storage.list_objects("")}
                assert listed == {first, key}
        finally:
            await storage.aclose()
    query = dict(parse_qsl(urlsplit(signed).query))
    assert query["X-Amz-Credential"].startswith("ASIA")  # temporary keys, with their token
    assert query["X-Amz-Security-Token"]
    if source == "ecs-task-role":
        assert RoleCredentials.asked == 2  # the client's chain and the URL signer's


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

    def ignore_if_none_match(params: dict[str, object], **kwargs: object) -> None:
        params.pop("IfNoneMatch", None)

    client = await storage.client()
    client.meta.events.register("provide-client-params.s3.PutObject", ignore_if_none_match)
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


@pytest.mark.parametrize("conditional", [True, False], ids=["if-none-match", "head-first"])
async def test_large_files_go_up_in_parts_and_keep_their_names_apart(
    s3_server, bucket, conditional
):
    storage = s3_server.storage(
        bucket, multipart_threshold=5 * MIB, part_size=5 * MIB, conditional_writes=conditional
    )
    large = samples.PDF + bytes(range(256)) * (11 * MIB // 256)  # three parts
    try:
        first = await storage.save("core_media/big.pdf", io.BytesIO(large), "application/pdf")
        second = await storage.save("core_media/big.pdf", large, "application/pdf")
        assert first == "core_media/big.pdf"
        assert re.fullmatch(r"core_media/big_[A-Za-z0-9]{7}\.pdf", second)
        async with httpx.AsyncClient() as client:
            response = await client.get(storage.url(first, ""))
        assert response.content == large
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-disposition"].startswith('attachment; filename="big.pdf"')
        client = await storage.client()
        assert "ETag" in await client.head_object(Bucket=bucket, Key=first)
    finally:
        await storage.aclose()


async def test_a_multipart_upload_completes_only_as_a_new_object(s3_server, bucket, monkeypatch):
    """Two uploads racing past the HEAD: the completion's `If-None-Match: *` refuses the second,
    whose parts are dropped, and it goes on under another name."""
    storage = s3_server.storage(bucket, multipart_threshold=5 * MIB, part_size=5 * MIB)
    try:
        await storage.put("core_media/race.bin", b"first", "application/octet-stream")
        monkeypatch.setattr(storage, "exists", mock.AsyncMock(return_value=False))
        key = await storage.save("core_media/race.bin", b"z" * 6 * MIB, "application/octet-stream")
        assert key != "core_media/race.bin"
        client = await storage.client()
        assert "Uploads" not in await client.list_multipart_uploads(Bucket=bucket)
        async with httpx.AsyncClient() as anonymous:
            assert (await anonymous.get(storage.url("core_media/race.bin", ""))).content == b"first"
    finally:
        await storage.aclose()


async def test_a_failed_part_fails_the_upload_and_leaves_no_parts(s3_server, bucket):
    storage = s3_server.storage(
        bucket, multipart_threshold=5 * MIB, part_size=5 * MIB, max_attempts=1
    )
    await s3_server.break_puts(after=1, mode="error")
    try:
        with pytest.raises(S3Error, match="UploadPart: 500 InternalError"):
            await storage.put("core_media/broken.bin", b"b" * 11 * MIB, "image/png")
        client = await storage.client()
        assert "Uploads" not in await client.list_multipart_uploads(Bucket=bucket)
        assert [stored.key async for stored in storage.list_objects("")] == []
    finally:
        await s3_server.heal()
        await storage.aclose()


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


def test_a_presigned_url_is_the_one_botocore_makes_at_the_start_of_its_quarter():
    import botocore.session
    from botocore.config import Config

    keys = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token/+=")
    storage = S3Storage(
        bucket="media",
        credentials=keys,
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:9000",
        addressing_style="path",
        key_prefix="site/",
        presigned_url_ttl=3600,
    )
    now = datetime(2026, 1, 13, 12, 40, 5, tzinfo=UTC)
    with mock.patch("app.media.storage.s3.datetime", wraps=datetime) as clock:
        clock.now.return_value = now
        url = storage.url(KEY, "")
    client = botocore.session.get_session().create_client(
        "s3",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9000",
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        aws_session_token=keys.session_token,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    quarter = datetime(2026, 1, 13, 12, 30, tzinfo=UTC).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=quarter):
        expected = client.generate_presigned_url(
            "get_object", Params={"Bucket": "media", "Key": f"site/{KEY}"}, ExpiresIn=3600
        )
    assert urlsplit(url).path == urlsplit(expected).path
    assert dict(parse_qsl(urlsplit(url).query)) == dict(parse_qsl(urlsplit(expected).query))


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


@pytest.mark.parametrize("mode", ["error", "slow-down", "too-many", "drop"])
async def test_a_transient_failure_is_tried_again(s3_server, storage, mode):
    """500, 503 SlowDown, 429 and a lost connection: botocore tries again after a random wait."""
    await s3_server.break_puts(after=0, mode=mode, count=1)
    try:
        key = await storage.save(f"core_media/retried-{mode}.txt", b"at last", "text/plain")
        assert await s3_server.failed_puts() == 1
    finally:
        await s3_server.heal()
    assert key == f"core_media/retried-{mode}.txt"


async def test_failures_name_the_s3_error(s3_server, bucket):
    missing = s3_server.storage("no-such-bucket-here", max_attempts=1)
    try:
        with pytest.raises(StorageError, match="NoSuchBucket"):
            await missing.save("core_media/a.txt", b"a", "text/plain")
        with pytest.raises(StorageError, match="NoSuchBucket"):
            _ = [stored async for stored in missing.list_objects("")]
    finally:
        await missing.aclose()
    storage = s3_server.storage(bucket, max_attempts=2)
    await s3_server.break_puts(after=0)
    try:
        with pytest.raises(S3Error) as failed:
            await storage.put("core_media/a.txt", b"a", "text/plain")
        assert await s3_server.failed_puts() == 2  # S3_MAX_ATTEMPTS, not forever
    finally:
        await s3_server.heal()
        await storage.aclose()
    assert (failed.value.status, failed.value.code) == (500, "InternalError")
    unreachable = S3Storage(
        bucket="media",
        credentials=Credentials("id", "secret"),
        endpoint_url="http://127.0.0.1:9",  # nothing listens on the discard port
        max_attempts=1,
    )
    try:
        with pytest.raises(StorageError, match="EndpointConnectionError"):
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
