"""ui.links: settings in a link's query, checked when opened; a record's link never holds a key."""

from __future__ import annotations

from urllib.parse import parse_qs

from ui_helpers import FLUX, changed, make_record

from heurist_ui.ui.form import FORM_FIELDS
from heurist_ui.ui.links import apply_link, record_query, settings_from_query


def test_a_records_link_carries_its_settings_and_no_key():
    record = make_record(7, api_key="user#SECRET", prompt_template="a {red|blue} kite")
    query = parse_qs(record_query(record))
    assert query["prompt"] == ["a {red|blue} kite"]  # the template, as Reuse restores it
    assert query["model"] == ["SDXL"] and query["seed"] == ["7"] and query["steps"] == ["20"]
    assert "SECRET" not in record_query(record)
    assert record_query(None) == ""


def test_a_link_fills_what_makes_sense_and_names_what_it_ignored(studio):
    query = {"prompt": "a fox", "model": FLUX, "width": "1536", "steps": "99", "seed": "x"}
    settings, ignored = settings_from_query(studio.catalogs, query)
    assert settings == {"prompt": "a fox", "model_id": FLUX, "width": 1536}
    assert any(item.startswith("steps '99'") for item in ignored)
    assert any(item.startswith("seed 'x'") for item in ignored)


def test_an_unknown_model_in_a_link_is_ignored_with_a_notice(studio):
    settings, ignored = settings_from_query(studio.catalogs, {"model": "Gone", "width": "512"})
    assert "model_id" not in settings and settings["width"] == 512
    assert ignored == ["model 'Gone' (not offered now)"]


def test_apply_link_updates_the_form_in_order(studio, recwarn):
    updates = apply_link(studio.catalogs, {"prompt": "a fox", "model": FLUX, "height": "2048"})
    by_name = dict(zip(FORM_FIELDS, updates, strict=True))
    assert by_name["prompt"]["value"] == "a fox" and by_name["model_id"]["value"] == FLUX
    assert by_name["height"] == {
        "value": 2048,
        "minimum": 64,
        "maximum": 2048,
        "step": 8,
        "__type__": "update",
    }
    assert by_name["style"]["value"] == "None" and changed(by_name["num_images"]) == {}


def test_a_link_carries_the_style_and_the_count_of_a_record(studio):
    record = make_record(3, style="Anime", form_prompt="a {red|blue} kite", images="4")
    record["form_neg_prompt"] = "blurry"
    query = {name: values[0] for name, values in parse_qs(record_query(record)).items()}
    assert query["style"] == "Anime" and query["images"] == "4"
    assert query["prompt"] == "a {red|blue} kite" and query["neg_prompt"] == "blurry"
    settings, ignored = settings_from_query(studio.catalogs, query)
    assert ignored == [] and settings["style"] == "Anime" and settings["num_images"] == 4
    _, ignored = settings_from_query(studio.catalogs, {"style": "Nope", "images": "9"})
    assert ignored == ["style 'Nope' (not a style here)", "images '9' (1 to 8)"]


def test_a_flux_lora_records_link_opens_it_with_its_strength(studio):
    record = {
        "kind": "flux-lora:wsb",
        "model_id": "FLUX LoRA · wsb",
        "prompt": "a logo",
        "width": 768,
        "height": 512,
        "steps": 9,
        "num_iterations": 9,
        "noise_seed": 5,
        "seed": 5,
        "strength_model": 0.4,
        "job_id": "x",
    }
    query = {name: values[0] for name, values in parse_qs(record_query(record)).items()}
    assert query["model"] == "flux-lora:wsb" and query["strength_model"] == "0.4"
    settings, ignored = settings_from_query(studio.catalogs, query)
    assert ignored == []
    assert settings["model_id"] == "flux-lora:wsb" and settings["strength_model"] == 0.4
    assert (settings["width"], settings["num_iterations"], settings["seed"]) == (768, 9, 5)
    too_small = {"model": "flux-lora:wsb", "width": "256", "strength_model": "3"}
    settings, ignored = settings_from_query(studio.catalogs, too_small)
    assert "width" not in settings and "strength_model" not in settings
    assert ignored == ["width '256' (512 to 2048)", "strength_model '3' (0 to 1)"]
