"""Compare in Chromium at 1440×900 (a desk) and 390×844 (a phone): it takes the generator's
settings when asked, and never on its own."""

from __future__ import annotations

import re

import pytest
import test_browser as shared
import test_browser_ux as ux
from test_browser import CHROMIUM, expect, prompt_box, set_slider
from test_browser_ux import open_tab

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]

browser, profiles = shared.browser, shared.profiles
app_sandbox, app = shared.app_sandbox, shared.app
screen = ux.screen  # a fresh page at 1440×900 and at 390×844


def number(page, label: str):
    return page.get_by_label(f"number input for {label}").filter(visible=True)


def rows(page) -> list[str]:
    """The Compare rows picked, in order."""
    tokens = page.locator("#compare-models .token")
    return [text.strip() for text in tokens.all_inner_texts()]


def test_compare_takes_the_generators_settings_when_asked_and_never_on_its_own(screen):
    page, size = screen
    prompt_box(page).fill("a glass owl on a {red|blue} branch")
    model = page.get_by_label("Model", exact=True)
    model.click()
    page.get_by_role("option", name=re.compile(r"^FLUX\.1-dev( ·|$)")).click()
    expect(page.locator("#cost-line")).to_contain_text("FLUX")
    set_slider(page, "Width", 768)
    set_slider(page, "Height", 512)
    set_slider(page, "Steps", 12)
    set_slider(page, "Guidance scale", 4)
    page.get_by_label("Seed", exact=True).filter(visible=True).fill("77")

    open_tab(page, "Compare")
    compare_prompt = page.locator("#compare-prompt").get_by_role("textbox")
    expect(compare_prompt).to_have_value("")  # switching tabs brings nothing over
    compare_prompt.fill("my own words")
    open_tab(page, "Generate")
    open_tab(page, "Compare")
    expect(compare_prompt).to_have_value("my own words")  # and changes nothing typed here
    assert rows(page) == ["SDXL"]

    take = page.get_by_role("button", name="⇤ From generator")
    take_box = take.bounding_box()
    assert take_box is not None and take_box["x"] + take_box["width"] <= size["width"]
    take.click()  # asked: every setting comes over, the generator's model as the first row
    expect(compare_prompt).to_have_value("a glass owl on a {red|blue} branch")
    expect(number(page, "Width")).to_have_value("768")
    expect(number(page, "Height")).to_have_value("512")
    expect(number(page, "Steps")).to_have_value("12")
    expect(number(page, "Guidance scale")).to_have_value("4")
    expect(page.get_by_label("Seed", exact=True).filter(visible=True)).to_have_value("77")
    expect(page.locator("#compare-cost")).to_contain_text("FLUX.1-dev:")  # priced with its row
    assert rows(page) == ["FLUX.1-dev · FLUX", "SDXL"]
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]


def test_a_flux_lora_row_is_priced_run_and_drawn_with_an_sd_row(screen, app_sandbox):
    page, _ = screen
    open_tab(page, "Compare")
    page.locator("#compare-prompt").get_by_role("textbox").fill("a logo on a sail")
    page.get_by_label("Models (rows, up to 8)").click()
    page.get_by_role("option", name="FLUX LoRA · heuristlogo", exact=True).click()
    page.keyboard.press("Escape")
    set_slider(page, "Width", 512)
    set_slider(page, "Height", 512)
    cost = page.locator("#compare-cost")
    expect(cost).to_contain_text("4 cells (2 × 2)")
    expect(cost).to_contain_text("FLUX LoRA · heuristlogo: 0.")
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.locator("#grid img")).to_have_count(1)
    expect(page.locator("#cells").get_by_role("button", name=shared.THUMBNAIL)).to_have_count(4)
    tasks = app_sandbox.workflow.endpoint_calls("task_create")
    assert [t["parameters"]["lora_name"] for t in tasks] == ["heuristlogo"] * 2
    assert len(app_sandbox.submissions) == 2  # the SDXL row's cells
