"""Public response bodies kept in this process, dropped by what a change touched.

Each entry names the objects its body holds (its surrogate keys, as the `Surrogate-Key` header
does): a change drops the entries naming what it touched, not everything. The cache holds at
most PUBLIC_CACHE_MAX_BYTES of bodies, the least recently used going first.

A body read from the database while a change commits could be the old one arriving after the
change's invalidation: each fill remembers the generation it started in, and is not kept if any
invalidation came in between.
"""

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

ENTRY_OVERHEAD = 512  # bytes a cached entry costs beyond its body (headers, keys, bookkeeping)


@dataclass(frozen=True)
class CachedResponse:
    status: int
    body: bytes
    etag: str
    last_modified: str | None
    keys: tuple[str, ...]  # surrogate keys: collections and `<kind>-<id>` of every object

    @property
    def cost(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD


class ResponseCache:
    def __init__(self, max_bytes: int, *, live: bool = True) -> None:
        self.max_bytes = max_bytes
        # False while changes made elsewhere could go unheard (a replica's listener is down):
        # nothing is then served from the cache or kept in it.
        self.live = live
        self.generation = 0  # moves on every invalidation
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()
        self._by_key: dict[str, set[str]] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, request_key: str) -> CachedResponse | None:
        if not self.live:
            return None
        found = self._entries.get(request_key)
        if found is not None:
            self._entries.move_to_end(request_key)
        return found

    def put(self, request_key: str, response: CachedResponse, generation: int) -> None:
        """Keep `response` unless something was invalidated since `generation` began."""
        if not self.live or generation != self.generation or response.cost > self.max_bytes:
            return
        self._remove(request_key)
        self._entries[request_key] = response
        self._bytes += response.cost
        for key in response.keys:
            self._by_key.setdefault(key, set()).add(request_key)
        while self._bytes > self.max_bytes:
            self._remove(next(iter(self._entries)))

    def drop(self, keys: Iterable[str]) -> None:
        """Every entry naming any of `keys` (all of them for `*`)."""
        keys = list(keys)
        if "*" in keys:
            self.clear()
            return
        self.generation += 1
        for key in keys:
            for request_key in list(self._by_key.get(key, ())):
                self._remove(request_key)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_key.clear()
        self._bytes = 0

    def _remove(self, request_key: str) -> None:
        removed = self._entries.pop(request_key, None)
        if removed is None:
            return
        self._bytes -= removed.cost
        for key in removed.keys:
            holders = self._by_key.get(key)
            if holders is not None:
                holders.discard(request_key)
                if not holders:
                    del self._by_key[key]
