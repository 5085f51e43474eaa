"""Passwords hashed with argon2id; API keys random and stored only as SHA-256 digests."""

import asyncio
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id, 64 MiB, 3 passes: memory-hard by design
# Verified when the username is unknown, so a miss costs what a wrong password costs.
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_hex(16))

KEY_BYTES = 20  # 160 bits, written as 40 hex characters like DRF's keys
PREFIX_LENGTH = 8


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _UNKNOWN_USER_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check off the event loop; `None` (no such user) takes the same time and fails."""
    return await asyncio.to_thread(_verify, password_hash, password)


def new_api_key() -> str:
    return secrets.token_hex(KEY_BYTES)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
