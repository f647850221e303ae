"""The studio in a real headless Chromium (Debian's package), driven by Playwright.

Runs on the app as `python app.py --sandbox` builds it. (The README's screenshots come from
`python -m scripts.screenshots`, not from here: tests leave the working tree clean.)
"""

from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path

import pytest
from ui_helpers import free_port, running_studio

from app import SANDBOX_KEY
from heurist_ui.pngfile import find_saved, read_png_metadata, save_png
from heurist_ui.sandbox import Sandbox, render_image, render_placeholder
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
TIMEOUT_MS = 15_000
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


def open_page(context, url: str):
    page = context.new_page()
    page.goto(url)
    expect(page.locator("#cost-line")).to_contain_text("credits")  # the load events ran
    return page


@pytest.fixture
def page(context, app, app_sandbox):
    app_sandbox.reset()
    app_sandbox.latency = 0.0
    page = open_page(context, app.url)
    yield page
    page.close()


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
    page.wait_for_timeout(500)  # a second, unwanted run would have started by now
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


def start_a_slow_job(page, sandbox: Sandbox, seconds: float):
    """Generate with the API taking `seconds`; return once the job is at the API."""
    sandbox.latency = seconds
    prompt_box(page).fill("a slow sunrise")
    page.get_by_role("button", name="Generate", exact=True).click()
    # Gradio does not always draw its progress bar, so ask the API whether the job arrived.
    assert wait_for_in_flight(sandbox, 1), "the job never reached the API"
    return page.get_by_role("progressbar")


def wait_for_in_flight(sandbox: Sandbox, count: int) -> bool:
    """Wait until `count` jobs are at the API at once; False if that never happens."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while sandbox.in_flight < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return sandbox.in_flight >= count


def wait_for_answers(sandbox: Sandbox, count: int, timeout: float = 15.0) -> None:
    """Let jobs still in flight finish, so they are not counted in the next test."""
    deadline = time.monotonic() + timeout
    while len(sandbox.submissions) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_stop_abandons_the_unfinished_jobs(page, app_sandbox):
    progress = start_a_slow_job(page, app_sandbox, 1.5)
    page.get_by_role("button", name="Stop", exact=True).click()
    wait_for_answers(app_sandbox, 1)
    expect(progress).to_have_count(0)
    page.wait_for_timeout(300)
    expect(thumbnails(page)).to_have_count(0)  # the job finished after Stop: not shown
    expect(prompt_box(page)).to_have_value("a slow sunrise")


def test_generate_while_a_batch_runs_starts_another_at_once(page, app_sandbox):
    start_a_slow_job(page, app_sandbox, 2.0)
    try:
        prompt_box(page).fill("a second batch, while the first runs")
        page.get_by_role("button", name="Generate", exact=True).click()
        assert wait_for_in_flight(app_sandbox, 2), "the second batch waited for the first"
        expect(thumbnails(page)).to_have_count(2)  # both batches' images, together
        page.wait_for_timeout(300)
        expect(thumbnails(page)).to_have_count(2)
    finally:
        wait_for_answers(app_sandbox, 2)


def test_stop_ends_every_running_batch(page, app_sandbox):
    start_a_slow_job(page, app_sandbox, 2.0)
    try:
        page.get_by_role("button", name="Generate", exact=True).click()
        assert wait_for_in_flight(app_sandbox, 2)
        page.get_by_role("button", name="Stop", exact=True).click()
    finally:
        wait_for_answers(app_sandbox, 2)
    page.wait_for_timeout(300)
    expect(thumbnails(page)).to_have_count(0)  # both jobs finished after Stop: not shown


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
    app_sandbox.latency = 1.0  # long enough to see the progress bar
    prompt_box(page).fill("a lighthouse at dusk, volumetric light, oil painting")
    set_slider(page, "Images", 4)
    expect(page.locator("#cost-line")).to_contain_text("4 images")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.get_by_role("progressbar", name=re.compile(r"\d of 4"))).to_be_visible()
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
