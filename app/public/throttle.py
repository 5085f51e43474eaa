"""An optional limit on anonymous public requests per client address (PUBLIC_RATE_LIMIT per
minute; off by default: a gateway or CDN in front usually does this). Counted in this process:
with N replicas behind a balancer, an address gets up to N times the limit."""

import time

CLEANUP_EVERY = 10_000  # addresses tracked before expired windows are swept


class AddressThrottle:
    """A fixed one-minute window per address."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._windows: dict[str, tuple[int, int]] = {}  # address: (window, requests in it)

    def wait(self, address: str, now: float | None = None) -> int:
        """0 if this request may go on, else the seconds until the address may ask again."""
        moment = time.monotonic() if now is None else now
        window = int(moment // 60)
        started, count = self._windows.get(address, (window, 0))
        if started != window:
            count = 0
        if count >= self.per_minute:
            return max(1, int(60 - moment % 60))
        self._windows[address] = (window, count + 1)
        if len(self._windows) > CLEANUP_EVERY:
            self._sweep(window)
        return 0

    def _sweep(self, window: int) -> None:
        self._windows = {a: w for a, w in self._windows.items() if w[0] == window}
