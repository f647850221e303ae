"""The Video tab in headless Chromium: generate, watch progress, play, download, stop."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import av
import pytest
import test_browser as shared
from ui_helpers import api_client, running_studio
from waiting import wait_until

from app import SANDBOX_KEY
from heurist_ui.sandbox import Sandbox
from heurist_ui.video import read_video_record

CHROMIUM = Path("/usr/bin/chromium")
POLL = 0.05  # the studio's poll interval here: small, so a held task is seen soon

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]

expect = shared.expect


@pytest.fixture(scope="module")
def app_sandbox():
    with Sandbox(port=0) as server:
        yield server


@pytest.fixture(scope="module")
def app(app_sandbox, tmp_path_factory):
    with running_studio(app_sandbox, tmp_path_factory.mktemp("video"), api_key=SANDBOX_KEY) as app:
        app.studio.runner.workflow.poll_interval = POLL
        yield app


# One Chromium for the browser tests, as test_browser_form does; the module's profiles are
# emptied for each test (test_browser.emptied): a new profile's page state, with the cache kept.
browser, profiles = shared.browser, shared.profiles
SCREEN = {"viewport": {"width": 1400, "height": 1000}, "accept_downloads": True}


@pytest.fixture
def context(profiles, app, app_sandbox):
    """A profile of its own (a link opened elsewhere than the page fixture's)."""
    app_sandbox.reset()
    context = shared.emptied(profiles("context", **SCREEN))
    yield context
    for page in context.pages:
        page.close()


@pytest.fixture
def page(profiles, app, app_sandbox):
    app_sandbox.reset()
    # Usable, its load events done (as every browser test's page): a click sooner may land
    # before the page listens, and a busy run once lost a Generate so.
    page = shared.fresh_page(profiles("page", **SCREEN), app.url)
    page.get_by_role("tab", name="Video").click()
    yield page
    page.close()


def progress(page):
    return page.locator("#video-progress textarea")


def test_a_video_is_generated_with_progress_played_and_downloaded(page, app_sandbox, tmp_path):
    app_sandbox.workflow.hold = True
    expect(page.locator("#video-cost")).to_contain_text("25 credits")
    page.get_by_label("Video prompt").fill("a red fox runs through snow")
    page.get_by_role("button", name="Generate video").click()

    expect(progress(page)).to_have_value(prefix("Waiting, number 1 in the queue"))
    app_sandbox.workflow.advance()
    expect(progress(page)).to_have_value(prefix("Running"))
    app_sandbox.workflow.advance()
    expect(progress(page)).to_have_value(prefix("Finished"))

    source = page.locator("#video-player video")
    expect(source).to_have_attribute("src", prefix("http"))
    with page.expect_download() as caught:
        page.locator("#video-download").click()
    saved = tmp_path / "video.mp4"
    caught.value.save_as(saved)
    with av.open(str(saved)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    assert read_video_record(saved)["prompt"] == "a red fox runs through snow"
    open_history(page)
    expect(history_items(page, "a red fox runs through snow")).to_have_count(1)


def test_stop_cancels_the_task_at_heurist(page, app_sandbox):
    app_sandbox.workflow.hold = True
    page.get_by_label("Video prompt").fill("a slow sunrise")
    page.get_by_role("button", name="Generate video").click()
    expect(progress(page)).to_have_value(prefix("Waiting"))

    page.get_by_role("button", name="Stop", exact=True).click()

    wait_until(lambda: app_sandbox.workflow.endpoint_calls("task_cancel"), "task_cancel")
    assert app_sandbox.workflow.tasks[0].canceled


def test_mochi_shows_its_settings_and_says_heurist_publishes_no_price(page):
    expect(page.get_by_label("Length (frames)")).to_have_count(0)
    page.get_by_label("Mochi video").check()

    expect(page.locator("#video-cost")).to_contain_text("no price for Mochi")
    expect(page.get_by_label("number input for Length (frames)")).to_be_visible()


def prefix(text: str) -> re.Pattern:
    return re.compile("^" + re.escape(text))


def open_history(page) -> None:
    page.locator("#video-history").get_by_text("History (this browser", exact=False).click()


def history_items(page, text: str):
    """The video history's posters whose caption holds text."""
    return page.locator(
        f"#video-history-gallery button[aria-label^='Thumbnail'] img[alt*='{text}']"
    )


def test_a_video_stays_in_the_history_across_a_reload_plays_and_restores(page, app):
    prompt = "a heron lifts off the water"
    open_history(page)
    page.get_by_label("Video prompt").fill(prompt)
    page.get_by_role("button", name="Generate video").click()
    expect(progress(page)).to_have_value(prefix("Finished"))
    expect(history_items(page, prompt)).to_have_count(1)

    page.reload()
    page.get_by_role("tab", name="Video").click()
    open_history(page)
    history_items(page, prompt).click()

    expect(progress(page)).to_have_value(prefix("From the history"))
    expect(page.locator("#video-player video")).to_have_attribute("src", prefix("http"))
    expect(page.locator("#video-record")).to_contain_text(prompt)
    page.get_by_label("Video prompt").fill("something else")
    page.get_by_role("button", name="Restore its settings").click()
    expect(page.get_by_label("Video prompt")).to_have_value(prompt)


def test_a_video_link_opens_the_video_tab_with_its_settings(page, context, app):
    page.get_by_label("Mochi video").check()
    page.get_by_label("Video prompt").fill("tide pools at dawn")
    length = page.get_by_label("number input for Length (frames)")
    length.fill("40")
    length.press("Enter")
    page.get_by_role("button", name="🔗 Link to these settings").click()
    link = page.locator("#video-link").get_by_role("textbox")
    expect(link).to_have_value(re.compile(r"\?tab=video&prompt=tide\+pools\+at\+dawn&"))
    url = link.input_value()
    assert "model=mochi" in url and "length=40" in url

    opened = context.new_page()
    opened.goto(url)
    expect(opened.get_by_label("Video prompt")).to_have_value("tide pools at dawn")
    expect(opened.get_by_label("Mochi video")).to_be_checked()
    expect(opened.get_by_label("number input for Length (frames)")).to_have_value("40")
    expect(opened.get_by_label("Prompt", exact=True)).to_have_value("")  # the generator's


CRAFTED = "<b id=bold>x</b>"


def test_a_crafted_video_link_is_bounded_and_its_values_shown_as_text(context, app):
    page = context.new_page()
    page.goto(
        f"{app.url}?tab=video&prompt=waves&model={quote(CRAFTED)}&fps=999"
        f"&seed={quote('[a](http://x.y)')}"
    )
    expect(page.get_by_label("Video prompt")).to_have_value("waves")
    toast = page.get_by_test_id("toast-body")
    expect(toast).to_contain_text(CRAFTED)
    expect(toast).to_contain_text("fps '999' (1 to 60)")
    expect(toast).to_contain_text("[a](http://x.y)")
    expect(page.locator("#bold")).to_have_count(0)
    expect(toast.locator("a")).to_have_count(0)
    expect(page.get_by_label("Hunyuan video")).to_be_checked()


def test_a_flux_lora_image_is_generated_with_its_price_and_record(context, app, app_sandbox):
    page = context.new_page()
    page.goto(app.url)
    page.get_by_role("tab", name="FLUX LoRA").click()
    page.get_by_label("LoRA model").click()
    page.get_by_role("option", name="FLUX LoRA · heuristlogo").click()
    expect(page.locator("#lora-cost")).to_contain_text("credits")
    page.get_by_label("LoRA prompt").fill("a logo on a mug")
    page.get_by_role("button", name="Generate image").click()

    expect(page.locator("#lora-progress textarea")).to_have_value(prefix("Finished"))
    expect(page.locator("#lora-image img")).to_have_count(1)
    (call,) = app_sandbox.workflow.endpoint_calls("task_create")
    assert call["parameters"]["lora_name"] == "heuristlogo"
    assert call["parameters"]["steps"] == 15


def test_the_video_rest_endpoint_runs_a_checked_task(app, app_sandbox):
    app_sandbox.reset()
    client = api_client(app.url)
    mochi = {"width": 512, "height": 256, "length": 16, "steps": 20, "seed": 3, "fps": 8}

    line, _, _, _, record = client.predict(
        "waves", "Mochi video", *mochi.values(), 80, "", api_name="/video"
    )

    assert line.startswith("Finished")
    assert record["seed"] == 3 and record["kind"] == "mochi"
    sent = app_sandbox.workflow.endpoint_calls("task_create")[0]["parameters"]
    assert sent["length"] == 16


def test_a_flux_lora_link_opens_its_tab_with_its_settings(context, app):
    page = context.new_page()
    page.goto(f"{app.url}?tab=flux-lora&model=heuristlogo&prompt=a+logo+on+a+mug&steps=20")
    expect(page.get_by_label("LoRA prompt")).to_have_value("a logo on a mug")
    expect(page.get_by_label("LoRA model")).to_have_value("FLUX LoRA · heuristlogo")
    steps = page.get_by_label("number input for Steps").filter(visible=True)
    expect(steps).to_have_value("20")
