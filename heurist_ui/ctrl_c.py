"""Ctrl+C on the command line: held while work is handed over, heard between futures."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager

POLL = 0.1  # seconds between looks at a Ctrl+C while futures are waited on


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


def as_completed(futures: Iterable[Future]) -> Iterator[Future]:
    """Each future as it finishes, with a Ctrl+C raised between futures, never inside them.

    concurrent.futures takes each future's lock in turn while it waits; a KeyboardInterrupt
    that lands between two of those takes leaves a lock taken for good, and the cancel() or
    wait() after it, and the worker finishing that future, then wait forever (the command
    line hung on a loaded machine). Here a Ctrl+C only sets a flag, looked at every POLL
    seconds, and KeyboardInterrupt is raised from this loop. Off the main thread, where no
    signal handler can be set, this is plain waiting.
    """
    heard = threading.Event()
    remaining = set(futures)
    if threading.current_thread() is not threading.main_thread():
        while remaining:
            done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            yield from done
        return
    previous = signal.signal(signal.SIGINT, lambda _number, _frame: heard.set())
    try:
        while remaining and not heard.is_set():
            done, remaining = wait(remaining, timeout=POLL, return_when=FIRST_COMPLETED)
            yield from done
    finally:
        signal.signal(signal.SIGINT, previous)
    if heard.is_set():
        raise KeyboardInterrupt
