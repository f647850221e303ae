"""The studio at a glance, in Chromium at 1440×900 (a desk) and 390×844 (a phone): what is where,
what moves, the keyboard, contrast (axe-core), the history, and the "done" notices."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import test_browser as shared
from test_browser import CHROMIUM, expect, fresh_page, prompt_box, set_slider

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]
axe_package = pytest.importorskip("axe_playwright_python", reason="needs axe-playwright-python")
AXE_JS = (Path(axe_package.__file__).parent / "axe.min.js").read_text(encoding="utf-8")

DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
# axe findings inside Gradio's own widgets, not our theme or markup: the empty gallery's
# aria-label on a plain div, and the footer's settings icon whose alt repeats its text.
# And a gallery's image whose caption, shown under it, is also its alt text.
GRADIO_OWN = {"aria-prohibited-attr", "image-redundant-alt"}

browser, profiles, app_sandbox, app, keyless_app = (
    shared.browser,
    shared.profiles,
    shared.app_sandbox,
    shared.app,
    shared.keyless_app,
)


@pytest.fixture(params=[DESK, PHONE], ids=["desk", "phone"])
def screen(request, profiles, app, app_sandbox):
    """A fresh page of the keyed app at each size (the module's profile for it, emptied)."""
    app_sandbox.reset()
    app_sandbox.latency = 0.0
    page = fresh_page(profiles("screen", viewport=request.param), app.url)
    yield page, request.param
    page.close()


def box(page, selector: str) -> dict:
    """Where selector's first element is on the page (not the viewport: scrolling is no move)."""
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not on the page"
    return {**found, "y": found["y"] + page.evaluate("window.scrollY")}


def bottom(found: dict) -> float:
    return found["y"] + found["height"]


def test_prompt_generate_and_cost_are_at_the_top_and_the_results_beside_or_under(screen):
    page, size = screen
    prompt, generate, cost = (
        box(page, "#prompt"),
        box(page, "#generate-btn"),
        box(page, "#cost-line"),
    )
    results, settings = box(page, "#gallery"), box(page, "#studio-settings")
    assert bottom(generate) < size["height"] and bottom(cost) < size["height"]  # above the fold
    assert prompt["y"] < generate["y"] < cost["y"] < settings["y"]
    if size is DESK:  # beside the prompt, starting level with it
        assert results["x"] >= prompt["x"] + prompt["width"]
        assert abs(results["y"] - prompt["y"]) < 40
    else:  # right under the cost line, before the settings
        assert 0 <= results["y"] - bottom(cost) < 80
        assert bottom(results) <= settings["y"]
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]


def test_the_page_opens_on_the_studio_with_no_navbar_above_it(screen):
    """The agents' tools page is off the navbar; Gradio would still draw one with one link."""
    page, _ = screen
    expect(page.locator("nav")).to_have_count(1)  # Gradio's, for the two pages
    expect(page.locator("nav")).to_be_hidden()
    assert box(page, "h1")["y"] < 40


def test_nothing_that_appears_moves_what_a_user_aims_at(screen):
    page, _ = screen
    aimed = ["#prompt", "#generate-btn", "#cost-line", "#studio-settings"]
    before = {selector: box(page, selector)["y"] for selector in aimed}
    model = page.get_by_label("Model", exact=True)

    def model_y() -> float:
        return model.bounding_box()["y"] + page.evaluate("window.scrollY")

    start = model_y()
    for name in ("HeuristLogo", "SDXL"):  # LoRA help appears; FLUX hides the negative prompt
        model.click()
        page.get_by_role("option", name=re.compile(rf"^{re.escape(name)}( ·|$)")).click()
        expect(page.locator("#cost-line")).to_contain_text("FLUX" if name != "SDXL" else "SDXL")
        assert model_y() == start
    prompt_box(page).fill("a fox in the snow")
    page.get_by_role("button", name="✨ Enhance").click()  # ↩ Restore description appears
    expect(page.get_by_role("button", name="↩ Restore description")).to_be_visible()
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#gallery img[alt^='seed ']").first).to_be_visible()
    page.locator("#gallery img[alt^='seed ']").first.click()  # the record appears
    expect(page.locator("#details")).to_be_visible()
    assert {selector: box(page, selector)["y"] for selector in aimed} == before
    assert model_y() == start


def test_generate_is_a_few_tab_presses_from_the_prompt_and_every_control_shows_focus(screen):
    page, _ = screen
    prompt_box(page).focus()
    presses = 0
    while page.evaluate("document.activeElement.id") != "generate-btn":
        presses += 1
        assert presses <= 3, "Generate is more than 3 Tab presses from the prompt"
        page.keyboard.press("Tab")
    outline = "getComputedStyle(document.activeElement).outlineStyle"
    assert page.evaluate(outline) not in ("none", "")
    for control in (  # a slider's number box and its range, a radio, a dropdown
        page.get_by_label("number input for Steps"),
        page.get_by_label("range slider for Steps"),
        page.get_by_label("1:1"),
        page.get_by_label("Model", exact=True),
    ):
        control.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # focus by keyboard: :focus-visible applies
        style = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, s.boxShadow]; })()"
        )
        assert style[0] != "none" or style[1] != "none", control


def axe_violations(page) -> dict[str, list[str]]:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE_JS)
    found = page.evaluate(
        """async () => {
          const result = await axe.run(document, {resultTypes: ["violations"]});
          return result.violations.map((v) => [
            v.id, v.nodes.map((n) => n.html.slice(0, 80) + " " + (n.any[0] || {}).message)]);
        }"""
    )
    return dict(found)


TABS = ("Generate", "Compare", "PNG info", "Video", "FLUX LoRA")


def open_tab(page, name: str) -> None:
    """Select a tab: in the bar, or (a phone's bar is narrow) from Gradio's "More tabs" menu."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if not (tab.count() and tab.first.is_visible()):
        page.get_by_role("button", name="More tabs").click()
        tab = page.get_by_role("button", name=name, exact=True).filter(visible=True)
    tab.first.click()
    expect(page.locator(f"button.selected:text-is('{name}')")).not_to_have_count(0)


def test_no_contrast_failures_on_any_tab(screen):
    page, _ = screen
    prompt_box(page).fill("a lantern in the fog")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#gallery img[alt^='seed ']")).to_have_count(1)
    page.get_by_text("History (this browser", exact=False).first.click()
    expect(page.locator("#history-gallery img[alt*='a lantern in the fog']")).to_have_count(1)
    for tab in TABS:
        open_tab(page, tab)
        violations = axe_violations(page)
        assert "color-contrast" not in violations, (tab, violations["color-contrast"][:5])
        assert set(violations) <= GRADIO_OWN, (tab, violations)


def test_every_tab_fits_a_phone_without_clipped_labels(profiles, app):
    page = fresh_page(profiles("screen", viewport=PHONE), app.url)
    assert_every_tab_fits_a_phone(page, TABS)
    page.close()


def assert_every_tab_fits_a_phone(page, tabs: tuple[str, ...]) -> None:
    """Each tab, named as the page shows it: no sideways scroll, no clipped or broken labels."""
    for tab in tabs:
        open_tab(page, tab)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], tab
        clipped = page.evaluate(  # an accordion's rotated ▼ overflows its button: not text
            """() => {
              const shown = (el) => el.offsetParent !== null && el.clientWidth > 0;
              const wide = [...document.querySelectorAll(`label, [data-testid="block-info"],
                  button:not(.label-wrap), [role="tab"]`)]
                .filter(shown).filter((el) => el.scrollWidth > el.clientWidth + 1);
              const titles = [...document.querySelectorAll(".label-wrap")].filter(shown)
                .filter((el) => el.firstElementChild.getBoundingClientRect().right
                                > el.getBoundingClientRect().right + 1);
              return [...wide, ...titles].map((el) => el.textContent.trim().slice(0, 40));
            }"""
        )
        assert clipped == [], (tab, clipped)
        broken = page.evaluate(  # a word split over two lines shows as a label taller
            """() => [...document.querySelectorAll('[data-testid="block-info"]')]
              .filter((el) => el.offsetParent !== null)
              .filter((el) => !el.textContent.trim().includes(" ")
                              && el.getBoundingClientRect().height > 40)
              .map((el) => el.textContent.trim())"""
        )
        assert broken == [], (tab, broken)


def test_without_a_server_key_the_key_comes_first_with_how_to_get_one(profiles, keyless_app):
    page = fresh_page(profiles("screen", viewport=PHONE), keyless_app.url)
    key, prompt, generate = (
        box(page, "#api-key"),
        box(page, "#prompt"),
        box(page, "#generate-btn"),
    )
    assert bottom(key) < prompt["y"] and bottom(generate) < PHONE["height"]
    link = page.locator("#get-a-key").get_by_role("link", name="Heurist's site")
    expect(link).to_have_attribute("href", "https://heurist.ai")
    page.close()


@pytest.fixture
def page(profiles, app, app_sandbox):
    app_sandbox.reset()
    app_sandbox.latency = 0.0
    page = fresh_page(profiles("screen", viewport=DESK), app.url)
    yield page
    page.close()
    app_sandbox.reset()  # lets go of any job a test left held


def test_results_stay_newest_first_until_cleared(page):
    gallery = page.locator("#gallery button[aria-label^='Thumbnail'] img")
    for prompt in ("a first kite", "a second kite"):
        prompt_box(page).fill(prompt)
        page.get_by_role("button", name="Generate", exact=True).click()
        expect(gallery).to_have_count(1 if prompt == "a first kite" else 2)
    gallery.first.click()
    expect(page.locator("#details")).to_contain_text("a second kite")  # newest first
    page.get_by_role("button", name="🗑 Clear").click()
    expect(gallery).to_have_count(0)


def test_history_searches_filters_stars_and_holds_compare_runs(page):
    for prompt, model in (("a copper kettle", "SDXL"), ("a glass owl", "Aurora")):
        page.get_by_label("Model", exact=True).click()
        page.get_by_role("option", name=re.compile(rf"^{model}( ·|$)")).click()
        prompt_box(page).fill(prompt)
        page.get_by_role("button", name="Generate", exact=True).click()
        expect(page.locator("#gallery img[alt^='seed ']")).not_to_have_count(0)
    page.get_by_role("tab", name="Compare").click()
    page.locator("#compare-prompt").get_by_role("textbox").fill("a paper boat")
    set_slider(page, "Width", 256)
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.locator("#grid img")).to_have_count(1)
    page.get_by_role("tab", name="Generate").click()
    page.get_by_text("History (this browser", exact=False).first.click()
    # The history's images, once each (an open preview repeats them small, without captions).
    items = page.locator("#history-gallery button[aria-label^='Thumbnail'] img[alt*='seed ']")
    expect(items).to_have_count(4)  # two images, two compare cells
    expect(items.and_(page.locator("[alt^='Compare · ']"))).to_have_count(2)
    expect(items.first).to_have_attribute("src", re.compile(r"/gradio_api/file="))  # the image
    history = page.locator("#history")
    history.get_by_role("textbox", name="Search").fill("owl")
    expect(items).to_have_count(1)
    items.first.click()
    history.get_by_role("button", name="★ Favourite").click()
    history.get_by_role("textbox", name="Search").fill("")
    expect(items).to_have_count(4)
    history.get_by_label("★ only").check()
    expect(items).to_have_count(1)
    expect(items.first).to_have_attribute("alt", re.compile(r"^★ Aurora"))
    history.get_by_label("★ only").uncheck()
    history.get_by_label("Model filter").click()
    page.get_by_role("option", name="SDXL", exact=True).click()
    expect(items).to_have_count(3)  # the kettle and the two compare cells, all SDXL


def test_a_batch_ending_in_the_background_is_told_in_the_title_and_a_notification(page):
    page.evaluate(
        """() => {
          window.notes = [];
          window.Notification = class {
            constructor(title, options) { window.notes.push([title, options.body]); }
            static requestPermission() { this.permission = "granted"; return "granted"; }
          };
          window.Notification.permission = "default";
        }"""
    )
    page.get_by_role("button", name="🔔 Notify me when done").click()  # the browser asks
    expect(page.locator("#notify-btn")).to_have_text("🔔 Notifying when done")
    page.evaluate("Object.defineProperty(document, 'hidden', {value: true, configurable: true})")
    prompt_box(page).fill("a quiet harbour")
    set_slider(page, "Images", 2)
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page).to_have_title("✓ 2 images — Heurist Studio")
    assert page.evaluate("window.notes") == [["Heurist Studio", "2 images ready"]]
    page.evaluate("Object.defineProperty(document, 'hidden', {value: false, configurable: true})")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page).to_have_title("Heurist Studio")


def test_progress_counts_images_and_cells_in_those_words(page, app_sandbox):
    # The sandbox holds the jobs until the progress is seen: no race against a latency.
    gate = app_sandbox.hold()
    prompt_box(page).fill("a slow lighthouse")
    set_slider(page, "Images", 2)
    page.get_by_role("button", name="Generate", exact=True).click()
    gate.wait_for(1)
    progress = page.locator("#gallery").get_by_text(re.compile(r"of 2 images"))
    expect(progress.first).to_be_visible()
    expect(page.locator("#gallery")).not_to_contain_text("steps")
    gate.release()
    expect(page.locator("#gallery img[alt^='seed ']")).to_have_count(2)
    gate = app_sandbox.hold()
    page.get_by_role("tab", name="Compare").click()
    page.locator("#compare-prompt").get_by_role("textbox").fill("a slow boat")
    set_slider(page, "Width", 256)
    page.get_by_role("button", name="Compare", exact=True).click()
    gate.wait_for(1)
    expect(page.get_by_text(re.compile(r"of 2 cells")).first).to_be_visible()
    gate.release()
    expect(page.locator("#grid img")).to_have_count(1)
