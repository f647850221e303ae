"""Hostile visitors: other callers' wall time while 2 MB requests arrive, beside it without them.

A public Space gets requests built to hurt it: a prompt of a million {a|b} groups, a 2 MB
query string on the page, a 2 MB description to enhance. Each must be refused at once, and
the ordinary callers must not notice them.
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.calls import _final_event, _submit, generate_data
from bench.crowds import crowd_walls
from bench.figures import SMALL, Row, progress
from bench.procs import BenchError, local_session

HOSTILE_GOAL = 1.2  # × the ordinary callers' wall time without hostile requests
CALLERS = 20
HOSTILE_THREADS = 2
TWO_MB = 2 * 1024 * 1024
HUGE_TEMPLATE = "{a|b}" * (TWO_MB // 5)  # 2 MB; counted naively, a 126,000-digit number


def hostile_requests(app_url: str) -> list[tuple[str, object]]:
    """(kind, request) pairs: what a hostile visitor sends, each to be refused at once."""
    generate = generate_data(SMALL, 1)
    generate[0] = HUGE_TEMPLATE
    grid = ["a fox", "", ["SDXL"], "prompt", "a\n" * (TWO_MB // 2), SMALL, SMALL, 20, 7.0, -1, ""]
    enhance = ["x" * TWO_MB, "SDXL", "", 3, 3, 3, 3, "", ""]
    return [
        ("generate", generate),
        ("compare", grid),
        ("enhance_prompt", enhance),
        ("page", f"{app_url}/?prompt={'x' * TWO_MB}"),
    ]


def send_hostile(app_url: str, kind: str, request: object, session) -> float:
    """One hostile request; its seconds until refused. Raises BenchError if it was not."""
    started = time.monotonic()
    if kind == "page":
        try:
            response = session.get(str(request), timeout=(5, 60))
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            return time.monotonic() - started  # the HTTP server refused it outright
        if response.status_code == 200 and "x" * 1000 in response.text:
            raise BenchError("the page echoed a 2 MB query string back")
    else:
        try:
            event_id = _submit(session, app_url, list(request), endpoint=kind)  # type: ignore[arg-type]
        except BenchError:
            return time.monotonic() - started  # refused before queueing
        event, data = _final_event(session, f"{app_url}/gradio_api/call/{kind}/{event_id}")
        if event != "error":
            raise BenchError(f"a 2 MB /{kind} request was not refused: {str(data)[:200]}")
    return time.monotonic() - started


def measure_hostile(app_url: str, latency: float, rounds: int) -> Row:
    """20 one-image callers, alone and while hostile requests keep arriving: wall ratio."""
    progress("hostile requests")
    requests_ = hostile_requests(app_url)
    alone, beside, refusals = [], [], []
    for _ in range(rounds):
        alone.append(crowd_walls(app_url, CALLERS)[0])
        stop = threading.Event()

        def attack(offset: int, stop: threading.Event = stop) -> list[float]:
            times = []
            with local_session() as session:
                turn = offset
                while not stop.is_set():
                    kind, request = requests_[turn % len(requests_)]
                    times.append(send_hostile(app_url, kind, request, session))
                    turn += 1
            return times

        with ThreadPoolExecutor(HOSTILE_THREADS, thread_name_prefix="bench-hostile") as pool:
            attackers = [pool.submit(attack, n) for n in range(HOSTILE_THREADS)]
            time.sleep(latency / 2)  # the attack is under way
            beside.append(crowd_walls(app_url, CALLERS)[0])
            stop.set()
            for attacker in attackers:
                refusals += attacker.result(timeout=120)
    wall_alone, wall_beside = statistics.median(alone), statistics.median(beside)
    absolute = (
        f"{CALLERS} one-image callers: {wall_beside:.2f} s while {len(refusals)} hostile 2 MB "
        f"requests (prompt, grid, description, query string) were refused (slowest refusal "
        f"{max(refusals):.2f} s) ÷ {wall_alone:.2f} s without; L = {latency:g} s, median of "
        f"{rounds}"
    )
    return Row("hostile visitors", wall_beside / wall_alone, "×", absolute, HOSTILE_GOAL)
