"""Service configuration, read once from the environment and an optional `.env` file."""

import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]
CommaIntList = Annotated[list[int], NoDecode]
CommaFloatList = Annotated[list[float], NoDecode]

# api.example.com, api.example.com:8443, [::1]:8000, or .example.com (it and its subdomains).
_HOST_ENTRY = re.compile(
    r"\.[a-z0-9-]+(\.[a-z0-9-]+)*|([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"
    # Unset: JSON lines, but readable lines when stdout is a terminal (`make run`).
    log_format: Literal["json", "console"] | None = None

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
    # Hosts answered (400 for others): empty means any, but production allows PUBLIC_BASE_URL's.
    allowed_hosts: CommaList = []
    # Clients answered at GET /metrics (404 for others): addresses or networks, as seen after
    # TRUSTED_PROXIES' forwarded headers. Empty: nobody.
    metrics_allowed: CommaList = ["127.0.0.1", "::1"]
    cors_origins: CommaList = []
    time_zone: str = "UTC"

    login_token_ttl_days: int = Field(default=30, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    # Failed logins within the window: for one username from one address, from one address
    # for any username, and for one username from every address (against spread guessing).
    login_failures_per_username_and_address: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_failures_per_username: int = Field(default=100, ge=1)

    # The public API (/api/public/): how long caches keep a body, and this process's own cache.
    public_max_age: int = Field(default=60, ge=0)
    public_swr: int = Field(default=300, ge=0)  # stale-while-revalidate
    public_sie: int = Field(default=86400, ge=0)  # stale-if-error
    public_cache_max_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # Origins allowed to read the public API from a browser; empty: any (`*`, no credentials).
    public_cors_origins: CommaList = []
    # Public requests a minute per client address, per process; 0: no limit (the gateway's job).
    public_rate_limit: int = Field(default=0, ge=0)

    page_size_default: int = Field(default=10, ge=1)
    page_size_max: int = Field(default=100, ge=1)

    media_root: Path = Path("var/media")
    media_url: str = "/media/"
    media_base_url: str | None = None
    upload_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    json_body_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    # At most Pillow's own limit (89,478,485), which stays in force behind this one.
    image_max_pixels: int = Field(default=40_000_000, ge=1, le=89_478_485)
    thumbnail_sizes: CommaIntList = [64, 128, 512, 1080]
    # Modern renderings of each thumbnail box, made by a job after the upload (empty: none).
    media_variant_formats: Annotated[list[Literal["webp", "avif"]], NoDecode] = ["webp", "avif"]
    media_webp_quality: int = Field(default=80, ge=1, le=100)
    media_avif_quality: int = Field(default=60, ge=1, le=100)
    media_avif_speed: int = Field(default=9, ge=0, le=10)  # 0 slowest and smallest, 10 fastest
    # "idle": image and password threads give way at once to any other thread that wakes
    # (Linux); "normal": they share the cores fairly, for hosts with other busy programs.
    cpu_work_priority: Literal["idle", "normal"] = Field(
        default="idle",
        validation_alias=AliasChoices("cpu_work_priority", "image_work_priority"),
    )

    # Where media bytes live: MEDIA_ROOT, or an S3-compatible bucket (AWS S3, MinIO, R2, Ceph).
    media_storage: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    # Unset: AWS (https://s3.<region>.amazonaws.com). The standard AWS variables are honoured.
    s3_endpoint_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("s3_endpoint_url", "aws_endpoint_url_s3", "aws_endpoint_url"),
    )
    s3_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("s3_region", "aws_region", "aws_default_region"),
    )
    # Static keys, optional: unset, the AWS credential chain finds them (shared credentials
    # and config files, web identity, ECS task role, EC2 instance metadata).
    s3_access_key_id: str | None = Field(
        default=None, validation_alias=AliasChoices("s3_access_key_id", "aws_access_key_id")
    )
    s3_secret_access_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("s3_secret_access_key", "aws_secret_access_key")
    )
    s3_session_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("s3_session_token", "aws_session_token")
    )
    # "auto": virtual-hosted (bucket.s3.<region>.amazonaws.com) on AWS, path-style elsewhere.
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    s3_key_prefix: str = ""  # e.g. "portfolio/": keys become portfolio/core_media/...
    # `f` is this + the key when set (bucket website, CDN); else presigned or bucket URLs.
    # A bucket's (or its CDN's) public URL; MEDIA_PUBLIC_URL, as the public API's contract names it.
    s3_public_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("s3_public_base_url", "media_public_url")
    )
    s3_presigned_urls: bool = False  # private bucket: `f` is a presigned GET URL
    s3_presigned_url_ttl: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # PUT with If-None-Match: * so that no upload overwrites another (AWS since 2024, MinIO,
    # R2); false: a HEAD before each PUT, for stores that ignore the header.
    s3_conditional_writes: bool = True
    s3_timeout: float = Field(default=30.0, gt=0)
    # Tries per request: 5xx, 429, SlowDown and lost connections are tried again after a
    # random wait (botocore's "standard" retries: full jitter, up to 1, 2, 4 ... seconds).
    s3_max_attempts: int = Field(default=3, ge=1, le=10)

    # `import-original` (API.md, "Moving from the original deployment"): files downloaded at
    # once, seconds before a request to the original is given up, and tries per request (5xx,
    # timeouts and lost connections are tried again after 0.5, 1, 2 ... seconds).
    # At most 16: each download is then thumbnailed in the image threads, which take 16 a thread.
    import_downloads: int = Field(default=4, ge=1, le=16)
    import_timeout: float = Field(default=30.0, gt=0)
    import_attempts: int = Field(default=4, ge=1, le=10)

    # Change events and webhooks (API.md, "Change events and webhooks").
    # Unset: private, loopback, link-local and metadata addresses are refused in production only.
    webhook_allow_private: bool | None = None
    webhook_timeout: float = Field(default=10.0, gt=0)
    # Seconds before each retry after a failed attempt (jittered); then the delivery is failed.
    webhook_retry_schedule: CommaFloatList = [5, 300, 1800, 7200, 18000, 36000]
    webhook_retry_jitter: float = Field(default=0.2, ge=0, le=1)  # +/- this fraction
    # An endpoint whose attempts all failed for this long is deactivated (5 days).
    webhook_deactivate_after: float = Field(default=5 * 24 * 3600, gt=0)
    webhook_secret_overlap: float = Field(default=24 * 3600, ge=0)  # old secret signs this long
    event_retention_days: int = Field(default=30, ge=1)
    trash_retention_days: int = Field(default=30, ge=1)  # then the workers purge

    # Background work: `serve` runs a worker in-process unless RUN_WORKER=false.
    run_worker: bool = True
    worker_concurrency: int = Field(default=8, ge=1, le=256)  # endpoints delivered to at once
    worker_poll_interval: float = Field(default=5.0, gt=0)  # the fallback to LISTEN/NOTIFY
    # A job or an endpoint held by a worker that died is taken over after this many seconds.
    worker_lease_seconds: float = Field(default=60.0, gt=0)
    worker_shutdown_grace: float = Field(default=20.0, ge=0)

    @field_validator(
        "trusted_proxies",
        "allowed_hosts",
        "metrics_allowed",
        "cors_origins",
        "public_cors_origins",
        "thumbnail_sizes",
        "media_variant_formats",
        "webhook_retry_schedule",
        mode="before",
    )
    @classmethod
    def split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("metrics_allowed")
    @classmethod
    def networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"entries are addresses or networks (10.0.0.5, 10.0.0.0/8), not {entry!r}"
                ) from None
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def host_names(cls, value: list[str]) -> list[str]:
        hosts = [host.lower() for host in value]
        for host in hosts:
            if host != "*" and not _HOST_ENTRY.fullmatch(host):
                raise ValueError(
                    "entries are host names with an optional port (api.example.com, "
                    f"api.example.com:8443) or .example.com for its subdomains, not {host!r}"
                )
        return hosts

    @field_validator("time_zone")
    @classmethod
    def known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("public_base_url", "media_base_url", "s3_endpoint_url", "s3_public_base_url")
    @classmethod
    def strip_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None

    @field_validator("s3_key_prefix")
    @classmethod
    def folder_prefix(cls, value: str) -> str:
        value = value.strip("/")
        return f"{value}/" if value else ""

    @model_validator(mode="after")
    def complete_s3_settings(self) -> "Settings":
        if self.media_storage == "s3" and (problems := self.s3_problems()):
            raise ValueError("MEDIA_STORAGE=s3 needs " + "; ".join(problems))
        return self

    def s3_problems(self) -> list[str]:
        """What the S3 settings lack (for MEDIA_STORAGE=s3, or a migration to S3)."""
        problems = []
        if not self.s3_bucket:
            problems.append("S3_BUCKET")
        if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
            problems.append(
                "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together (or AWS_...), or neither "
                "for the AWS credential chain"
            )
        if self.s3_session_token and not self.s3_access_key_id:
            problems.append("S3_SESSION_TOKEN only with S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY")
        return problems

    @model_validator(mode="after")
    def hosts_from_public_base_url(self) -> "Settings":
        """In production, with ALLOWED_HOSTS empty, the one host allowed is PUBLIC_BASE_URL's."""
        if self.environment == "production" and not self.allowed_hosts and self.public_base_url:
            url = urlsplit(self.public_base_url)
            if url.hostname:
                host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
                default_port = {"http": 80, "https": 443}.get(url.scheme)
                port = "" if url.port in (None, default_port) else f":{url.port}"
                self.allowed_hosts = [host + port]  # without a port: on any port
        return self

    @model_validator(mode="after")
    def refuse_unsafe_production(self) -> "Settings":
        if self.environment != "production":
            return self
        problems = []
        if self.is_sqlite:
            problems.append("DATABASE_URL must point at PostgreSQL, not SQLite")
        if "*" in self.cors_origins:
            problems.append("CORS_ORIGINS must list origins, not '*'")
        if not self.allowed_hosts:
            problems.append("PUBLIC_BASE_URL (https://host) or ALLOWED_HOSTS must name the host")
        if not self.public_base_url:
            # Public bodies are kept by caches: no request's Host may write their URLs.
            problems.append("PUBLIC_BASE_URL must be set: the public API takes its URLs from it")
        if "*" in self.allowed_hosts:
            problems.append("ALLOWED_HOSTS must list host names, not '*'")
        problems += _too_trusting(self.trusted_proxies)
        if problems:
            raise ValueError("unsafe production settings: " + "; ".join(problems))
        return self

    @property
    def webhooks_reach_private_addresses(self) -> bool:
        if self.webhook_allow_private is not None:
            return self.webhook_allow_private
        return self.environment != "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def _too_trusting(proxies: list[str]) -> list[str]:
    """`*`, networks that together hold every address (0.0.0.0/0, ::/0), or non-addresses."""
    if "*" in proxies:
        return ["TRUSTED_PROXIES must list addresses, not '*'"]
    problems = []
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in proxies:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            problems.append(f"TRUSTED_PROXIES entry {entry!r} is not an address or network")
    v4 = ipaddress.collapse_addresses(n for n in networks if isinstance(n, ipaddress.IPv4Network))
    v6 = ipaddress.collapse_addresses(n for n in networks if isinstance(n, ipaddress.IPv6Network))
    if any(n.prefixlen == 0 for n in v4) or any(n.prefixlen == 0 for n in v6):
        problems.append("TRUSTED_PROXIES must list proxies, not every address (0.0.0.0/0, ::/0)")
    return problems


@lru_cache
def get_settings() -> Settings:
    return Settings()
