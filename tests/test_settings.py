"""Settings: safe embedded defaults, environment parsing, unsafe production refused."""

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_embedded_defaults(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///./var/portfolio.sqlite3"
    assert settings.page_size_default == 10
    assert settings.page_size_max == 100
    assert settings.thumbnail_sizes == [64, 128, 512, 1080]


def test_lists_come_from_comma_separated_environment_values(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://admin.example, https://www.example")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8")
    monkeypatch.setenv("THUMBNAIL_SIZES", "32,256")
    settings = Settings(_env_file=None)
    assert settings.cors_origins == ["https://admin.example", "https://www.example"]
    assert settings.trusted_proxies == ["10.0.0.0/8"]
    assert settings.thumbnail_sizes == [32, 256]


def test_unknown_time_zone_is_refused():
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(_env_file=None, time_zone="Mars/Olympus")


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"database_url": "sqlite+aiosqlite:///x.db"}, "PostgreSQL"),
        ({"cors_origins": ["*"]}, "CORS_ORIGINS"),
        ({"trusted_proxies": ["*"]}, "TRUSTED_PROXIES"),
    ],
)
def test_production_refuses_unsafe_settings(overrides, problem):
    safe = {"database_url": "postgresql+asyncpg://app@db/portfolio"}
    with pytest.raises(ValidationError, match=problem):
        Settings(_env_file=None, environment="production", **{**safe, **overrides})


def test_production_accepts_safe_settings():
    settings = Settings(
        _env_file=None,
        environment="production",
        database_url="postgresql+asyncpg://app@db/portfolio",
        cors_origins=["https://admin.example"],
    )
    assert not settings.is_sqlite


S3_VARIABLES = (
    "MEDIA_STORAGE", "S3_BUCKET", "S3_REGION", "S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY", "S3_SESSION_TOKEN", "S3_KEY_PREFIX", "AWS_REGION",
    "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
)  # fmt: skip


@pytest.fixture
def no_s3_environment(monkeypatch):
    for name in S3_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_s3_storage_needs_a_bucket_and_credentials(no_s3_environment):
    with pytest.raises(ValidationError, match="S3_BUCKET; S3_ACCESS_KEY_ID and S3_SECRET"):
        Settings(_env_file=None, media_storage="s3")
    settings = Settings(
        _env_file=None,
        media_storage="s3",
        s3_bucket="media",
        s3_access_key_id="id",
        s3_secret_access_key="hunter2",
        s3_key_prefix="/site/a/",
        s3_public_base_url="https://cdn.example/",
    )
    assert settings.s3_key_prefix == "site/a/"
    assert settings.s3_public_base_url == "https://cdn.example"
    assert "hunter2" not in repr(settings)


def test_the_standard_aws_variables_are_honoured(no_s3_environment, monkeypatch):
    monkeypatch.setenv("MEDIA_STORAGE", "s3")
    monkeypatch.setenv("S3_BUCKET", "media")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://minio:9000/")
    settings = Settings(_env_file=None)
    assert (settings.s3_access_key_id, settings.s3_region) == ("AKID", "eu-west-1")
    assert settings.s3_session_token is not None
    assert settings.s3_session_token.get_secret_value() == "token"
    assert settings.s3_endpoint_url == "http://minio:9000"
    monkeypatch.setenv("S3_REGION", "auto")  # the S3_ variable wins
    assert Settings(_env_file=None).s3_region == "auto"
