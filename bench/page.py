"""The page: time to a usable Generate beside a bare Gradio page, and server memory kept per load.

Debian's Chromium, driven by Playwright, opens each page in a fresh profile (a first visit:
nothing cached). The studio is usable when Generate is on screen and the cost line is filled;
the bare app when its one Textbox is on screen.

Memory kept: what a closed page still holds once the studio has let its session go (after
CLOSED_SESSION_GRACE). Each page of the memory rounds is closed once its load has ended (usable,
and every API call of its load answered, queued load events included). Resident memory rarely
shrinks, so a first round of page loads (each closed, then the grace) sizes the heap, and the
figure is the growth over a second round, MEASURED_ROUNDS times as long: what every page load
keeps for good. The growth moves by a few MB either way as malloc's free lists fragment (a page
load allocates about 5 MB for a moment), so the longer round divides that by more loads. The
bare app is measured the same way, beside it.
"""

from __future__ import annotations

import statistics
import time

import requests

from bench.figures import MIB, SETTLE_SECONDS, Row
from bench.procs import (
    BenchError,
    Proc,
    Procs,
    app_env,
    rss_bytes,
    spawn_app,
    spawn_bare_app,
    wait_until_serving,
)
from heurist_ui.ui.gradio_private import CLOSED_SESSION_GRACE

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
VIEWPORT = {"width": 1440, "height": 900}
STUDIO_READY = "#generate-btn", "#cost-line >> text=credits"
BARE_READY = ("label:has-text('Text')",)
API, HEARTBEAT = "/gradio_api/", "/heartbeat/"
QUEUE_JOIN, QUEUE_STREAM = "/queue/join", "/queue/data"
LOAD_TIMEOUT = 60.0  # seconds for a usable page's load calls to answer
MEASURED_ROUNDS = 2  # the measured round is this many sizing rounds long


def _components(app: Proc) -> int:
    """How many components (layout included) the app's start page has its browser build."""
    config = requests.get(f"{app.url}/config", timeout=30).json()
    return len(config["page"][""]["components"])


def _open_until_usable(page, url: str, ready: tuple[str, ...]) -> None:
    page.goto(url, wait_until="commit")
    for selector in ready:
        page.locator(selector).first.wait_for(state="visible", timeout=60_000)


# The bytes a page's load took off the network (compressed as sent), the page itself included.
TRANSFERRED_JS = """() => [
    ...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource"),
].reduce((bytes, entry) => bytes + entry.encodedBodySize, 0)"""


def _time_to_usable(browser, url: str, ready: tuple[str, ...]) -> tuple[float, int]:
    """Seconds to a usable page in a fresh context, and the bytes it had transferred by then."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        start = time.perf_counter()
        _open_until_usable(page, url, ready)
        seconds = time.perf_counter() - start
        return seconds, page.evaluate(TRANSFERRED_JS)
    finally:
        context.close()


def _load_whole(browser, url: str, ready: tuple[str, ...]) -> None:
    """Open url in a fresh context until usable and every API call of its load has answered.

    A page closed as soon as it is usable may never send its queued load events, so what they
    leave on the server would go unmeasured: the memory rounds wait for them, the streams of
    queued events included (a join's stream ends once its events are done).
    """
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        calls: set = set()  # the page's API requests still unanswered, the heartbeat aside
        stream_due = []  # a queue/join was sent and no queue/data stream has ended since

        def sent(request) -> None:
            if API in request.url and HEARTBEAT not in request.url:
                calls.add(request)
                if QUEUE_JOIN in request.url:
                    stream_due[:] = [True]

        def answered(request) -> None:
            calls.discard(request)
            if QUEUE_STREAM in request.url:
                stream_due.clear()

        page.on("request", sent)
        page.on("requestfinished", answered)
        page.on("requestfailed", answered)  # a stream the page closes once its events are done
        _open_until_usable(page, url, ready)
        deadline = time.monotonic() + LOAD_TIMEOUT
        while calls or stream_due:
            if time.monotonic() > deadline:
                raise BenchError(f"{url}: the page's load calls did not all answer: {calls}")
            page.wait_for_timeout(25)  # Playwright delivers the page's events meanwhile
    finally:
        context.close()


def _kept_per_load(
    browser, apps: list[tuple[Proc, tuple[str, ...]]], sizing: int, loads: int
) -> list[float]:
    """MB kept per page load by each app: the growth over `loads` closed pages, after `sizing`."""
    rounds = []
    for count in (sizing, loads):
        for _ in range(count):
            for app, ready in apps:
                _load_whole(browser, app.url, ready)
        time.sleep(CLOSED_SESSION_GRACE + SETTLE_SECONDS + 2)  # Gradio sweeps every second
        rounds.append([rss_bytes(app.pid) for app, _ in apps])
    return [(after - before) / loads / MIB for before, after in zip(*rounds, strict=True)]


def measure_page(procs: Procs, sandbox_url: str, loads: int, memory_loads: int) -> list[Row]:
    """Median time to a usable page, studio ÷ bare (interleaved), and MB kept per page load."""
    from playwright.sync_api import sync_playwright

    env = app_env(procs.workdir, sandbox_url, f"{sandbox_url}/models.json")
    app, bare = spawn_app(procs, env), spawn_bare_app(procs)
    try:
        wait_until_serving(app)
        wait_until_serving(bare)
        built = _components(app), _components(bare)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                _time_to_usable(browser, app.url, STUDIO_READY)  # warm: lazy imports, caches
                _time_to_usable(browser, bare.url, BARE_READY)
                studio_loads, bare_loads = [], []
                for _ in range(loads):
                    studio_loads.append(_time_to_usable(browser, app.url, STUDIO_READY))
                    bare_loads.append(_time_to_usable(browser, bare.url, BARE_READY))
                sizes = [rss_bytes(app.pid)]
                measured = memory_loads * MEASURED_ROUNDS
                kept, bare_kept = _kept_per_load(
                    browser, [(app, STUDIO_READY), (bare, BARE_READY)], memory_loads, measured
                )
                sizes.append(rss_bytes(app.pid))
            finally:
                browser.close()
    finally:
        procs.stop(app)
        procs.stop(bare)
    studio, plain = (
        statistics.median(seconds for seconds, _ in run) for run in (studio_loads, bare_loads)
    )
    sent = [statistics.median(size for _, size in run) / 1024 for run in (studio_loads, bare_loads)]
    return [
        Row(
            "page",
            studio / plain,
            "×",
            f"a usable Generate in {studio:.2f} s ÷ a bare Gradio page's Textbox in "
            f"{plain:.2f} s (first visits at 1440×900, median of {loads} each, interleaved; "
            f"the pages build {built[0]} and {built[1]} components and transfer "
            f"{sent[0]:.0f} KB and {sent[1]:.0f} KB)",
            1.3,
        ),
        Row(
            "memory per page",
            kept,
            "MB",
            f"{kept * measured:.1f} MB kept over {measured} more page loads, each closed "
            f"once loaded, after {memory_loads} sized the heap ({sizes[0] / MIB:.0f} → "
            f"{sizes[1] / MIB:.0f} MiB in all); a bare Gradio page keeps {bare_kept:.2f} MB",
            0.1,
        ),
    ]
