"""Ctrl+C on the command line, held while work is handed over."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def interrupt_after() -> Iterator[None]:
    """Hold a Ctrl+C until the block ends, then raise it.

    Jobs handed to the runner are then all known: an interrupt halfway would leave jobs at the
    API that no one waits for or cancels, and the exit hanging on their threads.
    """
    heard: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, _frame: heard.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if heard:
        raise KeyboardInterrupt
