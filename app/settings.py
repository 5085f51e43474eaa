"""Service configuration, read once from the environment and an optional `.env` file."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]
CommaIntList = Annotated[list[int], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"

    database_url: str = "sqlite+aiosqlite:///./var/portfolio.sqlite3"
    # Overflow connections close when returned, so the pool should cover a worker's usual
    # concurrency: reconnecting (and re-preparing statements) under load halves throughput.
    database_pool_size: int = Field(default=20, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    database_pool_timeout: float = Field(default=5.0, gt=0)
    database_connect_timeout: float = Field(default=5.0, gt=0)
    database_ping_after: float = Field(default=10.0, ge=0)  # idle seconds before a checkout ping
    sqlite_busy_timeout: float = Field(default=30.0, gt=0)

    # Absolute URLs in responses: taken from this when set, else from the request.
    public_base_url: str | None = None
    trusted_proxies: CommaList = ["127.0.0.1", "::1"]
    cors_origins: CommaList = []
    time_zone: str = "UTC"

    login_token_ttl_days: int = Field(default=30, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_failures_per_username: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)

    page_size_default: int = Field(default=10, ge=1)
    page_size_max: int = Field(default=100, ge=1)

    media_root: Path = Path("var/media")
    media_url: str = "/media/"
    media_base_url: str | None = None
    upload_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    json_body_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    image_max_pixels: int = Field(default=40_000_000, ge=1)
    thumbnail_sizes: CommaIntList = [64, 128, 512, 1080]

    @field_validator("trusted_proxies", "cors_origins", "thumbnail_sizes", mode="before")
    @classmethod
    def split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("time_zone")
    @classmethod
    def known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("public_base_url", "media_base_url")
    @classmethod
    def strip_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None

    @model_validator(mode="after")
    def refuse_unsafe_production(self) -> "Settings":
        if self.environment != "production":
            return self
        problems = []
        if self.is_sqlite:
            problems.append("DATABASE_URL must point at PostgreSQL, not SQLite")
        if "*" in self.cors_origins:
            problems.append("CORS_ORIGINS must list origins, not '*'")
        if "*" in self.trusted_proxies:
            problems.append("TRUSTED_PROXIES must list addresses, not '*'")
        if problems:
            raise ValueError("unsafe production settings: " + "; ".join(problems))
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
