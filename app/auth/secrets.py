"""Passwords hashed with argon2id; API keys random and stored only as SHA-256 digests."""

import hashlib
import secrets
from contextlib import AbstractContextManager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.common.workers import Slot, cpu_pool, usable_cpus
from app.settings import get_settings

_hasher = PasswordHasher()  # argon2id, 64 MiB, 3 passes: memory-hard by design
# Verified when the username is unknown, so a miss costs what a wrong password costs.
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_hex(16))

# Hashes at once: one per usable CPU but one, which stays free for the event loop (each hash
# takes 64 MiB and a core for tens of milliseconds); a few wait behind them; beyond that
# `Busy`, which the routes answer with a 429 at once.
PASSWORD_QUEUE_PER_THREAD = 4
password_pool = cpu_pool(
    "password",
    threads=max(1, usable_cpus() - 1),
    queue_per_thread=PASSWORD_QUEUE_PER_THREAD,
    priority=get_settings().cpu_work_priority,
)

KEY_BYTES = 20  # 160 bits, written as 40 hex characters like DRF's keys
PREFIX_LENGTH = 8


def hashing_slot() -> AbstractContextManager[Slot]:
    """A place for this request's hashing, reserved before anything else it does for it;
    `Busy` (answered 429) when every thread and the queue behind them are taken."""
    return password_pool.reserve()


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def hash_password(password: str, slot: Slot | None = None) -> str:
    """Off the event loop, in the bounded pool (in `slot` when reserved; else `Busy` when full)."""
    if slot is None:
        return await password_pool.run(_hasher.hash, password)
    return await slot.run(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _UNKNOWN_USER_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(
    password_hash: str | None, password: str, slot: Slot | None = None
) -> bool:
    """Check in `slot` when reserved (else `Busy` when the pool is full); `None` (no such user)
    takes the same time and fails."""
    if slot is None:
        return await password_pool.run(_verify, password_hash, password)
    return await slot.run(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Hashed with other parameters than today's (argon2-cffi's defaults move with time)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def new_api_key() -> str:
    return secrets.token_hex(KEY_BYTES)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
