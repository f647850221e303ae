"""The one wait-until helper: poll a condition until it holds, or fail saying what never came.

The limit is a safety net for a test that is already broken, never a measurement: it is long
(LIMIT seconds) so that a busy machine only makes a passing test slower, not failing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

LIMIT = 60.0  # seconds
POLL = 0.02  # seconds between looks


def wait_until(condition: Callable[[], T], what: str, *, limit: float = LIMIT) -> T:
    """condition()'s first truthy value; AssertionError naming `what` if none within limit."""
    end = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"Waited {limit:g} s for {what}; it never happened")
        time.sleep(POLL)


def release_once_held(gate, count: int) -> threading.Thread:
    """Release the sandbox gate once count jobs are held, from a thread (for a call that blocks
    the test until it ends); released in any case, so a missing job fails the assertions after
    the call, never hangs it."""

    def release() -> None:
        try:
            gate.wait_for(count)
        finally:
            gate.release()

    thread = threading.Thread(target=release, name="release-once-held", daemon=True)
    thread.start()
    return thread
