"""AWS Signature Version 4, as S3 and its look-alikes check it: signed request headers and
presigned URLs (query-string signing). Pure functions of their inputs and the clock.

https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
"""

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4's limit


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


def uri_encode(value: str, *, keep_slash: bool = False) -> str:
    """RFC 3986 encoding: everything but unreserved characters (and `/` in paths, which S3
    encodes once, unlike other services)."""
    return quote(value, safe="/~" if keep_slash else "~")


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """The query as signed (and as sent, so that both are the same): encoded, then sorted."""
    encoded = sorted((uri_encode(name), uri_encode(value)) for name, value in params)
    return "&".join(f"{name}={value}" for name, value in encoded)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _amz_date(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class Signer:
    """Signs requests to one service in one region with one set of credentials."""

    def __init__(self, credentials: Credentials, region: str, service: str = "s3") -> None:
        self.credentials = credentials
        self.region = region
        self.service = service
        self._keys: dict[str, bytes] = {}  # the signing key of each day (it changes daily)

    def _signing_key(self, day: str) -> bytes:
        key = self._keys.get(day)
        if key is None:
            key = _hmac(f"AWS4{self.credentials.secret_access_key}".encode(), day)
            for part in (self.region, self.service, "aws4_request"):
                key = _hmac(key, part)
            self._keys = {day: key}
        return key

    def _scope(self, day: str) -> str:
        return f"{day}/{self.region}/{self.service}/aws4_request"

    def _signature(self, amz_date: str, canonical_request: str) -> str:
        day = amz_date[:8]
        string_to_sign = "\n".join(
            [
                ALGORITHM,
                amz_date,
                self._scope(day),
                hashlib.sha256(canonical_request.encode()).hexdigest(),
            ]
        )
        return hmac.new(self._signing_key(day), string_to_sign.encode(), hashlib.sha256).hexdigest()

    def sign_headers(
        self,
        method: str,
        host: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        payload_hash: str,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """The headers to send: `headers` (all of them signed), `Host` excepted, plus the
        `x-amz-*` ones and `Authorization`. `path` is already encoded; `query` is canonical."""
        amz_date = _amz_date(now or datetime.now(UTC))
        signed = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
        signed["host"] = host
        signed["x-amz-date"] = amz_date
        signed["x-amz-content-sha256"] = payload_hash
        if self.credentials.session_token:
            signed["x-amz-security-token"] = self.credentials.session_token
        names = sorted(signed)
        canonical_request = "\n".join(
            [
                method,
                path,
                query,
                "".join(f"{name}:{signed[name]}\n" for name in names),
                ";".join(names),
                payload_hash,
            ]
        )
        signature = self._signature(amz_date, canonical_request)
        credential = f"{self.credentials.access_key_id}/{self._scope(amz_date[:8])}"
        signed["authorization"] = (
            f"{ALGORITHM} Credential={credential}, SignedHeaders={';'.join(names)}, "
            f"Signature={signature}"
        )
        del signed["host"]
        return signed

    def presign(
        self,
        method: str,
        scheme: str,
        host: str,
        path: str,
        expires: int,
        now: datetime | None = None,
    ) -> str:
        """A URL anyone may use for `expires` seconds from `now`; only `host` is signed."""
        if not 1 <= expires <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"presigned URLs live 1 to {MAX_PRESIGN_SECONDS} seconds")
        amz_date = _amz_date(now or datetime.now(UTC))
        params = [
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", f"{self.credentials.access_key_id}/{self._scope(amz_date[:8])}"),
            ("X-Amz-Date", amz_date),
            ("X-Amz-Expires", str(expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if self.credentials.session_token:
            params.append(("X-Amz-Security-Token", self.credentials.session_token))
        query = canonical_query(params)
        canonical_request = "\n".join(
            [method, path, query, f"host:{host}\n", "host", UNSIGNED_PAYLOAD]
        )
        signature = self._signature(amz_date, canonical_request)
        return f"{scheme}://{host}{path}?{query}&X-Amz-Signature={signature}"
