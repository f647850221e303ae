"""ui.words: one catalogue of the page's words, the same keys in every language, and no static
word on the built page left outside it."""

from __future__ import annotations

import json
import re

import pytest

from heurist_ui.fields import BY_NAME, COUNT, SETTINGS
from heurist_ui.flux_lora import FLUX_LORA_SETTINGS
from heurist_ui.ui import build, launch_options
from heurist_ui.ui.words import LANGUAGES, PREFIX, catalogue, english, setting_label, words
from heurist_ui.video import MOCHI_SETTINGS

I18N = re.compile(r"^__i18n__(\{.*\})$")
WORDS = ("label", "info", "placeholder")  # the props of any component that show words
SHOWS_VALUE = {"markdown", "button", "downloadbutton", "uploadbutton"}  # their value is words
COMPUTED = {"cost-line", "video-cost", "lora-cost"}  # price lines: code makes them
HIDDEN_TRIGGER = "Run"  # Gradio's default value of a gr.Button(visible=False) that fires events


def test_every_language_has_exactly_the_english_keys_and_no_empty_entry():
    words_by_language = catalogue()
    assert tuple(words_by_language) == LANGUAGES
    english_keys = set(words_by_language["en"])
    assert len(english_keys) > 100
    for language, entries in words_by_language.items():
        assert set(entries) == english_keys, language
        assert all(text.strip() for text in entries.values()), language
        assert all(key.startswith(PREFIX) for key in entries), language


def test_the_translations_are_translations():
    english_words = catalogue()["en"]
    for language in LANGUAGES[1:]:
        entries = catalogue()[language]
        same = [key for key in english_words if entries[key] == english_words[key]]
        assert len(same) < len(english_words) / 5, (language, same)  # names and formats only
    chinese = "".join(catalogue()["zh-CN"].values())
    assert len(re.findall(r"[\u4e00-\u9fff]", chinese)) > 500


def test_the_settings_labels_come_from_their_declarations():
    english_words = catalogue()["en"]
    for setting in (*SETTINGS, COUNT, *MOCHI_SETTINGS, *FLUX_LORA_SETTINGS):
        assert english(setting_label(setting)) == setting.label
    assert english_words[f"{PREFIX}setting.guidance_scale"] == BY_NAME["guidance_scale"].label
    assert english_words[f"{PREFIX}history.title"].endswith("last 100)")


def test_an_unknown_key_fails_at_build_time_saying_where_to_add_it():
    with pytest.raises(KeyError, match=r"ui/words\.py"):
        words("no.such.words")


def test_the_launch_hands_the_catalogue_to_gradio(tmp_path):
    options = launch_options(
        host="127.0.0.1",
        port=7860,
        share=False,
        auth=None,
        concurrency=None,
        output_dir=tmp_path,
    )
    assert options["i18n"].translations_dict == catalogue()


def shown_components(config: dict) -> list[dict]:
    """The page's components, without the hidden columns that only hold API inputs."""
    by_id = {component["id"]: component for component in config["components"]}
    shown: list[dict] = []

    def walk(node: dict) -> None:
        component = by_id.get(node["id"])
        if component is not None:
            hidden_column = component["type"] == "column" and not component["props"].get(
                "visible", True
            )
            if hidden_column:
                return
            shown.append(component)
        for child in node.get("children", []):
            walk(child)

    walk(config["layout"])
    return shown


def test_no_static_word_on_the_page_is_outside_the_catalogue(studio):
    config = build(studio).get_config_file()
    components = shown_components(config)
    assert len(components) > 100
    raw, keys = [], []
    for component in components:
        props, kind = component["props"], component["type"]
        names = [*WORDS, "value"] if kind in SHOWS_VALUE else list(WORDS)
        for name in names:
            text = props.get(name)
            if not text:
                continue
            found = I18N.match(str(text))
            computed = props.get("elem_id") in COMPUTED and name == "value"
            trigger = kind == "button" and text == HIDDEN_TRIGGER and props.get("visible") is False
            if found:
                keys.append(json.loads(found.group(1))["key"])
            elif not (computed or trigger):
                raw.append((kind, name, str(text)[:60]))
    assert raw == []
    assert len(keys) > 80
    assert set(keys) <= set(catalogue()["en"])
    tab_keys = {f"{PREFIX}generate", f"{PREFIX}tab.compare", f"{PREFIX}tab.video"}
    assert tab_keys <= set(keys)


def test_the_api_description_labels_its_values_in_english(studio):
    info = build(studio).get_api_info(all_endpoints=True)
    described = [
        item
        for endpoints in info.values()
        for endpoint in endpoints.values()
        for item in (*endpoint["parameters"], *endpoint["returns"])
    ]
    assert len(described) > 30
    assert all(isinstance(item.get("label", ""), str) for item in described)
    (prompt,) = [
        p
        for p in info["named_endpoints"]["/generate"]["parameters"]
        if p["parameter_name"] == "prompt"
    ]
    assert prompt["label"] == "Prompt"
