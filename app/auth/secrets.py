"""Passwords hashed with argon2id; API keys random and stored only as SHA-256 digests."""

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.common.workers import BoundedPool, Slot, cpu_pool, usable_cpus
from app.settings import Settings

_hasher = PasswordHasher()  # argon2id, 64 MiB, 3 passes: memory-hard by design
# Verified when the username is unknown, so a miss costs what a wrong password costs.
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_hex(16))

PASSWORD_QUEUE_PER_THREAD = 4

KEY_BYTES = 20  # 160 bits, written as 40 hex characters like DRF's keys
PREFIX_LENGTH = 8


def password_pool(settings: Settings) -> BoundedPool:
    """The password threads of a process (the app's lifespan, or a command, opens and shuts
    it): one per usable CPU but one, which stays free for the event loop (each hash takes
    64 MiB and a core for tens of milliseconds), a few waiting behind them. A caller reserves
    its place (`pool.reserve()`) before anything else it does for the hashing; `Busy`, which
    the routes answer with a 429 at once, when every thread and the queue are taken."""
    return cpu_pool(
        "password",
        threads=max(1, usable_cpus() - 1),
        queue_per_thread=PASSWORD_QUEUE_PER_THREAD,
        priority=settings.cpu_work_priority,
    )


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def hash_password(password: str, slot: Slot) -> str:
    """Off the event loop, in a reserved place of the password pool."""
    return await slot.run(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _UNKNOWN_USER_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str, slot: Slot) -> bool:
    """Check in a reserved place of the password pool; `None` (no such user) takes the same
    time and fails."""
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
