"""A per-visitor limit on images made with the server's key: token buckets, one per visitor.

A public studio with the owner's key lets anyone spend the owner's credits; one script made
288 images in 15 s. Each visitor (their address, and separately their session) gets a bucket
of `per_minute` images that refills at `per_minute` a minute. A request is charged what it
runs (plan.Plan.charge: a job is a job, from a batch, its variations, a grid or an agent; an
enhancement counts one): it takes that from every bucket of its visitor, or from none and is
told what it needs and when it can run. A request larger than a full bucket never runs.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

MAX_VISITORS = 10_000  # buckets kept; the least recently used go first (they are full again)


class RateLimit:
    """At most `per_minute` jobs a minute for each visitor, in bursts of up to that many."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when

    def take(self, visitor: Sequence[str], units: int) -> float:
        """Take `units` from each of the visitor's buckets: 0.0, or the seconds to wait first.

        math.inf for a request larger than a full bucket: it can never run at this limit.
        """
        if units > self.per_minute:
            return math.inf
        names = [name for name in visitor if name]
        need = units
        now = self._clock()
        with self._lock:
            levels = {name: self._level(name, now) for name in names}
            short = max((need - tokens for tokens in levels.values()), default=0.0)
            if short > 0:
                return max(1.0, math.ceil(short * 60 / self.per_minute))
            for name, tokens in levels.items():
                self._buckets[name] = (tokens - need, now)
                self._buckets.move_to_end(name)
            while len(self._buckets) > MAX_VISITORS:
                self._buckets.popitem(last=False)
        return 0.0

    def _level(self, name: str, now: float) -> float:
        tokens, when = self._buckets.get(name, (float(self.per_minute), now))
        return min(float(self.per_minute), tokens + (now - when) * self.per_minute / 60)

    def message(self, wait: float, units: int = 1) -> str:
        """What to tell a visitor whose request of `units` jobs must wait `wait` seconds."""
        limit = (
            f"this studio runs at most {self.per_minute} jobs a minute for each visitor on its "
            "own key"
        )
        own_key = "paste your own Heurist key (API key) to have no limit"
        needs = f"This request needs {units} job{'s' if units != 1 else ''}"
        if math.isinf(wait):
            return (
                f"Too large: {needs}, and {limit}. Lower Images, remove some {{a|b}} options "
                f"or compare fewer cells, or {own_key}."
            )
        return f"Slow down: {needs}, and {limit}. Try again in {wait:.0f} s, or {own_key}."
