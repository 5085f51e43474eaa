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


SAFE_PRODUCTION = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://app@db/portfolio",
    "public_base_url": "https://api.example.org",
}


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"database_url": "sqlite+aiosqlite:///x.db"}, "PostgreSQL"),
        ({"cors_origins": ["*"]}, "CORS_ORIGINS"),
        ({"trusted_proxies": ["*"]}, "TRUSTED_PROXIES must list addresses"),
        ({"public_base_url": None}, "PUBLIC_BASE_URL .* or ALLOWED_HOSTS must name the host"),
        ({"public_base_url": "api.example.org"}, "PUBLIC_BASE_URL .* or ALLOWED_HOSTS"),
        ({"allowed_hosts": ["*"]}, "ALLOWED_HOSTS must list host names"),
        (
            {"public_base_url": None, "allowed_hosts": ["api.example.org"]},
            "PUBLIC_BASE_URL must be set: the public API takes its URLs from it",
        ),
        ({"trusted_proxies": ["10.0.0.0/8", "0.0.0.0/0"]}, "not every address"),
        ({"trusted_proxies": ["::/0"]}, "not every address"),
        ({"trusted_proxies": ["0.0.0.0/1", "128.0.0.0/1"]}, "not every address"),
        ({"trusted_proxies": ["0/0"]}, "'0/0' is not an address or network"),
    ],
)
def test_production_refuses_unsafe_settings(overrides, problem):
    with pytest.raises(ValidationError, match=problem):
        Settings(_env_file=None, **{**SAFE_PRODUCTION, **overrides})


def test_production_accepts_safe_settings():
    settings = Settings(
        _env_file=None,
        **SAFE_PRODUCTION,
        cors_origins=["https://admin.example"],
        trusted_proxies=["172.28.1.0/24", "fd00::/8"],
    )
    assert not settings.is_sqlite
    assert settings.allowed_hosts == ["api.example.org"]


def test_production_takes_allowed_hosts_beside_the_public_base_url(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "API.example.org:8443, .example.com,[::1]:8000")
    settings = Settings(_env_file=None, **SAFE_PRODUCTION)
    assert settings.allowed_hosts == ["api.example.org:8443", ".example.com", "[::1]:8000"]


@pytest.mark.parametrize(
    ("public_base_url", "host"),
    [
        ("https://API.example.org/", "api.example.org"),
        ("https://api.example.org:8443/v1", "api.example.org:8443"),
        ("https://api.example.org:443", "api.example.org"),  # browsers leave the port out
        ("http://[::1]:8000", "[::1]:8000"),
    ],
)
def test_production_allows_the_public_base_urls_host(public_base_url, host):
    settings = Settings(_env_file=None, **{**SAFE_PRODUCTION, "public_base_url": public_base_url})
    assert settings.allowed_hosts == [host]


def test_allowed_hosts_listed_win_over_the_public_base_url():
    settings = Settings(_env_file=None, **SAFE_PRODUCTION, allowed_hosts=["www.example.org"])
    assert settings.allowed_hosts == ["www.example.org"]


def test_outside_production_any_host_unless_allowed_hosts_are_listed():
    assert Settings(_env_file=None, public_base_url="https://api.example.org").allowed_hosts == []
    assert Settings(_env_file=None, allowed_hosts="a.example, *").allowed_hosts == [
        "a.example",
        "*",
    ]


@pytest.mark.parametrize(
    "entry", ["https://api.example.org", "api.example.org/", ".example.com:8443", "a b", "h:port"]
)
def test_allowed_hosts_are_host_names(entry):
    with pytest.raises(ValidationError, match="host names with an optional port"):
        Settings(_env_file=None, allowed_hosts=[entry])


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


def test_s3_storage_needs_a_bucket_and_keys_in_pairs(no_s3_environment):
    with pytest.raises(ValidationError, match=r"MEDIA_STORAGE=s3 needs S3_BUCKET \["):
        Settings(_env_file=None, media_storage="s3")
    with pytest.raises(ValidationError, match="S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together"):
        Settings(_env_file=None, media_storage="s3", s3_bucket="media", s3_access_key_id="id")
    with pytest.raises(ValidationError, match="S3_SESSION_TOKEN only with S3_ACCESS_KEY_ID"):
        Settings(_env_file=None, media_storage="s3", s3_bucket="media", s3_session_token="t")
    chain = Settings(_env_file=None, media_storage="s3", s3_bucket="media")  # roles, files
    assert (chain.s3_access_key_id, chain.s3_secret_access_key) == (None, None)
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
