"""The studio in a real headless Chromium (Debian's package), driven by Playwright.

Runs on the app as `python app.py --sandbox` builds it. (The README's screenshots come from
`python -m scripts.screenshots`, not from here: tests leave the working tree clean.)
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from ui_helpers import free_port, running_studio
from waiting import LIMIT, wait_until

from app import SANDBOX_KEY
from heurist_ui.pngfile import find_saved, read_png_metadata, save_png
from heurist_ui.sandbox import Sandbox, render_image, render_placeholder
from heurist_ui.ui import gradio_private
from heurist_ui.ui.form import FORM_STORAGE

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 1000}
# Every browser test's wait (Playwright's actions, page loads and expect(), set once here):
# waiting.LIMIT, a safety net that a busy machine only makes slower, never a measurement (a
# page's first load, Gradio's bundle compiled cold, had 60 s when an action had 15).
TIMEOUT_MS = int(LIMIT * 1000)
KEEP_FORM = "test-keep-form"
THUMBNAIL = re.compile(r"^Thumbnail \d+ of \d+$")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
expect = sync_api.expect
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def app_sandbox():
    with Sandbox(port=0) as server:
        yield server


@pytest.fixture(scope="module")
def app(app_sandbox, tmp_path_factory):
    """The app with the sandbox's key, as `python app.py --sandbox` runs it."""
    with running_studio(app_sandbox, tmp_path_factory.mktemp("app"), api_key=SANDBOX_KEY) as app:
        yield app


@pytest.fixture(scope="module")
def keyless_app(tmp_path_factory):
    """An app whose server has no key, over an API that accepts only "good-key"."""
    with (
        Sandbox(port=0, valid_keys={"good-key"}) as server,
        running_studio(server, tmp_path_factory.mktemp("keyless"), api_key=None) as app,
    ):
        yield app


@pytest.fixture(scope="module")
def context(browser):
    """One browser profile for the keyed app's tests: its cache makes each page load faster."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    # Each test starts from the default form, unless it asks to keep the saved one.
    context.add_init_script(
        f"if (!sessionStorage.getItem('{KEEP_FORM}')) localStorage.removeItem('{FORM_STORAGE}');"
    )
    yield context
    context.close()


@pytest.fixture(scope="module")
def keyless_context(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


PRICED = re.compile("credits|créditos|积分")  # ui/messages.py "price", in each language
EMPTY_STORAGE = {"cookies": [], "origins": []}


@pytest.fixture(scope="module")
def profiles(browser):
    """profiles(name, **options): a module's browser profile of that name, made once.

    A new profile per test starts with an empty HTTP cache, so its page fetches and compiles
    Gradio's bundle again: a usable page took 1.6-1.8 s in a new profile against 1.5-1.65 s in
    an emptied one here (3.7 against 2 s once under heavy load). A module's tests share one per
    name and screen size instead, and emptied() clears it for each test (set_storage_state: no
    pages, cookies or storage; the cache kept, as no page is left for Playwright to clear it).
    """
    made: dict[tuple, object] = {}

    def profile(name: str, **options):
        key = (name, repr(sorted(options.items())))
        if key not in made:
            made[key] = browser.new_context(**options)
            made[key].set_default_timeout(TIMEOUT_MS)
        return made[key]

    yield profile
    for context in made.values():
        context.close()


def emptied(context):
    """The profile without its pages, cookies and storage (localStorage, IndexedDB), as new."""
    for page in context.pages:
        page.close()
    context.set_storage_state(EMPTY_STORAGE)
    return context


def fresh_page(context, url: str):
    """A page of url in the emptied profile, once the app is usable (as open_page)."""
    return open_page(emptied(context), url)


def open_page(context, url: str):
    page = context.new_page()
    page.goto(url)
    # Priced, in the page's language (English as built, the browser's once loaded).
    expect(page.locator("#cost-line")).to_contain_text(PRICED)
    loaded = page.locator("body[data-form-loaded='yes']")  # restored, bounded
    expect(loaded).to_have_count(1)
    return page


@pytest.fixture
def page(context, app, app_sandbox):
    app_sandbox.reset()
    app_sandbox.latency = 0.0
    page = open_page(context, app.url)
    yield page
    page.close()
    app_sandbox.reset()  # lets go of any job a test left held


@pytest.fixture
def keyless_page(keyless_context, keyless_app):
    page = open_page(keyless_context, keyless_app.url)
    yield page
    page.close()


def prompt_box(page):
    return page.get_by_label("Prompt", exact=True)


def thumbnails(page):
    return page.locator("#gallery").get_by_role("button", name=THUMBNAIL)


def open_history(page):
    """Open the history panel; its images, by their captions."""
    page.get_by_text("History (this browser", exact=False).first.click()
    return page.locator("#history-gallery button[aria-label^='Thumbnail'] img")


def history_items(page, text: str):
    """The history's images whose caption holds text."""
    return page.locator(f"#history-gallery button[aria-label^='Thumbnail'] img[alt*='{text}']")


def set_slider(page, label: str, value: int) -> None:
    box = page.get_by_label(f"number input for {label}").filter(visible=True)
    box.fill(str(value))
    box.press("Enter")


def test_generate_shows_an_image(page, app_sandbox):
    expect(page.locator("#badge")).to_have_text("sandbox")
    prompt_box(page).fill("a lighthouse at dusk")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(thumbnails(page)).to_have_count(1)
    expect(page.locator("#gallery img").first).to_have_attribute("alt", re.compile(r"^seed \d+"))
    assert len(app_sandbox.submissions) == 1


def test_selecting_an_image_shows_its_record_and_reuses_its_seed(page):
    prompt_box(page).fill("a red fox in the snow")
    page.get_by_label("Seed").fill("4242")
    page.get_by_role("button", name="Generate", exact=True).click()
    thumbnails(page).first.click()
    details = page.locator("#details")
    expect(details).to_contain_text("4242")
    expect(details).to_contain_text("a red fox in the snow")
    page.get_by_label("Seed").fill("-1")
    page.get_by_role("button", name=re.compile("Reuse seed")).click()
    expect(page.get_by_label("Seed")).to_have_value("4242")


def test_png_info_reads_a_dropped_png_and_sends_it_to_the_generator(page, tmp_path):
    record = {
        "job_id": "heurist-ui-0123456789abcdef",
        "model_id": "Aurora",
        "seed": 31337,
        "width": 512,
        "height": 768,
        "num_iterations": 27,
        "guidance_scale": 6.5,
        "prompt": "a glass teapot, 灯塔",
        "neg_prompt": "blurry",
    }
    png = save_png(
        render_placeholder(512, 768, prompt="x", model_id="Aurora", seed=1), record, tmp_path
    )
    page.get_by_role("tab", name="PNG info").click()
    page.locator("input[type=file]").set_input_files(str(png))
    expect(page.get_by_text("Steps: 27", exact=False)).to_be_visible()
    page.get_by_role("button", name="Send to generator").click()
    expect(prompt_box(page)).to_have_value("a glass teapot, 灯塔")
    expect(page.get_by_label("Seed")).to_have_value("31337")
    expect(page.locator("#cost-line")).to_contain_text("SD 1.5, 512×768, 27 steps")


def test_png_info_reads_a_dropped_jpeg_kept_as_heurist_sent_it(page, tmp_path):
    record = {
        "job_id": "heurist-ui-00112233445566778899",
        "model_id": "SDXL",
        "seed": 777,
        "width": 512,
        "height": 512,
        "num_iterations": 23,
        "guidance_scale": 5.5,
        "prompt": "a harbour in the fog",
        "neg_prompt": "",
    }
    jpeg = render_image(512, 512, "jpeg", prompt="x", model_id="SDXL", seed=1)
    saved = save_png(jpeg, record, tmp_path)
    assert saved.suffix == ".jpg"
    page.get_by_role("tab", name="PNG info").click()
    page.locator("input[type=file]").set_input_files(str(saved))
    expect(page.get_by_text("Steps: 23", exact=False)).to_be_visible()
    page.get_by_role("button", name="Send to generator").click()
    expect(prompt_box(page)).to_have_value("a harbour in the fog")
    expect(page.get_by_label("Seed")).to_have_value("777")


def test_ctrl_enter_generates_and_history_survives_a_page_reload(page, app_sandbox):
    prompt = "a paper boat on a puddle"
    prompt_box(page).fill(prompt)
    prompt_box(page).press("Control+Enter")
    expect(thumbnails(page)).to_have_count(1)
    settle(page)  # a second, unwanted run would have been sent before this event
    assert len(app_sandbox.submissions) == 1
    open_history(page)
    expect(history_items(page, prompt)).to_have_count(1)
    page.reload()
    open_history(page)
    expect(history_items(page, prompt)).to_have_count(1)


def test_a_history_row_whose_image_was_deleted_restores_and_says_so(page, app, app_sandbox):
    prompt = "a kite over the dunes"
    prompt_box(page).fill(prompt)
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(thumbnails(page)).to_have_count(1)
    saved = find_saved(app.studio.runner.output_dir, app_sandbox.submissions[-1].job_id)
    assert saved is not None
    saved.unlink()  # as retention does once the folder is over its cap
    prompt_box(page).fill("something else")

    open_history(page)
    history_items(page, prompt).first.click()
    page.get_by_role("button", name="Restore its settings").click()

    expect(page.get_by_text("no longer kept here", exact=False)).to_be_visible()
    expect(prompt_box(page)).to_have_value(prompt)


def test_the_form_survives_a_page_reload(page):
    prompt_box(page).fill("a tram in the rain")
    set_slider(page, "Images", 3)
    set_slider(page, "Steps", 31)
    expect(page.locator("#cost-line")).to_contain_text("31 steps")
    page.evaluate(f"sessionStorage.setItem('{KEEP_FORM}', '1')")
    page.reload()
    expect(prompt_box(page)).to_have_value("a tram in the rain")
    expect(page.get_by_label("number input for Images")).to_have_value("3")
    expect(page.locator("#cost-line")).to_contain_text("31 steps")
    expect(page.locator("#cost-line")).to_contain_text("3 images")


def test_changing_the_width_updates_the_cost_line(page):
    cost = page.locator("#cost-line")
    before = cost.inner_text()
    set_slider(page, "Width", 512)
    expect(cost).not_to_have_text(before)
    expect(cost).to_contain_text("512×")


def test_picking_flux_hides_the_negative_prompt(page):
    negative = page.get_by_label("Negative prompt")
    expect(negative).to_be_visible()
    page.get_by_label("Model").click()
    page.get_by_role("option", name=re.compile(r"^FLUX\.1-dev")).click()
    expect(negative).to_be_hidden()
    expect(page.locator("#cost-line")).to_contain_text("FLUX")


def start_a_held_job(page, sandbox: Sandbox):
    """Generate with the API holding the job; return (the progress bar, the gate) once it is
    held there."""
    gate = sandbox.hold()
    prompt_box(page).fill("a slow sunrise")
    page.get_by_role("button", name="Generate", exact=True).click()
    # Gradio does not always draw its progress bar, so ask the API whether the job arrived.
    gate.wait_for(1)
    return page.get_by_role("progressbar"), gate


def settle(page) -> None:
    """Run a queued event (✨ Enhance, then ↩ Restore) to its end on this page.

    Gradio sends a page's updates in one ordered stream, and starts its events in order: once
    this one's answer shows, every update sent before it has been shown. A check after it that
    something did NOT happen needs no guessed wait.
    """
    before = prompt_box(page).input_value()
    page.get_by_role("button", name="✨ Enhance").click()
    restore = page.get_by_role("button", name="↩ Restore description")
    expect(restore).to_be_visible()
    restore.click()
    expect(prompt_box(page)).to_have_value(before)


def wait_for_saved(app, sandbox: Sandbox, count: int) -> None:
    """Wait until the app has saved the images of count jobs: they ended on the server side."""

    def saved() -> bool:
        jobs = [sub.job_id for sub in sandbox.submissions]
        output = app.studio.runner.output_dir
        return len(jobs) >= count and all(find_saved(output, job) for job in jobs)

    wait_until(saved, f"the app to save the images of {count} jobs")


def test_stop_abandons_the_unfinished_jobs(page, app, app_sandbox):
    progress, gate = start_a_held_job(page, app_sandbox)
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(progress).to_have_count(0)
    gate.release()  # the job finishes after Stop
    wait_for_saved(app, app_sandbox, 1)
    settle(page)
    expect(thumbnails(page)).to_have_count(0)  # not shown
    expect(prompt_box(page)).to_have_value("a slow sunrise")


def test_generate_while_a_batch_runs_starts_another_at_once(page, app_sandbox):
    _, gate = start_a_held_job(page, app_sandbox)
    prompt_box(page).fill("a second batch, while the first runs")
    page.get_by_role("button", name="Generate", exact=True).click()
    gate.wait_for(2)  # the second batch's job is at the API beside the first one's
    gate.release(1)  # one batch ends first
    expect(thumbnails(page)).to_have_count(1)
    settle(page)
    gate.release()
    expect(thumbnails(page)).to_have_count(2)  # both batches' images, together
    settle(page)
    expect(thumbnails(page)).to_have_count(2)


def test_two_batches_ending_together_both_stay(page, app_sandbox):
    _, gate = start_a_held_job(page, app_sandbox)
    prompt_box(page).fill("a second batch, ending with the first")
    page.get_by_role("button", name="Generate", exact=True).click()
    gate.wait_for(2)
    gate.release()  # both at once: their last views may reach the page in either order
    expect(thumbnails(page)).to_have_count(2)
    settle(page)
    expect(thumbnails(page)).to_have_count(2)


def test_stop_ends_every_running_batch(page, app, app_sandbox):
    progress, gate = start_a_held_job(page, app_sandbox)
    page.get_by_role("button", name="Generate", exact=True).click()
    gate.wait_for(2)
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(progress).to_have_count(0)
    gate.release()  # both jobs finish after Stop
    wait_for_saved(app, app_sandbox, 2)
    settle(page)
    expect(thumbnails(page)).to_have_count(0)  # not shown


def test_without_a_key_the_page_says_so_and_a_bad_key_is_rejected(keyless_page):
    page = keyless_page
    expect(page.locator("#no-key")).to_contain_text("HEURIST_API_KEY")
    prompt_box(page).fill("a red fox in the snow")
    page.get_by_label("API key").fill("bad-key")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.get_by_test_id("toast-body")).to_contain_text("rejected")
    expect(prompt_box(page)).to_have_value("a red fox in the snow")
    expect(thumbnails(page)).to_have_count(0)
    # A pasted key hides the notice and is kept in this browser, across a reload.
    expect(page.locator("#no-key")).to_be_hidden()
    page.reload()
    expect(page.get_by_label("API key")).to_have_value("bad-key")
    expect(page.locator("#no-key")).to_be_hidden()


def test_four_images_stream_in_with_progress(page, app_sandbox):
    gate = app_sandbox.hold()  # the jobs end when the test says
    prompt_box(page).fill("a lighthouse at dusk, volumetric light, oil painting")
    set_slider(page, "Images", 4)
    expect(page.locator("#cost-line")).to_contain_text("4 images")
    page.get_by_role("button", name="Generate", exact=True).click()
    gate.wait_for(4)
    expect(page.get_by_role("progressbar", name=re.compile(r"0 of 4"))).to_be_visible()
    gate.release(1)
    expect(thumbnails(page)).to_have_count(1)  # the first streams in alone
    gate.release()
    expect(thumbnails(page)).to_have_count(4)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    assert len(app_sandbox.submissions) == 4


def test_history_survives_a_restart_of_the_server(browser, app_sandbox, tmp_path):
    # Same port, so the same origin and the same localStorage, as a user reloading after a
    # restart (or a Space waking up) would have.
    port = free_port()
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    prompt = "a heron at first light"
    try:
        with running_studio(app_sandbox, tmp_path / "a", api_key=SANDBOX_KEY, port=port) as app:
            page = open_page(context, app.url)
            prompt_box(page).fill(prompt)
            page.get_by_role("button", name="Generate", exact=True).click()
            expect(thumbnails(page)).to_have_count(1)
            open_history(page)
            expect(history_items(page, prompt)).to_have_count(1)
        with running_studio(app_sandbox, tmp_path / "b", api_key=SANDBOX_KEY, port=port) as app:
            page.reload()
            expect(page.locator("#cost-line")).to_contain_text("credits")
            open_history(page)
            expect(history_items(page, prompt)).to_have_count(1)
    finally:
        context.close()


def test_enhance_replaces_the_prompt_and_restore_brings_the_description_back(page):
    prompt_box(page).fill("a fox in the snow")
    page.get_by_role("button", name="✨ Enhance").click()
    expect(prompt_box(page)).to_have_value(re.compile(r"^a fox in the snow, .*masterpiece$"))
    prompt_box(page).press("End")
    prompt_box(page).type(", dusk")  # the enhanced prompt stays editable
    page.get_by_role("button", name="↩ Restore description").click()
    expect(prompt_box(page)).to_have_value("a fox in the snow")
    expect(page.get_by_role("button", name="↩ Restore description")).to_be_hidden()


def test_a_failed_enhance_leaves_the_description_and_says_why(page, app_sandbox):
    app_sandbox.add_fault("status", status=500)
    prompt_box(page).fill("a heron in the reeds")
    page.get_by_role("button", name="✨ Enhance").click()
    expect(page.get_by_test_id("toast-body")).to_contain_text("(500)")
    expect(prompt_box(page)).to_have_value("a heron in the reeds")


def test_an_example_fills_the_form_for_the_model(page):
    page.get_by_label("Model").click()
    page.get_by_role("option", name=re.compile(r"^FLUX\.1-dev")).click()
    example = page.locator("#examples").get_by_text("Fox in the snow", exact=False)
    example.click()
    expect(prompt_box(page)).to_have_value(re.compile(r"^A red fox curled up in fresh snow"))
    expect(page.locator("#cost-line")).to_contain_text("FLUX")


def test_a_style_shows_what_will_be_sent_and_the_record_keeps_it(page, app_sandbox):
    prompt_box(page).fill("a paper crane")
    page.get_by_label("Style").click()
    page.get_by_role("option", name="Watercolor", exact=True).click()
    expect(page.locator("#sent-prompt")).to_contain_text("watercolor painting of a paper crane")
    expect(page.locator("#cost-line")).to_contain_text("style Watercolor")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(thumbnails(page)).to_have_count(1)
    (submission,) = app_sandbox.submissions
    assert submission.payload["model_input"]["SD"]["prompt"].startswith(
        "watercolor painting of a paper crane"
    )
    thumbnails(page).first.click()
    expect(page.locator("#details")).to_contain_text("watercolor painting of a paper crane")


def test_markup_in_pasted_parameters_stays_text(page):
    page.get_by_role("tab", name="PNG info").click()
    page.get_by_label("Or paste parameters").fill(
        '```\n<img src="http://tracker.invalid/b.png"> [a link](http://tracker.invalid)\n'
        "Steps: 20, Seed: 1"
    )
    shown = page.locator("#png-text")
    expect(shown).to_contain_text('<img src="http://tracker.invalid/b.png">')
    expect(shown.locator("img")).to_have_count(0)
    expect(shown.locator("a")).to_have_count(0)


def pick_models(page, names: list[str]) -> None:
    for name in names:
        page.get_by_label("Models (rows, up to 8)").click()
        page.get_by_role("option", name=re.compile(rf"^{re.escape(name)}( ·|$)")).click()
    page.keyboard.press("Escape")


def test_compare_three_models_by_two_seeds_streams_six_cells_and_the_grid(page, app_sandbox):
    page.get_by_role("tab", name="Compare").click()
    page.locator("#compare-prompt").get_by_role("textbox").fill("a lighthouse at dusk")
    pick_models(page, ["Aurora", "FLUX.1-dev"])  # SDXL is already picked
    set_slider(page, "Width", 256)
    set_slider(page, "Height", 256)
    cost = page.locator("#compare-cost")
    expect(cost).to_contain_text("6 cells (3 × 2)")
    expect(cost).to_contain_text("FLUX.1-dev: 0.")
    app_sandbox.add_fault("status", status=500)  # one cell fails, in its place
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.locator("#cells").get_by_role("button", name=THUMBNAIL)).to_have_count(5)
    expect(page.locator("#grid img")).to_have_count(1)
    assert len(app_sandbox.submissions) == 6
    with page.expect_download() as download_info:
        page.get_by_role("button", name="⬇ Download all").click()
    path = download_info.value.path()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names[0] == "00_grid.png" and len(names) == 6
        with archive.open(names[1]) as first:
            text, record = read_png_metadata(first.read())
    assert text.startswith("a lighthouse at dusk")
    assert "Sampler: Default" in text and record["seed"] >= 0


def test_a_link_opens_the_studio_with_the_form_filled(context, app):
    page = context.new_page()
    page.goto(f"{app.url}?prompt=a+glass+owl&model=FLUX.1-dev&steps=99&seed=77")
    expect(prompt_box(page)).to_have_value("a glass owl")
    expect(page.get_by_label("Seed")).to_have_value("77")
    expect(page.locator("#cost-line")).to_contain_text("FLUX")
    expect(page.get_by_test_id("toast-body")).to_contain_text("steps '99'")
    page.close()


def test_link_to_these_settings_gives_a_url_without_the_key(page):
    prompt_box(page).fill("a paper lantern")
    page.get_by_text("API key", exact=True).first.click()  # open the accordion
    page.get_by_label("API key").fill("someone#SECRET-KEY")
    page.get_by_role("button", name="🔗 Link to these settings").click()
    link = page.locator("#link").get_by_role("textbox")
    expect(link).to_have_value(re.compile(r"\?prompt=a\+paper\+lantern&"))
    assert "SECRET" not in link.input_value()
    page.get_by_label("API key").fill("")


CRAFTED = "<form><input id=evil></form>"


def test_a_crafted_link_shows_its_values_as_text_in_the_notice(context, app):
    page = context.new_page()
    page.goto(
        f"{app.url}?model={quote(CRAFTED)}&steps={quote('<b id=bold>x</b>')}&seed={quote('[a](http://x.y)')}"
    )
    toast = page.get_by_test_id("toast-body")
    expect(toast).to_contain_text(CRAFTED)
    expect(toast).to_contain_text("<b id=bold>x</b>")
    expect(page.locator("#evil")).to_have_count(0)
    expect(toast).to_contain_text("[a](http://x.y)")
    expect(page.locator("#bold")).to_have_count(0)
    expect(toast.locator("a")).to_have_count(0)
    page.close()


def test_an_error_body_made_of_html_shows_as_text(page, app_sandbox):
    body = '<form id="upstream"><input id="evil"></form><img id="pixel" src="x.png">'
    app_sandbox.add_fault("status", status=500, body=body)
    prompt_box(page).fill("a heron in the reeds")
    page.get_by_role("button", name="Generate", exact=True).click()
    toast = page.get_by_test_id("toast-body")
    expect(toast).to_contain_text('<form id="upstream">')
    for element in ("#upstream", "#evil", "#pixel"):
        expect(page.locator(element)).to_have_count(0)


def test_a_prompt_with_markup_stays_text_in_the_record_and_the_history(page, app_sandbox):
    prompt = 'a <b id="bold">bold</b> fox [a link](http://x.y) www.x.org me@x.org'
    prompt_box(page).fill(prompt)
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(thumbnails(page)).to_have_count(1)
    thumbnails(page).first.click()
    expect(page.locator("#details")).to_contain_text(prompt)
    open_history(page)
    expect(history_items(page, "bold</b> fox")).to_have_count(1)  # its caption, as text
    expect(page.locator("#bold")).to_have_count(0)
    expect(page.locator("#details a")).to_have_count(0)


def test_the_cost_line_comes_with_the_page_before_any_event(app):
    config = requests.get(app.url.rstrip("/") + "/config", timeout=30).json()
    cost = next(c for c in config["components"] if c["props"].get("elem_id") == "cost-line")
    assert "credits" in cost["props"]["value"]  # Generate is usable with no round trip


def test_a_closed_pages_session_is_let_go_and_an_open_ones_kept(context, app, monkeypatch):
    monkeypatch.setattr(gradio_private, "CLOSED_SESSION_GRACE", 0.0)
    sessions = app.demo.state_holder.session_data
    before = set(sessions)
    closing = open_page(context, app.url)
    mine = wait_until(lambda: set(sessions) - before, "the page's session")
    staying = open_page(context, app.url)
    theirs = wait_until(lambda: set(sessions) - before - mine, "the other page's session")

    closing.close()

    wait_until(lambda: not mine & set(sessions), "the closed page's session let go")
    assert theirs <= set(sessions)
    staying.close()


def test_a_closed_page_whose_queued_load_ended_leaves_nothing_in_the_queue(
    context, app, monkeypatch
):
    monkeypatch.setattr(gradio_private, "CLOSED_SESSION_GRACE", 0.0)
    sessions, queue = app.demo.state_holder.session_data, app.demo._queue
    before = set(sessions)
    page = open_page(context, app.url)
    (mine,) = wait_until(lambda: set(sessions) - before, "the page's session")

    def load_event_ended() -> bool:  # what Queue.push leaves once the stream of its events ends
        ids = queue.pending_event_ids_session.get(mine)
        return ids is not None and not ids and mine in queue.pending_messages_per_session

    wait_until(load_event_ended, "the page's queued load event ended")
    page.close()

    wait_until(
        lambda: (
            mine not in queue.pending_messages_per_session
            and mine not in queue.pending_event_ids_session
        ),
        "the closed page's queue entries let go",
    )
    assert mine not in sessions
