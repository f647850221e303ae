"""One log line per expected failure, and a burst of identical ones summarised.

A hung API fails every job of every visitor the same way: 256 timeouts would be 256 lines
(they were 256 tracebacks). The first of a kind is logged at once; the same message again
within `window` seconds is counted, and one line says how many more there were when the
window closes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

LOGGED_CHARS = 300  # of a message's first line


@dataclass
class _Burst:
    started: float
    more: int = 0
    timer: threading.Timer | None = None


class Bursts:
    """Logs each message once per window at `level`, then a count of its repeats."""

    def __init__(
        self, logger: logging.Logger, *, window: float = 30.0, level: int = logging.WARNING
    ) -> None:
        self.logger = logger
        self.window = window
        self.level = level
        self._bursts: dict[str, _Burst] = {}
        self._lock = threading.Lock()

    def note(self, message: str) -> None:
        """Log message (its first line), or count it if it was logged in this window."""
        line = _first_line(message)
        now = time.monotonic()
        with self._lock:
            burst = self._bursts.get(line)
            if burst is not None and now - burst.started < self.window:
                burst.more += 1
                if burst.timer is None:
                    burst.timer = threading.Timer(
                        burst.started + self.window - now, self._close, (line, burst)
                    )
                    burst.timer.daemon = True
                    burst.timer.start()
                return
            self._bursts[line] = _Burst(now)
        if burst is not None:
            self._close(line, burst)
        self.logger.log(self.level, "%s", line)

    def flush(self) -> None:
        """Log every open burst's count now (at exit, or in a test)."""
        with self._lock:
            bursts = list(self._bursts.items())
        for line, burst in bursts:
            self._close(line, burst)

    def _close(self, line: str, burst: _Burst) -> None:
        with self._lock:
            if self._bursts.get(line) is burst:
                del self._bursts[line]
            more, burst.more = burst.more, 0
            if burst.timer is not None:
                burst.timer.cancel()
        if more:
            seconds = min(time.monotonic() - burst.started, self.window)
            self.logger.log(
                self.level, "... and %d more like it in the last %.0f s: %s", more, seconds, line
            )


def _first_line(message: str) -> str:
    text = str(message).strip()
    line = text.splitlines()[0] if text else "(no message)"
    return line if len(line) <= LOGGED_CHARS else line[: LOGGED_CHARS - 3] + "..."
