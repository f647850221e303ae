"""ui.compare: the generator's settings taken into Compare, and the rows it offers."""

from __future__ import annotations

import pytest

from heurist_ui.flux_lora import LORAS
from heurist_ui.prompt_help import apply_style
from heurist_ui.ui.compare import from_generator, row_choices

SETTINGS = (768, 512, 12, 4.0, 77)  # width, height, steps, guidance, seed


def test_the_generators_model_becomes_the_first_row_and_the_others_stay(studio):
    prompt, neg, models, *rest = from_generator(
        studio.catalogs, ["SDXL", "Aurora"], "a fox", "blurry", "FLUX.1-dev", *SETTINGS, "None"
    )
    assert (prompt, neg, models["value"], tuple(rest)) == (
        "a fox",
        "blurry",
        ["FLUX.1-dev", "SDXL", "Aurora"],
        SETTINGS,
    )
    _, _, again, *_ = from_generator(
        studio.catalogs, models["value"], "a fox", "", "SDXL", *SETTINGS, "None"
    )
    assert again["value"] == ["SDXL", "FLUX.1-dev", "Aurora"]  # moved first, not repeated


def test_the_prompt_comes_as_the_generators_style_sends_it(studio):
    prompt, neg, *_ = from_generator(
        studio.catalogs, [], "a fox", "blurry", "SDXL", *SETTINGS, "Cinematic"
    )
    assert (prompt, neg) == apply_style("Cinematic", "a fox", "blurry")
    assert prompt != "a fox" and "a fox" in prompt


def test_at_most_eight_rows_and_a_model_compare_cannot_take_keeps_them(studio):
    many = [value for _, value in row_choices(studio.catalog)][:8]
    _, _, models, *_ = from_generator(studio.catalogs, many, "a", "", "FLUX.1-dev", *SETTINGS, "")
    assert len(models["value"]) == 8 and models["value"][0] == "FLUX.1-dev"
    with pytest.warns(UserWarning, match="cannot be a Compare row"):
        _, _, kept, *_ = from_generator(studio.catalogs, many, "a", "", "NoSuch", *SETTINGS, "")
    assert "value" not in kept


def test_the_rows_offer_every_image_model_then_every_flux_lora_once(studio):
    values = [value for _, value in row_choices(studio.catalog)]
    models = [model.name for model in studio.catalog]
    assert values[: len(models)] == models
    assert values[len(models) :] == [f"flux-lora:{lora}" for lora in LORAS]
    assert len(set(values)) == len(values)
