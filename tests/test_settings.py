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
