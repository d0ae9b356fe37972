"""A sliding-window rate limit per key (a socket, a session, a client), in memory.

One Rasa process keeps its own counts: behind nginx each replica limits what it
receives (nginx's limit_req limits per client address in front of them)."""

import time
from collections import OrderedDict, deque
from typing import Callable, Deque, Hashable


class RateLimit:
    """At most `limit` events per `window` seconds for each key; at most `max_keys`
    keys are remembered (the least recently seen are forgotten first)."""

    def __init__(
        self, limit: int, window: float, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.max_keys, self.clock = limit, window, max_keys, clock
        self._seen: "OrderedDict[Hashable, Deque[float]]" = OrderedDict()

    def allow(self, key: Hashable) -> bool:
        """Counts one event for `key`; False when it goes over the limit (not counted)."""
        now = self.clock()
        times = self._seen.pop(key, None) or deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        allowed = len(times) < self.limit
        if allowed:
            times.append(now)
        self._seen[key] = times
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)
        return allowed

    def forget(self, key: Hashable) -> None:
        self._seen.pop(key, None)
