"""ui.messages: the visitor's language from Accept-Language, templates with the same named
values in every language, and the core's errors said again in Spanish and Chinese (English
exactly as the core says it)."""

from __future__ import annotations

import math
import re
import string
from pathlib import Path

import gradio as gr
import pytest
from ui_helpers import SDXL

import heurist_ui
from heurist_ui.batch import summarize_failures
from heurist_ui.errors import APIConnectionError, APITimeoutError, HeuristError, error_from_status
from heurist_ui.flux_lora import FLUX_LORA_KINDS
from heurist_ui.params import check_size, validate
from heurist_ui.ratelimit import RateLimit
from heurist_ui.ui import controls, flux_lora, video
from heurist_ui.ui.links import settings_from_query
from heurist_ui.ui.markup import as_notice
from heurist_ui.ui.messages import (
    MAX_HEADER_CHARS,
    MESSAGES,
    best_language,
    error_text,
    failures_text,
    language_of,
    no_key,
    price_note,
    progress_text,
    rate_limit_text,
    say,
    task_text,
)
from heurist_ui.ui.words import LANGUAGES
from heurist_ui.ui.workflow_links import VIDEO_LINKS
from heurist_ui.video import HUNYUAN, MOCHI
from heurist_ui.workflow import TaskStatus

# ---- the language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("es", "es"),
        ("es-MX", "es"),
        ("es-419", "es"),
        ("ES-mx", "es"),
        ("zh-CN", "zh-CN"),
        ("zh-cn", "zh-CN"),
        ("en-GB", "en"),
        # The page's own rule (a catalogue language that begins the tag): no Simplified
        # Chinese for a Traditional or unmarked one, as the page's static words.
        ("zh-TW", "en"),
        ("zh", "en"),
        ("fr-FR", "en"),
        # The most-liked language only, as the page: French first means English words.
        ("fr-FR,fr;q=0.9,es;q=0.8", "en"),
        ("fr;q=0.2,es;q=0.8", "es"),
        ("en;q=0.5, es;q=0.9", "es"),
        ("es;q=0.5,zh-CN;q=0.9", "zh-CN"),
        ("es-ES,es;q=0.9,en;q=0.8", "es"),
        ("es, zh-CN", "es"),  # a tie goes to the earlier
        ("es;q=0, en;q=0.1", "en"),  # q=0: not acceptable
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        (42, "en"),
    ],
)
def test_the_language_is_the_most_liked_one_if_the_catalogue_has_it(header, language):
    assert best_language(header) == language


@pytest.mark.parametrize(
    "header",
    [
        "es;q=abc",
        "es;q=2",
        "es;q=-1",
        "es;q=0.5x",
        "e s",
        "es;;q=1",
        ";;;,,,",
        "\x00es",
        "<script>es</script>",
        "es-" + "a" * 9,
        "zh-CN;q=1.5",
    ],
)
def test_a_malformed_range_is_skipped(header):
    assert best_language(header) == "en"


def test_a_huge_header_is_read_only_as_far_as_its_bound():
    assert best_language("x" * 100_000 + ",es") == "en"
    assert best_language("es," + "a" * 100_000) == "es"
    assert best_language("fr," * 50_000 + "es") == "en"  # only the first ranges are read
    assert best_language("zh-CN;q=0.9," + "es;q=0.1," * 20_000) == "zh-CN"
    assert best_language(" " * MAX_HEADER_CHARS + "es") == "en"


def page_request(**headers: str) -> gr.Request:
    return gr.Request(headers={"x-gradio-user": "app", **headers})


def test_the_language_comes_from_the_pages_request():
    assert language_of(page_request(**{"accept-language": "es-MX,es;q=0.9"})) == "es"
    assert language_of(page_request(**{"accept-language": "zh-CN"})) == "zh-CN"
    assert language_of(page_request()) == "en"
    assert language_of(None) == "en"
    assert language_of(object()) == "en"


@pytest.mark.parametrize("caller", [None, "api", "mcp", "App"])
def test_a_script_or_an_agent_gets_english_whatever_it_asks(caller):
    headers = {"accept-language": "es-MX"} | ({"x-gradio-user": caller} if caller else {})
    assert language_of(gr.Request(headers=headers)) == "en"


# ---- the templates -----------------------------------------------------------------------


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def numbers(template: str) -> list[str]:
    """The figures written into a template (not its values' format specs), sorted."""
    literal = "".join(text for text, *_ in string.Formatter().parse(template))
    return sorted(re.findall(r"\d+(?:\.\d+)?", literal))


def test_every_template_has_every_language_with_the_same_named_values():
    assert len(MESSAGES) > 40
    for key, entries in MESSAGES.items():
        assert len(entries) == len(LANGUAGES), key
        assert all(entry.strip() for entry in entries), key
        english = placeholders(entries[0])
        for language, entry in zip(LANGUAGES, entries, strict=True):
            assert placeholders(entry) == english, (key, language)
            assert numbers(entry) == numbers(entries[0]), (key, language)
            # Every value it names is filled: a misspelt one fails here, not on a page.
            entry.format(**dict.fromkeys(english, 1))


def test_the_translations_are_translations():
    for index, language in enumerate(LANGUAGES[1:], start=1):
        same = [key for key, entries in MESSAGES.items() if entries[index] == entries[0]]
        assert same == [], language
    chinese = "".join(entries[2] for entries in MESSAGES.values())
    assert len(re.findall(r"[\u4e00-\u9fff]", chinese)) > 500


def test_an_unknown_language_says_it_in_english():
    assert say("fr", "cost.pick") == say("en", "cost.pick") == MESSAGES["cost.pick"][0]


def test_progress_counts_in_each_language():
    assert progress_text("en", 2, 4, "image") == "2 of 4 images"
    assert progress_text("en", 1, 1, "image") == "1 of 1 image"
    assert progress_text("en", 5, 16, "cell") == "5 of 16 cells"
    assert progress_text("es", 2, 4, "image") == "2 de 4 imágenes"
    assert progress_text("es", 0, 1, "image") == "0 de 1 imagen"
    assert progress_text("zh-CN", 2, 4, "image") == "已完成 2 / 4 张图像"


def test_the_no_key_notice_is_the_key_panels_own():
    from heurist_ui.ui.key import NO_KEY_MESSAGE

    assert no_key("en") == NO_KEY_MESSAGE
    assert "HEURIST_API_KEY" in no_key("es") and "Pega" in no_key("es")
    assert "密钥" in no_key("zh-CN")


# ---- the core's errors -------------------------------------------------------------------


def coded_errors(make_client, sandbox, closed_port) -> list[HeuristError]:
    """Real errors of the core, one of each code a visitor meets most (sandbox faults)."""
    model = make_client().catalog.find(SDXL)
    errors: list[HeuristError] = []
    for call in (
        lambda: validate(model, prompt="   "),
        lambda: check_size(4096, "Width", 1024),
        lambda: make_client(base_url=f"http://127.0.0.1:{closed_port}").generate(
            prompt="a cat", model_id=SDXL
        ),
    ):
        with pytest.raises(HeuristError) as caught:
            call()
        errors.append(caught.value)
    sandbox.add_fault("delay", seconds=1.0)
    with pytest.raises(APITimeoutError) as caught:
        make_client(timeout=(2, 0.3)).generate(prompt="a cat", model_id=SDXL)
    errors.append(caught.value)
    sandbox.add_fault("drop")
    with pytest.raises(APIConnectionError) as caught:
        make_client().generate(prompt="a cat", model_id=SDXL)
    errors.append(caught.value)
    for status in (401, 402, 429, 400, 500, 418):
        errors.append(error_from_status(status, "  the <b>body</b>\n"))
    errors.append(error_from_status(403))
    return errors


def test_every_code_the_core_gives_has_a_template():
    given = set()
    for path in Path(heurist_ui.__file__).parent.glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.match(r"\s*code=", line):
                given |= set(re.findall(r'"(\w+)"', line))
    assert len(given) >= 14
    assert {f"error.{code}" for code in given} <= set(MESSAGES)


def test_the_english_templates_are_the_cores_words(make_client, sandbox, closed_port):
    errors = coded_errors(make_client, sandbox, closed_port)
    codes = {error.code for error in errors}
    assert {"empty_prompt", "size", "rejected_key", "no_credits", "read_timeout"} <= codes
    for error in errors:
        said = say("en", f"error.{error.code}", **error.values)
        if error.values.get("detail"):
            said += say("en", "error.said", detail=error.values["detail"])
        assert said == str(error)
        assert error_text(error, "en") == str(error)


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_the_cores_errors_are_said_in_the_visitors_language(
    make_client, sandbox, closed_port, language
):
    for error in coded_errors(make_client, sandbox, closed_port):
        text = error_text(error, language)
        assert text != str(error)
        for name, value in error.values.items():
            if name not in ("name", "value", "seconds"):
                assert str(value) in text, (error.code, name)
    body = error_text(error_from_status(402, "no <b>credits</b>"), language)
    assert body.endswith("no <b>credits</b>")  # outside text, escaped where it is shown
    with pytest.raises(HeuristError) as caught:
        check_size(9999, "Width", 1024)
    translated = {"es": "Ancho", "zh-CN": "宽度"}[language]
    assert error_text(caught.value, language).count(translated) == 1


def test_an_error_without_a_template_keeps_its_own_words():
    error = HeuristError("Something new went wrong.")
    assert error_text(error, "es") == "Something new went wrong."
    assert error_text(ValueError("plain"), "zh-CN") == "plain"


def test_a_batchs_failures_are_summed_up_as_the_core_does():
    failures = ["A (500).", "A (500).", "B (402)."]
    assert failures_text(failures, 4, "en") == summarize_failures(failures, 4)
    assert failures_text(["Only one."], 1, "en") == summarize_failures(["Only one."], 1)
    assert failures_text(failures, 4, "es").startswith("Fallaron 3 de 4 imágenes. A (500).")


@pytest.mark.parametrize(("wait", "units"), [(30.4, 1), (12.0, 3), (math.inf, 9)])
def test_the_rate_limits_words_are_the_cores_in_english(wait, units):
    limit = RateLimit(6)
    assert rate_limit_text("en", 6, wait, units) == limit.message(wait, units)
    spanish = rate_limit_text("es", 6, wait, units)
    assert "6 trabajos por minuto" in spanish
    assert ("{a|b}" in spanish) == math.isinf(wait)


# ---- the cost lines ----------------------------------------------------------------------


def test_every_workflow_kinds_price_note_is_translated():
    for kind in (HUNYUAN, MOCHI, *FLUX_LORA_KINDS.values()):
        assert price_note("en", kind.price_note) == kind.price_note
        for language in LANGUAGES[1:]:
            assert price_note(language, kind.price_note) != kind.price_note


def test_the_generators_cost_line_in_each_language(studio):
    args = (studio.catalogs, SDXL, 1024, 768, 20, 2, "a {red|blue} fox", "", "Cinematic")
    english = controls.cost_line(*args)
    assert english == controls.cost_line(*args, language="en")
    assert "per image" in english and "2 variations × 2 images = 4 images" in english
    spanish = controls.cost_line(*args, language="es")
    assert "por imagen" in spanish and "2 variaciones × 2 imágenes = 4 imágenes" in spanish
    assert "créditos" in spanish and ", estilo Cinematic" in spanish
    chinese = controls.cost_line(*args, language="zh-CN")
    assert "每张" in chinese and "积分" in chinese
    # The same figures in every language.
    assert numbers(english) == numbers(spanish) == numbers(chinese)


def test_a_refused_plan_is_said_in_the_cost_line_in_each_language(studio):
    args = (studio.catalogs, SDXL, 4096, 768, 20, 1, "a fox")
    assert "Width must be between" in controls.cost_line(*args)
    spanish = controls.cost_line(*args, language="es")
    assert spanish.startswith("Costo: **no se puede ejecutar**: Ancho debe estar entre")
    assert controls.cost_line(studio.catalogs, "no-such-model", 512, 512, 20, 1) == (
        "Cost: pick a model to see the estimate."
    )


def test_the_video_and_flux_lora_cost_lines_in_each_language():
    assert video.price_line(HUNYUAN.label) == f"Cost: 25 credits ($0.25). {HUNYUAN.price_note}."
    assert video.price_line(HUNYUAN.label, "es").startswith("Costo: 25 créditos (0.25 US$).")
    assert video.price_line(MOCHI.label, "zh-CN").startswith("费用：Heurist 未公布")
    lora = next(iter(flux_lora.LORAS))
    assert "credits" in flux_lora.cost_line(lora, 1024, 1024, 20, 1.0, -1)
    assert "积分" in flux_lora.cost_line(lora, 1024, 1024, 20, 1.0, -1, language="zh-CN")
    assert flux_lora.cost_line("nothing", language="es") == "Elige un LoRA."


@pytest.mark.parametrize(
    ("status", "place"),
    [("waiting", 3), ("waiting", None), ("running", None), ("finished", None), ("canceled", None)],
)
def test_a_tasks_progress_line_in_each_language(status, place):
    task = TaskStatus("task-1", status, place, 12.4)
    assert task_text("en", task) == task.describe()
    for language in LANGUAGES[1:]:
        line = task_text(language, task)
        assert line != task.describe() and "12" in line
        assert (str(place) in line) if place else True


def test_an_unknown_task_status_keeps_its_own_words():
    task = TaskStatus("task-1", "paused", None, 3)
    assert task_text("es", task) == task.describe() == "Paused · 3 s"


def test_a_saved_tasks_line_is_the_one_english_visitors_saw():
    line = say("en", "task.saved", seconds=12.6, file="video_1.mp4")
    assert line == "Finished in 13 s · saved as video_1.mp4"
    assert say("es", "task.saved", seconds=12.6, file="video_1.mp4").endswith("video_1.mp4")


# ---- the link notices --------------------------------------------------------------------


def test_what_a_link_left_out_is_said_in_the_visitors_language(studio):
    query = {"model": "Gone", "steps": "999", "style": "Nope", "seed": "x", "images": "9"}
    _, english = settings_from_query(studio.catalogs, query)
    assert english[0] == "model 'Gone' (not offered now)"
    _, spanish = settings_from_query(studio.catalogs, query, "es")
    assert spanish[0] == "model 'Gone' (no se ofrece ahora)"
    assert "images '9' (de 1 a 8)" in spanish and len(spanish) == len(english) == 5
    _, chinese = settings_from_query(studio.catalogs, query, "zh-CN")
    assert "style 'Nope'（此处没有这个风格）" in chinese
    _, video = VIDEO_LINKS.from_query({"tab": "video", "model": "x", "width": "9"}, "es")
    assert video == ["model 'x' (no es un modelo de esta pestaña)", "width '9' (de 256 a 1024)"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_video_model_is_refused_in_the_visitors_language(language):
    with pytest.raises(gr.Error) as refused:
        video.prepare_video("no-such-model", "a tide", {}, language)
    said = say(language, "video.choose", models=", ".join(video.MODELS))
    assert refused.value.message == as_notice(said)
    assert refused.value.title == as_notice(say(language, "title.settings"))


def test_gradio_hands_the_restore_event_its_request(studio):
    # Gradio passes the request only to a function whose own hints name gr.Request (not
    # through a partial): else the notice would silently stay English.
    from gradio.utils import get_type_hints

    from heurist_ui.ui.form import settings_restorer

    assert get_type_hints(settings_restorer(studio.catalogs))["request"] is gr.Request
