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
    model_bounds,
    model_picked,
    model_shown,
)


def test_cost_line_shows_per_image_and_batch_credits_at_heurists_prices(studio):
    line = cost_line(studio.catalogs, SDXL, 1024, 512, 30, 4)
    # SDXL is 0.05 credits for 1024x1024 at 20 steps on the credits page: half the pixels,
    # 1.5 times the steps.
    assert credit_figures(line) == [0.0375, 0.15]
    assert "0.0375 credits ($0.000375)" in line and "0.15 credits ($0.0015)" in line
    assert "4 images" in line


def test_cost_line_gives_one_price_and_the_seed_unit_only_as_a_small_note(studio):
    line = cost_line(studio.catalogs, SDXL, 1024, 512, 30, 1)
    first, note = line.split("\n")
    assert credit_figures(line) == [0.0375, 0.0375] and "1 image " in first
    assert "0.75" not in first  # the seed document's unit, 20 times larger, is not a price
    assert note.startswith("<small>") and "0.75 per image in the seed document's" in note


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
    neg_prompt, lora_row, *_ = model_shown(studio.catalogs, FLUX)
    assert neg_prompt == {"visible": False, "__type__": "update"}  # a visibility, never a value
    assert lora_row["visible"] is False


def test_sdxl_shows_the_negative_prompt(studio):
    neg_prompt, lora_row, *_ = model_shown(studio.catalogs, SDXL)
    assert neg_prompt["visible"] is True
    assert lora_row["visible"] is False


@pytest.mark.parametrize(
    ("model_id", "trigger"), [(FLUX_LORA, "heuristai logo"), (SD15_LORA, "magusdevon")]
)
def test_lora_shows_trigger_words_and_keywords(studio, model_id, trigger):
    _, lora_row, lora_help, *_ = model_shown(studio.catalogs, model_id)
    assert lora_row["visible"] is True
    assert trigger in lora_help["value"]
    assert "Recommended keywords" in lora_help["value"]


def test_model_bounds_set_the_maxima_and_change_only_sizes_above_them(studio):
    width, height = model_bounds(studio.catalogs, SDXL, 2048, 768)
    assert (width["maximum"], height["maximum"]) == (1024, 1024)
    assert width["value"] == 1024 and "value" not in height  # a size within bounds is kept
    width, height = model_bounds(studio.catalogs, FLUX, 4096, 640)
    assert width["value"] == 2048 and "value" not in height


def test_unknown_model_changes_nothing(studio):
    assert [changed(u) for u in model_shown(studio.catalogs, "no-such-model")[::2]] == [{}] * 3
    assert [changed(u) for u in model_picked(studio.catalogs, "no-such-model")] == [{}] * 8


def test_picking_a_model_applies_every_recommended_setting_in_one_update(studio):
    width, height, steps, guidance, strength, neg_prompt, lora_row, _ = model_picked(
        studio.catalogs, "PepeXL"
    )
    assert (width["value"], height["value"]) == (680, 1024)
    assert (width["maximum"], height["maximum"]) == (1024, 1024)
    assert (width["minimum"], width["step"]) == (64, 8)
    assert (steps["value"], guidance["value"]) == (20, 5.0)
    assert guidance["visible"] is True and strength["visible"] is False
    assert neg_prompt["value"] == "(worst quality: 1.4), bad quality, nsfw"
    assert neg_prompt["visible"] is True and lora_row["visible"] is True


def test_picking_a_workflow_flux_lora_applies_its_own_settings(studio):
    width, height, steps, guidance, strength, neg_prompt, lora_row, _ = model_picked(
        studio.catalogs, "flux-lora:gecko"
    )
    assert [width[k] for k in ("value", "minimum", "maximum", "step")] == [1024, 512, 2048, 64]
    assert [height[k] for k in ("value", "minimum", "maximum", "step")] == [1024, 512, 2048, 64]
    assert steps["value"] == 15
    assert guidance["visible"] is False  # the miner takes no guidance: not shown, not sent
    assert strength == {"value": 1, "visible": True, "__type__": "update"}
    assert neg_prompt["visible"] is False and lora_row["visible"] is False
    assert model_shown(studio.catalogs, "flux-lora:gecko")[3:] == (
        {"visible": False, "__type__": "update"},
        {"visible": True, "__type__": "update"},
    )


def test_the_cost_line_prices_a_workflow_flux_lora_at_its_credits_page_price(studio):
    line = cost_line(studio.catalogs, "flux-lora:gecko", 1024, 512, 10, 4, "a {cat|dog}")
    # 0.5 credits per 1024x1024 image at 20 steps: half the pixels, half the steps.
    assert credit_figures(line) == [0.125, 1.0]
    assert "2 variations × 4 images = 8 images" in line and "FLUX LoRA, 1024×512, 10 steps" in line
    refused = cost_line(studio.catalogs, "flux-lora:gecko", 1000, 512, 10, 1)
    assert "not runnable" in refused and "nearest are 960 and 1024" in refused


def test_picking_flux_clears_and_hides_the_negative_prompt(studio):
    *_, neg_prompt, _, _ = model_picked(studio.catalogs, FLUX)
    assert neg_prompt["value"] == "" and neg_prompt["visible"] is False


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


def test_cost_line_is_in_heurists_current_credits_and_dollars(studio):
    line = cost_line(studio.catalogs, FLUX, 1024, 1024, 20, 4)
    assert "0.2 credits ($0.002)** per image" in line
    assert "0.8 credits ($0.008)** for 4 images" in line


def test_cost_line_counts_variations(studio):
    line = cost_line(studio.catalogs, SDXL, 1024, 1024, 20, 2, "a {red|green|blue} kite")
    assert "3 variations × 2 images = 6 images" in line
    assert credit_figures(line) == [0.05, 0.3]


def test_cost_line_explains_unbalanced_braces(studio):
    assert "never closed" in cost_line(studio.catalogs, SDXL, 1024, 1024, 20, 1, "a {red kite")


@pytest.mark.parametrize(("steps", "noted"), [(35, False), (36, True), ("x", False)])
def test_steps_above_35_carry_a_note(steps, noted):
    from heurist_ui.ui.controls import steps_note
    from heurist_ui.ui.words import english

    info = steps_note(steps)["info"]
    assert (info is not None and "at most 35" in english(info)) == noted


def test_a_raw_input_stays_raw_when_gradio_remakes_it_for_a_session():
    import gradio as gr

    from heurist_ui.ui.controls import raw_input

    with gr.Blocks():
        width = raw_input(gr.Slider(64, 2048, value=512))
    # What Gradio does when an event sets the slider's maximum for one session:
    remade = gr.Slider(**{**width.constructor_args, "maximum": 1024, "render": False})
    assert remade.preprocess(1320) == 1320  # our validation, per model, says what is wrong
    with pytest.raises(gr.Error):
        gr.Slider(64, 1024).preprocess(1320)  # other sliders keep Gradio's check
