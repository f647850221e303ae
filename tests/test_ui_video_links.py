"""ui.video_links: a video link's values are bounded like a task's; crafted ones are left out."""

from __future__ import annotations

import pytest
from ui_helpers import changed

from heurist_ui.jobkinds import MAX_PROMPT_CHARS
from heurist_ui.ui.links import settings_from_query
from heurist_ui.ui.video_links import (
    LINK_MODELS,
    SETTINGS,
    VIDEO_LINK_JS,
    VIDEO_TAB,
    apply_video_link,
    video_settings_from_query,
)
from heurist_ui.video import MOCHI, MOCHI_SETTINGS, VIDEO_KINDS


def test_a_video_link_fills_the_model_the_prompt_and_the_checked_settings():
    query = {"tab": "video", "prompt": "waves", "model": "mochi", "width": "512", "seed": "-1"}
    settings, ignored = video_settings_from_query(query)
    assert settings == {"kind": "mochi", "prompt": "waves", "width": 512, "seed": -1}
    assert ignored == []


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("width", "2048", "(256 to 1024)"),  # above the miner's bound
        ("length", "7.5", "(16 to 128)"),  # frames are whole
        ("steps", "nan", "(10 to 100)"),
        ("fps", "inf", "(1 to 60)"),
        ("seed", "-2", "(-1 to 4294967295)"),
        ("quality", "<b>80</b>", "(1 to 100)"),
    ],
)
def test_a_value_out_of_its_bounds_is_left_out_and_named(name, value, why):
    settings, ignored = video_settings_from_query({"tab": "video", name: value})
    assert name not in settings
    assert ignored == [f"{name} {value!r} {why}"]


def test_crafted_models_and_long_prompts_are_left_out_with_their_text_shortened():
    crafted = "<img src=x onerror=alert(1)>" * 5
    query = {"tab": "video", "model": crafted, "prompt": "x" * (MAX_PROMPT_CHARS + 1)}
    settings, ignored = video_settings_from_query(query)
    assert settings == {}
    assert ignored == [f"model {crafted[:40]!r} (not a video model here)", "prompt (too long)"]


def test_links_for_one_tab_leave_the_others_alone(studio):
    video = {"tab": "video", "prompt": "waves", "model": "mochi", "width": "512"}
    assert settings_from_query(studio.catalogs, video) == ({}, [])  # the image form ignores it
    assert video_settings_from_query({"prompt": "a fox", "width": "512"}) == ({}, [])
    tabs, *form = apply_video_link({"prompt": "a fox"})
    assert changed(tabs) == {} and all(changed(update) == {} for update in form)


def test_apply_video_link_opens_the_tab_and_updates_the_form_in_order(recwarn):
    query = {"tab": "video", "prompt": "waves", "model": "mochi", "length": "16", "fps": "99"}
    tabs, prompt, model, *settings = apply_video_link(query)
    assert tabs["selected"] == VIDEO_TAB
    assert prompt["value"] == "waves" and model["value"] == MOCHI.label
    by_name = dict(zip(SETTINGS, settings, strict=True))
    assert by_name["length"]["value"] == 16
    assert changed(by_name["fps"]) == {} and changed(by_name["width"]) == {}


def test_the_link_names_come_from_the_kinds_settings_tables():
    assert list(SETTINGS) == [setting.name for setting in MOCHI_SETTINGS]
    assert LINK_MODELS[MOCHI.label] == ["mochi", list(SETTINGS)]
    assert LINK_MODELS["Hunyuan video"] == ["hunyuan", []]  # it takes the prompt only
    for name in (*SETTINGS, *VIDEO_KINDS):
        assert f'"{name}"' in VIDEO_LINK_JS
    assert "key" not in VIDEO_LINK_JS  # the function never reads the key field
