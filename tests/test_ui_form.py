"""ui.form: settings restored into the form from a record, history entry or infotext."""

from __future__ import annotations

import pytest
from ui_helpers import (
    FLUX,
    changed,
)

from heurist_ui.params import SETTING_FIELDS
from heurist_ui.ui.form import FORM_FIELDS, apply_settings, form_notes, form_values


def test_apply_settings_restores_every_field(studio):
    record = {
        "prompt": "a red fox",
        "neg_prompt": "blurry",
        "model_id": FLUX,
        "width": 1536,
        "height": 640,
        "num_iterations": 28,
        "guidance_scale": 3.5,
        "seed": 1234,
        "job_id": "heurist-ui-x",
    }
    *updates, count, style, strength = apply_settings(studio.catalogs, record)
    assert len(updates) == len(SETTING_FIELDS)
    restored = {key: update["value"] for key, update in zip(SETTING_FIELDS, updates, strict=True)}
    assert restored == {key: record[key] for key in SETTING_FIELDS}
    assert updates[SETTING_FIELDS.index("width")]["maximum"] == 2048
    assert style["value"] == "None"  # the restored prompt is the one sent, style included
    assert count["value"] == 1  # a record without its batch's count is one image
    assert changed(strength) == {}  # a FLUX LoRA's only


def test_apply_settings_restores_a_flux_lora_record_with_its_bounds(studio):
    record = {  # as a FLUX-LoRA job records itself (jobkinds.WorkflowJob.record)
        "kind": "flux-lora:wsb",
        "model_id": "FLUX LoRA · wsb",
        "prompt": "a logo",
        "width": 640,
        "height": 1536,
        "steps": 9,
        "num_iterations": 9,
        "noise_seed": 77,
        "seed": 77,
        "strength_model": 0.35,
        "job_id": "flux-lora-x",
    }
    by_key = dict(zip(FORM_FIELDS, apply_settings(studio.catalogs, record), strict=True))
    assert by_key["model_id"]["value"] == "flux-lora:wsb"
    assert by_key["num_iterations"]["value"] == 9 and by_key["seed"]["value"] == 77
    assert by_key["strength_model"]["value"] == 0.35
    width = by_key["width"]
    assert (width["value"], width["minimum"], width["maximum"], width["step"]) == (
        640,
        512,
        2048,
        64,
    )
    assert changed(by_key["guidance_scale"]) == {}  # not the miner's: left as it is


def test_apply_settings_keeps_the_current_model_when_unknown_and_warns(studio):
    with pytest.warns(UserWarning, match="not offered"):
        updates = apply_settings(
            studio.catalogs, {"prompt": "a red fox", "model_id": "Gone", "seed": 7}
        )
    by_key = dict(zip(FORM_FIELDS, updates, strict=True))
    assert changed(by_key["model_id"]) == {}
    assert by_key["prompt"]["value"] == "a red fox"
    assert by_key["seed"]["value"] == 7
    with pytest.warns(UserWarning, match="ya no ofrece el modelo 'Gone'"):
        apply_settings(studio.catalogs, {"model_id": "Gone"}, "es")


def test_apply_settings_ignores_anything_but_a_dict(studio):
    assert all(changed(u) == {} for u in apply_settings(studio.catalogs, None))


def test_apply_settings_restores_the_template_of_variations(studio):
    record = {"prompt": "a red kite", "prompt_template": "a {red|blue} kite", "model_id": "SDXL"}
    updates = apply_settings(studio.catalogs, record)
    assert updates[SETTING_FIELDS.index("prompt")]["value"] == "a {red|blue} kite"


def test_a_styled_batchs_record_restores_the_prompts_as_typed_the_style_and_the_count(studio):
    notes = form_notes("a {red|blue} kite", "", "Watercolor", 3)
    record = {
        "prompt": "watercolor painting of a red kite",
        "prompt_template": "watercolor painting of a {red|blue} kite",
        "neg_prompt": "photo, photorealistic",
        "model_id": "SDXL",
        "seed": 5,
        "job_id": "heurist-ui-y",
        **notes,
    }
    values = form_values(record)
    assert values["prompt"] == "a {red|blue} kite" and values["neg_prompt"] == ""
    assert values["style"] == "Watercolor" and values["num_images"] == 3
    updates = dict(zip(FORM_FIELDS, apply_settings(studio.catalogs, record), strict=True))
    assert updates["style"]["value"] == "Watercolor" and updates["num_images"]["value"] == 3
