"""The studio in the browser's language (Spanish, Chinese; English otherwise), and Enhance
turning a description in another language into an English prompt, saying so as plain text."""

from __future__ import annotations

import json
import re

import pytest
import test_browser as shared
from test_browser import (
    CHROMIUM,
    TIMEOUT_MS,
    expect,
    fresh_page,
    open_page,
    set_slider,
    thumbnails,
)
from test_browser_ux import PHONE, assert_every_tab_fits_a_phone

from heurist_ui.ui.messages import MESSAGES
from heurist_ui.ui.words import LANGUAGES, PREFIX, catalogue

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]

browser, profiles = shared.browser, shared.profiles
app_sandbox, app = shared.app_sandbox, shared.app
DESK = {"width": 1440, "height": 900}
TAB_KEYS = ("generate", "tab.compare", "tab.png_info", "tab.video", "tab.flux_lora")


def say(language: str, key: str) -> str:
    """What the page shows for key in language (the catalogue's own entry)."""
    return catalogue()[language][PREFIX + key]


@pytest.fixture
def open_in(profiles, app, app_sandbox):
    """open_in(locale, viewport): a fresh page of the keyed app in a browser set to locale
    (the module's profile for that locale and size, emptied)."""
    pages = []
    app_sandbox.reset()
    app_sandbox.latency = 0.0

    def open_(locale: str, viewport: dict = DESK):
        pages.append(fresh_page(profiles("i18n", locale=locale, viewport=viewport), app.url))
        return pages[-1]

    yield open_
    for page in pages:
        page.close()
    app_sandbox.reset()


def prompt_box(page):
    return page.locator("#prompt textarea")


@pytest.mark.parametrize(("locale", "language"), [("es-ES", "es"), ("zh-CN", "zh-CN")])
def test_the_page_speaks_the_browsers_language_and_still_generates(
    open_in, app_sandbox, locale, language
):
    page = open_in(locale)
    for key in ("setting.model", "setting.seed", "setting.negative_prompt"):
        expect(page.get_by_label(say(language, key), exact=True).first).to_be_visible()
    width = page.get_by_label(f"number input for {say(language, 'setting.width')}", exact=True)
    expect(width).to_be_visible()
    for key in TAB_KEYS[1:]:
        expect(page.get_by_role("tab", name=say(language, key), exact=True)).to_have_count(1)
    expect(page.get_by_text(say(language, "group.size"), exact=True)).to_be_visible()
    expect(prompt_box(page)).to_have_attribute("placeholder", say(language, "prompt.placeholder"))
    expect(page.get_by_role("button", name="Generate", exact=True)).to_have_count(0)

    prompt_box(page).fill("a lighthouse at dusk")
    page.get_by_role("button", name=say(language, "generate"), exact=True).click()
    expect(thumbnails(page)).to_have_count(1)
    assert len(app_sandbox.submissions) == 1


@pytest.mark.parametrize("locale", ["fr-FR", "de-DE", "en-GB"])
def test_other_languages_get_english(open_in, locale):
    page = open_in(locale)
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_visible()
    expect(page.get_by_role("tab", name="Compare", exact=True)).to_have_count(1)
    expect(page.get_by_label("number input for Width", exact=True)).to_be_visible()
    expect(page.get_by_text("Size, steps, seed and count", exact=True)).to_be_visible()


@pytest.mark.parametrize(("locale", "language"), [("es-ES", "es"), ("zh-CN", "zh-CN")])
def test_every_tab_fits_a_phone_in_spanish_and_chinese(open_in, locale, language):
    page = open_in(locale, PHONE)
    expect(page.get_by_role("button", name=say(language, "generate"), exact=True)).to_be_visible()
    assert_every_tab_fits_a_phone(page, tuple(say(language, key) for key in TAB_KEYS))


@pytest.mark.parametrize(
    ("locale", "enhance", "description", "prompt", "language"),
    [
        ("en-US", "✨ Enhance", "un faro al atardecer", "a lighthouse at the dusk", "Spanish"),
        ("zh-CN", say("zh-CN", "enhance"), "一座灯塔在黄昏", "a lighthouse in dusk", "Chinese"),
    ],
)
def test_enhance_writes_an_english_prompt_and_says_which_language_it_was_in_the_pages(
    open_in, locale, enhance, description, prompt, language
):
    page = open_in(locale)
    prompt_box(page).fill(description)
    page.get_by_role("button", name=enhance, exact=True).click()
    expect(prompt_box(page)).to_have_value(re.compile(rf"^{prompt}, .*masterpiece$"))
    page_language = locale if locale in LANGUAGES else "en"  # en-US: the English page
    told = MESSAGES["enhance.translated"][LANGUAGES.index(page_language)].format(name=language)
    expect(page.get_by_test_id("toast-body")).to_contain_text(told)


def test_markup_in_the_language_name_shows_as_plain_text(open_in, app_sandbox):
    answer = "[from <b id=evil>Spanish</b>] a lighthouse at dusk, masterpiece"
    message = {"role": "assistant", "content": answer}
    body = {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    app_sandbox.add_fault("shape", body=json.dumps(body))
    page = open_in("en-US")
    prompt_box(page).fill("un faro al atardecer")
    page.get_by_role("button", name="✨ Enhance", exact=True).click()
    expect(prompt_box(page)).to_have_value("a lighthouse at dusk, masterpiece")
    toast = page.get_by_test_id("toast-body")
    expect(toast).to_contain_text("Your description was in b idevilSpanishb: Enhance wrote")
    expect(page.locator("#evil")).to_have_count(0)
    expect(toast.locator("b")).to_have_count(0)


def test_notes_that_change_with_a_value_stay_in_the_pages_language(open_in):
    page = open_in("es-ES")
    note = page.get_by_text(say("es", "steps.note"), exact=True)
    expect(note).to_have_count(0)
    set_slider(page, say("es", "setting.steps"), 40)
    expect(note).to_be_visible()
    expect(page.get_by_text("Heurist's miners run at most")).to_have_count(0)
    page.get_by_role("tab", name=say("es", "tab.compare"), exact=True).click()
    hint = page.get_by_text(say("es", "compare.hint.seed"), exact=True)
    expect(hint).to_be_visible()
    page.get_by_label(say("es", "compare.axis.steps"), exact=True).check()
    expect(page.get_by_text(say("es", "compare.hint.steps"), exact=True)).to_be_visible()
    expect(page.get_by_text("steps, e.g. 15, 25, 35")).to_have_count(0)


def neg_box(page, language: str):
    return page.get_by_label(say(language, "setting.negative_prompt"), exact=True)


def test_a_spanish_browser_gets_the_cost_line_progress_and_a_refusal_in_spanish(
    open_in, app_sandbox
):
    page = open_in("es-MX")
    cost = page.locator("#cost-line")
    expect(cost).to_contain_text("por imagen")
    expect(cost).to_contain_text(MESSAGES["cost.prices"][1])
    set_slider(page, say("es", "setting.steps"), 12)
    set_slider(page, say("es", "setting.images"), 2)
    neg_box(page, "es").fill("borroso")
    expect(cost).to_contain_text("12 pasos")
    expect(cost).to_contain_text("por 2 imágenes")
    expect(cost).not_to_contain_text("per image")

    # An empty prompt: refused in Spanish, nothing sent, every typed setting still there.
    page.get_by_role("button", name=say("es", "generate"), exact=True).click()
    toast = page.get_by_test_id("toast-body")
    expect(toast).to_contain_text(MESSAGES["error.empty_prompt"][1])
    steps = page.get_by_label(f"number input for {say('es', 'setting.steps')}", exact=True)
    expect(steps).to_have_value("12")
    expect(neg_box(page, "es")).to_have_value("borroso")
    assert app_sandbox.submissions == []

    # Progress in Spanish, held until seen.
    gate = app_sandbox.hold()
    prompt_box(page).fill("un faro al atardecer")
    page.get_by_role("button", name=say("es", "generate"), exact=True).click()
    gate.wait_for(1)
    expect(page.locator("#gallery").get_by_text(re.compile(r"de 2 imágenes")).first).to_be_visible()
    gate.release()
    expect(thumbnails(page)).to_have_count(2)


def test_an_english_browser_still_gets_english_messages(open_in, app_sandbox):
    page = open_in("en-US")
    cost = page.locator("#cost-line")
    expect(cost).to_contain_text("per image")
    set_slider(page, "Steps", 12)
    expect(cost).to_contain_text("12 steps")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.get_by_test_id("toast-body")).to_contain_text(MESSAGES["error.empty_prompt"][0])
    expect(cost).not_to_contain_text("por imagen")
    assert app_sandbox.submissions == []


def test_a_chinese_browser_gets_the_video_and_lora_cost_lines_in_chinese(open_in):
    page = open_in("zh-CN")
    expect(page.locator("#cost-line")).to_contain_text("积分")
    page.get_by_role("tab", name=say("zh-CN", "tab.video"), exact=True).click()
    expect(page.locator("#video-cost")).to_contain_text(MESSAGES["price.hunyuan"][2])
    page.get_by_role("tab", name=say("zh-CN", "tab.flux_lora"), exact=True).click()
    expect(page.locator("#lora-cost")).to_contain_text(MESSAGES["price.flux_lora"][2])


def test_notices_are_in_the_browsers_language(browser, app):
    context = browser.new_context(locale="es-ES", viewport=DESK)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = open_page(context, f"{app.url}?steps=999&style=%3Cb%3Enope%3C%2Fb%3E")
        toast = page.get_by_test_id("toast-body")
        expect(toast).to_contain_text("Se ignoró del enlace: steps '999' (de 1 a")
        expect(toast).to_contain_text("style '<b>nope</b>' (no es un estilo de aquí)")
        expect(toast.locator("b")).to_have_count(0)
        page.get_by_role("button", name=say("es", "refresh"), exact=True).click()
        expect(toast.filter(has_text=MESSAGES["refresh.remote"][1])).to_have_count(1)
    finally:
        context.close()
