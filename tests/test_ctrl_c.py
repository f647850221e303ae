"""Ctrl+C while the command line waits on futures: heard between futures, never inside them."""

from __future__ import annotations

import signal
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import pytest

from heurist_ui.ctrl_c import as_completed


def test_a_ctrl_c_is_raised_between_futures_leaving_none_of_them_locked():
    before = signal.getsignal(signal.SIGINT)
    hold = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        quick, held = pool.submit(lambda: "done"), pool.submit(hold.wait, 60)
        seen = []
        with pytest.raises(KeyboardInterrupt):
            for future in as_completed([quick, held]):
                seen.append(future)
                signal.raise_signal(signal.SIGINT)  # Ctrl+C, as the first future comes in
        assert seen == [quick] and not held.done()
        # Every future's lock is free: its worker can finish it and a caller can wait on it.
        assert held._condition.acquire(blocking=False)
        held._condition.release()
        hold.set()
        assert wait([held], timeout=60).done == {held}
    assert signal.getsignal(signal.SIGINT) is before


def test_without_a_ctrl_c_every_future_comes_as_it_finishes():
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(lambda n=n: n) for n in range(10)]
        assert sorted(future.result() for future in as_completed(futures)) == list(range(10))
