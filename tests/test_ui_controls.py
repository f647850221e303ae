"""ui.controls: the live cost line, model changes, trigger words and aspect presets."""

from __future__ import annotations

import pytest
from ui_helpers import (
    FLUX,
    FLUX_LORA,
    SD15_LORA,
    SDXL,
    changed,
    credit_figures,
)

from heurist_ui.params import SIZE_STEP
from heurist_ui.ui.controls import (
    ASPECT_PRESETS,
    aspect_sizes,
    cost_line,
    insert_trigger,
    model_changed,
    model_defaults,
)


def test_cost_line_shows_per_image_and_batch_credits(studio):
    line = cost_line(studio.catalogs, SDXL, 1024, 512, 30, 4)
    assert credit_figures(line) == [0.75, 3.00]
    assert "0.75" in line and "3.00" in line and "4 images" in line


def test_cost_line_for_one_image_says_image_not_images(studio):
    line = cost_line(studio.catalogs, SDXL, 1024, 512, 30, 1)
    assert credit_figures(line) == [0.75, 0.75]
    assert "1 image " in line


@pytest.mark.parametrize(
    ("change", "value"),
    [("width", 768), ("height", 1024), ("steps", 20), ("count", 2), ("model_id", FLUX)],
)
def test_cost_line_follows_every_input(studio, change, value):
    base = {"model_id": SDXL, "width": 1024, "height": 512, "steps": 30, "count": 4}
    assert cost_line(studio.catalogs, **{**base, change: value}) != cost_line(
        studio.catalogs, **base
    )


def test_flux_costs_more_than_sdxl(studio):
    flux = credit_figures(cost_line(studio.catalogs, FLUX, 1024, 1024, 20, 1))
    sdxl = credit_figures(cost_line(studio.catalogs, SDXL, 1024, 1024, 20, 1))
    assert flux[0] > sdxl[0]


@pytest.mark.parametrize(
    "args",
    [
        (SDXL, "abc", 512, 30, 1),
        (SDXL, 512, 512, "", 1),
        (SDXL, 512, 512, 30, None),
        ("no-such-model", 512, 512, 30, 1),
        (None, 512, 512, 30, 1),
    ],
)
def test_cost_line_gives_a_hint_for_bad_input(studio, args):
    line = cost_line(studio.catalogs, *args)
    assert line.startswith("Cost:")
    assert "credits" not in line


@pytest.mark.parametrize("args", [(SDXL, -512, 512, 30, 1), (SDXL, 512, 512, 30, 0)])
def test_cost_line_gives_a_hint_for_out_of_range_input(studio, args):
    assert cost_line(studio.catalogs, *args).startswith("Cost:")


def test_flux_hides_the_negative_prompt(studio):
    width, height, neg_prompt, lora_row, _ = model_changed(studio.catalogs, FLUX, 1024, 1024)
    assert neg_prompt["visible"] is False
    assert lora_row["visible"] is False
    assert width["maximum"] == 2048 and height["maximum"] == 2048


def test_sdxl_shows_the_negative_prompt(studio):
    _, _, neg_prompt, lora_row, _ = model_changed(studio.catalogs, SDXL, 1024, 1024)
    assert neg_prompt["visible"] is True
    assert lora_row["visible"] is False


@pytest.mark.parametrize(
    ("model_id", "trigger"), [(FLUX_LORA, "heuristai logo"), (SD15_LORA, "magusdevon")]
)
def test_lora_shows_trigger_words_and_keywords(studio, model_id, trigger):
    _, _, _, lora_row, lora_help = model_changed(studio.catalogs, model_id, 512, 512)
    assert lora_row["visible"] is True
    assert trigger in lora_help["value"]
    assert "Recommended keywords" in lora_help["value"]


def test_model_change_bounds_the_size_by_the_models_maxima(studio):
    width, height, *_ = model_changed(studio.catalogs, SDXL, 2048, 1536)
    assert (width["maximum"], height["maximum"]) == (1024, 1024)
    assert (width["value"], height["value"]) == (1024, 1024)
    width, height, *_ = model_changed(studio.catalogs, FLUX, 4096, 640)
    assert (width["value"], height["value"]) == (2048, 640)


def test_unknown_model_changes_nothing(studio):
    updates = model_changed(studio.catalogs, "no-such-model", 512, 512)
    assert [changed(u) for u in updates[:3]] == [{}, {}, {}]


def test_model_defaults_apply_the_recommended_settings(studio):
    width, height, steps, guidance, neg_prompt = model_defaults(studio.catalogs, "PepeXL")
    assert (width["value"], height["value"]) == (680, 1024)
    assert (steps["value"], guidance["value"]) == (20, 5.0)
    assert neg_prompt["value"] == "(worst quality: 1.4), bad quality, nsfw"


def test_model_defaults_clear_the_negative_prompt_for_flux(studio):
    *_, neg_prompt = model_defaults(studio.catalogs, FLUX)
    assert neg_prompt["value"] == ""


def test_insert_trigger_adds_the_words_once(studio):
    once = insert_trigger(studio.catalogs, "a glass cube", FLUX_LORA)
    assert once == "heuristai logo, a glass cube"
    assert insert_trigger(studio.catalogs, once, FLUX_LORA) == once
    assert insert_trigger(studio.catalogs, "", FLUX_LORA) == "heuristai logo"
    assert insert_trigger(studio.catalogs, "a glass cube", SDXL) == "a glass cube"


@pytest.mark.parametrize("preset", list(ASPECT_PRESETS))
@pytest.mark.parametrize("model_id", [SDXL, FLUX, "Aurora", "AnimagineXL"])
def test_aspect_presets_give_valid_sizes_of_the_right_ratio(studio, preset, model_id):
    model = studio.catalog.find(model_id)
    width_update, height_update = aspect_sizes(studio.catalogs, preset, model_id)
    width, height = width_update["value"], height_update["value"]
    assert width % SIZE_STEP == 0 and height % SIZE_STEP == 0
    assert width <= model.defaults.max_width and height <= model.defaults.max_height
    ratio = ASPECT_PRESETS[preset]
    assert abs(width / height - ratio) / ratio < 0.02


def test_unknown_aspect_preset_changes_nothing(studio):
    assert [changed(u) for u in aspect_sizes(studio.catalogs, "5:4", SDXL)] == [{}, {}]


def test_cost_line_adds_heurists_current_prices_in_credits_and_dollars(studio):
    line = cost_line(studio.catalogs, FLUX, 1024, 1024, 20, 4)
    assert "At Heurist's current prices: 0.2 credits ($0.002) per image" in line
    assert "0.8 credits ($0.008) in all" in line


def test_cost_line_counts_variations(studio):
    line = cost_line(studio.catalogs, SDXL, 1024, 1024, 20, 2, "a {red|green|blue} kite")
    assert "3 variations × 2 images = 6 images" in line
    assert credit_figures(line) == [1.0, 6.0]


def test_cost_line_explains_unbalanced_braces(studio):
    assert "never closed" in cost_line(studio.catalogs, SDXL, 1024, 1024, 20, 1, "a {red kite")


@pytest.mark.parametrize(("steps", "noted"), [(35, False), (36, True), ("x", False)])
def test_steps_above_35_carry_a_note(steps, noted):
    from heurist_ui.ui.controls import steps_note

    info = steps_note(steps)["info"]
    assert (info is not None and "at most 35" in info) == noted
