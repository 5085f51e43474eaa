"""Standard Webhooks signatures: `v1,` + base64 of HMAC-SHA256 over `<id>.<timestamp>.<body>`,
keyed with the secret's decoded bytes (https://www.standardwebhooks.com/). Twelve lines of the
standard library rather than the `standardwebhooks` package, which the tests use to verify."""

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(keys: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The request headers of one attempt, signed with every key in force (a rotated secret
    signs beside the new one while it overlaps)."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(key, message_id, timestamp, body) for key in keys),
    }
