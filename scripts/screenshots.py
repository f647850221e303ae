"""The README's screenshots, made on purpose: `.venv/bin/python scripts/screenshots.py`.

Starts the app over the sandbox (as `python app.py --sandbox` does), drives Debian's Chromium
and writes the pictures into assets/. The tests never write there.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from tempfile import TemporaryDirectory

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from app import SANDBOX_KEY, build_app  # noqa: E402
from bench.procs import free_port  # noqa: E402
from heurist_ui.compare import plan_grid  # noqa: E402
from heurist_ui.compare_run import run_grid  # noqa: E402
from heurist_ui.config import load_settings  # noqa: E402
from heurist_ui.sandbox import Sandbox  # noqa: E402
from heurist_ui.ui import launch_options, serve  # noqa: E402

ASSETS = REPO / "assets"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def studio_batch(page, name: str = "screenshot.png") -> None:
    """assets/screenshot.png (a desk) or screenshot-phone.png: the studio after a batch of four,
    as the screen shows it."""
    page.get_by_label("Prompt", exact=True).fill(
        "a lighthouse at dusk, volumetric light, oil painting"
    )
    images = page.get_by_label("number input for Images")
    images.fill("4")
    images.press("Enter")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#gallery").get_by_role("button", name="Thumbnail 4 of 4")).to_be_visible()
    expect(page.get_by_role("progressbar")).to_have_count(0)
    page.mouse.move(0, 0)  # no hover highlight in the picture
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ASSETS / name))


def prompt_help(page) -> None:
    """assets/enhance.png: a description enhanced by SmartGen, above Generate and the cost."""
    page.reload()
    expect(page.locator("#cost-line")).to_contain_text("credits", timeout=15_000)
    page.get_by_label("Prompt", exact=True).fill("a fox in the snow")
    page.get_by_role("button", name="✨ Enhance").click()
    # The first Enhance imports openai: seconds on a busy machine, beyond expect's default 5 s.
    expect(page.get_by_role("button", name="↩ Restore description")).to_be_visible(timeout=30_000)
    page.mouse.move(0, 0)
    top, bottom = page.locator("#prompt").bounding_box(), page.locator("#cost-line").bounding_box()
    clip = {
        "x": top["x"] - 8,
        "y": top["y"] - 8,
        "width": top["width"] + 16,
        "height": bottom["y"] + bottom["height"] - top["y"] + 16,
    }
    page.screenshot(path=str(ASSETS / "enhance.png"), clip=clip)


def compare_grid(studio, sandbox: Sandbox) -> None:
    """assets/compare-grid.png: three models by two seeds, one cell failing in its place."""
    plan = plan_grid(
        studio.catalog,
        prompt="a lighthouse at dusk, volumetric light",
        neg_prompt="blurry",
        model_ids=["SDXL", "Aurora", "FLUX.1-dev"],
        axis="seed",
        values="1, 2",
        width=512,
        height=512,
        num_iterations=20,
        guidance_scale=5,
        seed=-1,
    )
    sandbox.add_fault("status", status=500)

    async def last_step():  # the grid as the studio runs it
        return [step async for step in run_grid(studio.runner, plan, None)][-1]

    shutil.copy(asyncio.run(last_step()).grid_path, ASSETS / "compare-grid.png")


def main() -> int:
    with TemporaryDirectory(prefix="heurist-shots-") as folder, Sandbox(port=0) as sandbox:
        settings = load_settings(
            api_key=SANDBOX_KEY,
            base_url=sandbox.url,
            models_url=sandbox.models_url,
            llm_base_url=sandbox.llm_base_url,
            output_dir=Path(folder) / "out",
            cache_dir=Path(folder) / "cache",
            env_file=None,
        )
        demo, studio = build_app(settings, sandbox=True)
        options = launch_options(
            host="127.0.0.1",
            port=free_port(),
            share=False,
            auth=None,
            concurrency=32,
            output_dir=settings.output_dir,
        )
        _, url, _ = serve(demo, prevent_thread_lock=True, quiet=True, **options)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=PHONE)
                page.goto(url)
                expect(page.locator("#cost-line")).to_contain_text("credits", timeout=15_000)
                studio_batch(page, "screenshot-phone.png")
                page = browser.new_page(viewport=DESK)
                page.goto(url)
                expect(page.locator("#cost-line")).to_contain_text("credits", timeout=15_000)
                studio_batch(page)
                prompt_help(page)
                browser.close()
            compare_grid(studio, sandbox)
        finally:
            demo.close()
            studio.close()
    print(f"Screenshots written to {ASSETS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
