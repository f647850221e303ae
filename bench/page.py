"""The page: time to a usable Generate beside a bare Gradio page, and server memory kept per load.

Debian's Chromium, driven by Playwright, opens each page in a fresh profile (a first visit:
nothing cached). The studio is usable when Generate is on screen and the cost line is filled;
the bare app when its one Textbox is on screen.

Memory kept: what a closed page still holds once the studio has let its session go (after
CLOSED_SESSION_GRACE). Resident memory rarely shrinks, so a first round of page loads (each
closed, then the grace) sizes the heap, and the figure is the growth over a second, equal round:
what every page load keeps for good. The bare app is measured the same way, beside it.
"""

from __future__ import annotations

import statistics
import time

import requests

from bench.figures import MIB, SETTLE_SECONDS, Row
from bench.procs import (
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


def _components(app: Proc) -> int:
    """How many components (layout included) the app's start page has its browser build."""
    config = requests.get(f"{app.url}config", timeout=30).json()
    return len(config["page"][""]["components"])


def _time_to_usable(browser, url: str, ready: tuple[str, ...]) -> float:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        for selector in ready:
            page.locator(selector).first.wait_for(state="visible", timeout=60_000)
        return time.perf_counter() - start
    finally:
        context.close()


def _kept_per_load(browser, apps: list[tuple[Proc, tuple[str, ...]]], loads: int) -> list[float]:
    """MB kept per page load by each app: the growth over a second round of closed pages."""
    rounds = []
    for _ in range(2):
        for _ in range(loads):
            for app, ready in apps:
                _time_to_usable(browser, app.url, ready)
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
                studio_times, bare_times = [], []
                for _ in range(loads):
                    studio_times.append(_time_to_usable(browser, app.url, STUDIO_READY))
                    bare_times.append(_time_to_usable(browser, bare.url, BARE_READY))
                sizes = [rss_bytes(app.pid)]
                kept, bare_kept = _kept_per_load(
                    browser, [(app, STUDIO_READY), (bare, BARE_READY)], memory_loads
                )
                sizes.append(rss_bytes(app.pid))
            finally:
                browser.close()
    finally:
        procs.stop(app)
        procs.stop(bare)
    studio, plain = statistics.median(studio_times), statistics.median(bare_times)
    return [
        Row(
            "page",
            studio / plain,
            "×",
            f"a usable Generate in {studio:.2f} s ÷ a bare Gradio page's Textbox in "
            f"{plain:.2f} s (first visits at 1440×900, median of {loads} each, interleaved; "
            f"the pages build {built[0]} and {built[1]} components)",
            1.3,
        ),
        Row(
            "memory per page",
            kept,
            "MB",
            f"{kept * memory_loads:.1f} MB kept over {memory_loads} more page loads, each "
            f"closed, after {memory_loads} sized the heap ({sizes[0] / MIB:.0f} → "
            f"{sizes[1] / MIB:.0f} MiB in all); a bare Gradio page keeps {bare_kept:.2f} MB",
            0.1,
        ),
    ]
