"""The page: time to a usable Generate beside a bare Gradio page, and server memory kept per load.

Debian's Chromium, driven by Playwright, opens each page in a fresh profile (a first visit:
nothing cached). The studio is usable when Generate is on screen and its load events have run
(the cost line is filled); the bare app when its one Textbox is on screen.
"""

from __future__ import annotations

import statistics
import time

from bench.figures import MIB, SETTLE_SECONDS, Row
from bench.procs import Procs, app_env, rss_bytes, spawn_app, spawn_bare_app, wait_until_serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
VIEWPORT = {"width": 1440, "height": 900}
STUDIO_READY = "#generate-btn", "#cost-line >> text=credits"
BARE_READY = ("label:has-text('Text')",)


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


def measure_page(procs: Procs, sandbox_url: str, loads: int, memory_loads: int) -> list[Row]:
    """Median time to a usable page, studio ÷ bare (interleaved), and MB kept per page load."""
    from playwright.sync_api import sync_playwright

    env = app_env(procs.workdir, sandbox_url, f"{sandbox_url}/models.json")
    app, bare = spawn_app(procs, env), spawn_bare_app(procs)
    try:
        wait_until_serving(app)
        wait_until_serving(bare)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                _time_to_usable(browser, app.url, STUDIO_READY)  # warm: lazy imports, caches
                _time_to_usable(browser, bare.url, BARE_READY)
                studio_times, bare_times = [], []
                for _ in range(loads):
                    studio_times.append(_time_to_usable(browser, app.url, STUDIO_READY))
                    bare_times.append(_time_to_usable(browser, bare.url, BARE_READY))
                time.sleep(SETTLE_SECONDS)
                before = rss_bytes(app.pid)
                for _ in range(memory_loads):
                    _time_to_usable(browser, app.url, STUDIO_READY)
                time.sleep(SETTLE_SECONDS)
                after = rss_bytes(app.pid)
            finally:
                browser.close()
    finally:
        procs.stop(app)
        procs.stop(bare)
    studio, plain = statistics.median(studio_times), statistics.median(bare_times)
    kept = (after - before) / memory_loads / MIB
    return [
        Row(
            "page",
            studio / plain,
            "×",
            f"a usable Generate in {studio:.2f} s ÷ a bare Gradio page's Textbox in "
            f"{plain:.2f} s (first visits at 1440×900, median of {loads} each, interleaved)",
            1.3,
        ),
        Row(
            "memory per page",
            kept,
            "MB",
            f"{after / MIB:.0f} MiB after {memory_loads} page loads (each closed) − "
            f"{before / MIB:.0f} MiB before",
            0.1,
        ),
    ]
