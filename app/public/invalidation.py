"""What a committed change makes stale in the public bodies, and telling every replica.

A change names surrogate keys (`portfolio-12`, `tag-3`, `portfolios`...). After it commits,
this process drops the entries naming them at once; on PostgreSQL the keys also travel with a
NOTIFY on `portfolio_api_public`, sent in the change's own transaction (so only when it commits),
which every other replica's listener receives. A listener that loses its connection drops its
whole cache when it is back: what was notified meanwhile is lost.
"""

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import after_commit
from app.jobs.listener import listen_on
from app.public.cache import ResponseCache

CHANNEL = "portfolio_api_public"
COLLECTIONS = ("portfolios", "tags", "employers")
EVERYTHING = "*"  # a key that drops every body (an import)
_KEYS = "public_keys_changed"
_caches: set[ResponseCache] = set()  # this process's (one per app)


def keys_changed(kind: str, object_id: int | None, portfolio_id: int | None = None) -> list[str]:
    """The surrogate keys a change to this object touches. A portfolio's change may move it into
    or out of any list (and the tags and employers lists show those that active portfolios use);
    a link's or meta item's changes its portfolio; a tag, employer or media file changes the bodies
    that show it."""
    if kind == "portfolio":
        return [*COLLECTIONS, *([f"portfolio-{object_id}"] if object_id else [])]
    if kind in ("link", "meta"):
        return [f"portfolio-{portfolio_id}"]
    return [f"{kind}-{object_id}"]


def notify_text(keys: Iterable[str]) -> str:
    return " ".join(sorted(set(keys)))


def register(cache: ResponseCache) -> None:
    _caches.add(cache)


def unregister(cache: ResponseCache) -> None:
    _caches.discard(cache)


def drop_everywhere_here(keys: Iterable[str]) -> None:
    wanted = list(keys)
    for cache in list(_caches):
        cache.drop(wanted)


def drop_here_after_commit(session: AsyncSession, keys: Iterable[str]) -> None:
    """This process's caches drop `keys` once the session's transaction commits."""
    pending: set[str] | None = session.info.get(_KEYS)
    if pending is None:
        pending = session.info[_KEYS] = set()

        async def drop() -> None:
            drop_everywhere_here(session.info.pop(_KEYS, ()))

        after_commit(session, drop)
    pending.update(keys)


async def announce(session: AsyncSession, keys: list[str]) -> None:
    """For a change recorded outside the outbox's history statement (which sends its own)."""
    drop_here_after_commit(session, keys)
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_notify(:channel, :keys)"),
            {"channel": CHANNEL, "keys": notify_text(keys)},
        )


async def listen(database_url: str, cache: ResponseCache) -> None:
    """Drop what other replicas' changes touched, until cancelled."""

    def connected() -> None:
        cache.clear()  # whatever was notified while we were not listening is lost
        cache.live = True

    def lost() -> None:
        cache.live = False
        cache.clear()

    await listen_on(
        database_url,
        CHANNEL,
        lambda payload: cache.drop(payload.split()),
        connected=connected,
        lost=lost,
    )
