"""ui.workflow_links: a Video or FLUX-LoRA link's values are bounded like a task's; crafted ones
are left out and named."""

from __future__ import annotations

import pytest

from heurist_ui.flux_lora import FLUX_LORA_KINDS, FLUX_LORA_SETTINGS
from heurist_ui.jobkinds import MAX_PROMPT_CHARS
from heurist_ui.ui.links import settings_from_query
from heurist_ui.ui.workflow_links import FLUX_LORA_LINKS, VIDEO_LINKS
from heurist_ui.video import MOCHI, MOCHI_SETTINGS

VIDEO_SETTINGS = [setting.name for setting in MOCHI_SETTINGS]


def test_a_video_link_fills_the_model_the_prompt_and_the_checked_settings():
    query = {"tab": "video", "prompt": "waves", "model": "mochi", "width": "512", "seed": "-1"}
    settings, ignored = VIDEO_LINKS.from_query(query)
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
def test_a_video_value_out_of_its_bounds_is_left_out_and_named(name, value, why):
    settings, ignored = VIDEO_LINKS.from_query({"tab": "video", name: value})
    assert name not in settings
    assert ignored == [f"{name} {value!r} {why}"]


def test_crafted_models_and_long_prompts_are_left_out_with_their_text_shortened():
    crafted = "<img src=x onerror=alert(1)>" * 5
    query = {"tab": "video", "model": crafted, "prompt": "x" * (MAX_PROMPT_CHARS + 1)}
    settings, ignored = VIDEO_LINKS.from_query(query)
    assert settings == {}
    assert ignored == [f"model {crafted[:40]!r} (not a model of this tab)", "prompt (too long)"]


def test_a_flux_lora_link_keeps_sizes_to_multiples_of_64_and_the_strength_to_0_1():
    query = {
        "tab": "flux-lora",
        "model": "heuristlogo",
        "width": "1000",
        "height": "1536",
        "strength_model": "0.35",
        "noise_seed": "12",
        "steps": "51",
    }
    settings, ignored = FLUX_LORA_LINKS.from_query(query)
    assert settings == {
        "kind": "heuristlogo",
        "height": 1536,
        "strength_model": 0.35,
        "noise_seed": 12,
    }
    assert ignored == ["width '1000' (512 to 2048)", "steps '51' (1 to 50)"]
    job = FLUX_LORA_KINDS["heuristlogo"].prepare("a mug", strength_model=0.35)
    assert job.values["strength_model"] == 0.35  # a strength between 0 and 1 is sent as it is
    assert FLUX_LORA_LINKS.from_query({"tab": "flux-lora", "model": "mochi"})[1] == [
        "model 'mochi' (not a model of this tab)"
    ]


def test_links_for_one_tab_leave_the_others_alone(studio):
    video = {"tab": "video", "prompt": "waves", "model": "mochi", "width": "512"}
    assert settings_from_query(studio.catalogs, video) == ({}, [])  # the image form ignores it
    assert FLUX_LORA_LINKS.from_query(video) == ({}, [])
    assert VIDEO_LINKS.from_query({"prompt": "a fox", "width": "512"}) == ({}, [])
    defaults = ("", MOCHI.label, *range(len(VIDEO_SETTINGS)))
    assert VIDEO_LINKS.link_values({"prompt": "a fox"}, defaults) == defaults


def test_a_link_gives_the_forms_values_in_order_and_its_defaults_elsewhere(recwarn):
    query = {"tab": "video", "prompt": "waves", "model": "mochi", "length": "16", "fps": "99"}
    defaults = ("", "Hunyuan video", *(f"default {name}" for name in VIDEO_SETTINGS))
    prompt, model, *settings = VIDEO_LINKS.link_values(query, defaults)
    assert prompt == "waves" and model == MOCHI.label
    by_name = dict(zip(VIDEO_SETTINGS, settings, strict=True))
    assert by_name["length"] == 16
    assert by_name["fps"] == "default fps" and by_name["width"] == "default width"
    lora_defaults = ("", "FLUX LoRA · agentmax", 1024, 1024, 15, 1, -1)
    values = FLUX_LORA_LINKS.link_values({"tab": "flux-lora", "steps": "20"}, lora_defaults)
    assert values == ("", "FLUX LoRA · agentmax", 1024, 1024, 20, 1, -1)


def test_the_link_names_come_from_the_kinds_settings_tables():
    assert list(VIDEO_LINKS.by_name) == VIDEO_SETTINGS
    assert list(FLUX_LORA_LINKS.by_name) == [setting.name for setting in FLUX_LORA_SETTINGS]
    js = VIDEO_LINKS.link_js()
    assert '"Mochi video": ["mochi", ' + str(VIDEO_SETTINGS).replace("'", '"') in js
    assert '"Hunyuan video": ["hunyuan", []]' in js  # it takes the prompt only
    assert "key" not in js  # the function never reads the key field
