"""ui.png_info: parameters read from a dropped PNG or pasted text."""

from __future__ import annotations

from PIL import Image
from ui_helpers import (
    SDXL,
    make_record,
)

from heurist_ui.pngfile import save_png
from heurist_ui.sandbox import render_placeholder
from heurist_ui.ui.png_info import png_info


def test_png_info_reads_a_png_saved_by_the_studio(studio, tmp_path):
    data = render_placeholder(64, 64, prompt="a red fox", model_id=SDXL, seed=42)
    saved = save_png(data, make_record(42, prompt="a red fox", neg_prompt="blurry"), tmp_path)
    text, settings = png_info(str(saved), "")
    assert "a red fox" in text
    assert settings["prompt"] == "a red fox"
    assert settings["neg_prompt"] == "blurry"
    assert (settings["seed"], settings["width"], settings["height"]) == (42, 512, 512)
    assert settings["model_id"] == SDXL
    assert "extra" not in settings


def test_png_info_reads_pasted_a1111_text(studio):
    pasted = (
        "a castle on a hill, golden hour\n"
        "Negative prompt: blurry, lowres\n"
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234, Size: 768x512, "
        "Model hash: 31e35c80fc, Model: SDXL"
    )
    _, settings = png_info(None, pasted)
    assert settings == {
        "prompt": "a castle on a hill, golden hour",
        "neg_prompt": "blurry, lowres",
        "num_iterations": 30,
        "guidance_scale": 6.5,
        "seed": 1234,
        "width": 768,
        "height": 512,
        "model_id": SDXL,
    }


def test_png_info_explains_a_png_without_parameters(studio, tmp_path):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    text, settings = png_info(str(plain), "")
    assert settings is None
    assert "no generation parameters" in text
    assert png_info(None, "  ")[1] is None


BEACON = '```\n<img src="http://tracker.invalid/b.png"> [link](http://tracker.invalid) **bold**'


def test_markup_in_parameters_is_shown_as_text():
    text, settings = png_info(None, BEACON + "\nSteps: 20, Seed: 1")
    assert "<img" not in text and "&lt;img" in text
    assert settings["prompt"].startswith("```")


def test_markup_in_a_record_is_shown_as_text():
    from heurist_ui.ui.results import record_markdown

    shown = record_markdown(make_record(1, prompt=BEACON))
    assert "<img" not in shown and "](" not in shown and "**bold**" not in shown
