"""prompt_help: examples for every bundled model (and family fallbacks), and style presets."""

from __future__ import annotations

import pytest

from heurist_ui.catalog import offline_catalog, parse_model
from heurist_ui.errors import InvalidRequestError
from heurist_ui.prompt_help import NO_STYLE, apply_style, examples_for, style_names, styles

CATALOG = offline_catalog()


@pytest.mark.parametrize("model", CATALOG.models, ids=lambda model: model.name)
def test_every_bundled_model_has_three_examples_that_fit_it(model):
    examples = examples_for(model)
    assert len(examples) >= 3
    for example in examples:
        values = example.form_values(model)
        assert values["model_id"] == model.name and values["prompt"].strip()
        assert values["width"] <= model.defaults.max_width
        assert values["height"] <= model.defaults.max_height
        if not model.takes_negative_prompt:
            assert values["neg_prompt"] == ""
        if model.autofill:
            assert model.autofill.lower() in values["prompt"].lower()


@pytest.mark.parametrize("model", CATALOG.models, ids=lambda model: model.name)
def test_examples_are_written_for_the_family(model):
    for example in examples_for(model):
        if model.is_flux:
            assert example.prompt.rstrip().endswith(".")  # sentences
        else:
            assert example.prompt.count(",") >= 3  # tags


@pytest.mark.parametrize(
    ("type_name", "family"), [("sd15", "sd15"), ("sdxl10", "sdxl"), ("flux-pro", "flux")]
)
def test_a_model_the_examples_do_not_know_gets_its_familys(type_name, family):
    model = parse_model({"name": "BrandNew", "type": type_name})
    assert model.family == family
    assert len(examples_for(model)) >= 3


def test_styles_include_the_usual_ones_and_none_first():
    names = style_names()
    assert names[0] == NO_STYLE
    for name in (
        "Photographic",
        "Cinematic",
        "Anime",
        "Digital art",
        "Watercolor",
        "Pixel art",
        "3D render",
    ):
        assert name in names


@pytest.mark.parametrize("style", styles(), ids=lambda style: style.name)
def test_every_style_wraps_the_prompt_and_adds_a_negative(style):
    prompt, negative = apply_style(style.name, "a fox", "blurry")
    assert "a fox" in prompt and prompt != "a fox"
    assert negative.startswith("blurry, ") and style.negative in negative


def test_flux_gets_no_negative_from_a_style():
    assert apply_style("Anime", "a fox", "blurry", takes_negative=False)[1] == ""


def test_no_style_changes_nothing():
    assert apply_style(NO_STYLE, "a fox", "blurry") == ("a fox", "blurry")
    assert apply_style(None, "a fox", "blurry") == ("a fox", "blurry")


def test_an_unknown_style_names_the_choices():
    with pytest.raises(InvalidRequestError, match="Choose one of: None, Photographic"):
        apply_style("Baroque", "a fox", "")
