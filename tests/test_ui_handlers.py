"""The studio's handlers, called directly on a Studio over the sandbox (no server, no browser)."""

from __future__ import annotations

import re
from pathlib import Path

import gradio as gr
import pytest
from PIL import Image
from ui_helpers import generate_arguments, run_generator

from heurist_ui.params import MAX_SEED, SIZE_STEP
from heurist_ui.pngfile import read_png_metadata, save_png
from heurist_ui.sandbox import key_fingerprint, render_placeholder
from heurist_ui.ui import ASPECT_PRESETS, HISTORY_LIMIT, SETTING_KEYS, Studio

SDXL, FLUX, FLUX_LORA, SD15_LORA = "SDXL", "FLUX.1-dev", "HeuristLogo", "MagusDevon"


@pytest.fixture
def studio(client) -> Studio:
    """A Studio over the sandbox, with the test key, saving under tmp_path/out."""
    return Studio(client)


def generate(studio: Studio, **overrides) -> list[tuple[list, list]]:
    """Every (gallery, records) pair the generate handler yields, copied as it yields them.

    Yields that update nothing (gr.skip(), a dict) are left out.
    """
    args = generate_arguments(**{"model_id": SDXL, **overrides})
    return [
        (list(gallery), list(records))
        for gallery, records in run_generator(studio.generate(**args))
        if not isinstance(gallery, dict)
    ]


def changed(update: dict) -> dict:
    """The fields a gr.update() sets, without Gradio's marker."""
    return {key: value for key, value in update.items() if key != "__type__"}


def credit_figures(line: str) -> list[float]:
    """The credit amounts in a cost line: per image, then for the batch."""
    return [float(number) for number in re.findall(r"([\d.]+) credits", line)]


def make_record(n: int, **extra) -> dict:
    """A record as generate() makes them, job id and seed n."""
    return {
        "job_id": f"job-{n}",
        "model_id": SDXL,
        "seed": n,
        "width": 512,
        "height": 512,
        "num_iterations": 20,
        "guidance_scale": 7.0,
        "prompt": f"prompt {n}",
        "neg_prompt": "",
        "url": f"http://example.invalid/{n}.png",
        "credits": 0.25,
        "elapsed_s": 1.0,
        "created_at": "2025-01-01T00:00:00+00:00",
        **extra,
    }


# ---- live cost --------------------------------------------------------------------------


def test_cost_line_shows_per_image_and_batch_credits(studio):
    line = studio.cost_line(SDXL, 1024, 512, 30, 4)
    assert credit_figures(line) == [0.75, 3.00]
    assert "0.75" in line and "3.00" in line and "4 images" in line


def test_cost_line_for_one_image_says_image_not_images(studio):
    line = studio.cost_line(SDXL, 1024, 512, 30, 1)
    assert credit_figures(line) == [0.75, 0.75]
    assert "1 image " in line


@pytest.mark.parametrize(
    ("change", "value"),
    [("width", 768), ("height", 1024), ("steps", 20), ("count", 2), ("model_id", FLUX)],
)
def test_cost_line_follows_every_input(studio, change, value):
    base = {"model_id": SDXL, "width": 1024, "height": 512, "steps": 30, "count": 4}
    assert studio.cost_line(**{**base, change: value}) != studio.cost_line(**base)


def test_flux_costs_more_than_sdxl(studio):
    flux = credit_figures(studio.cost_line(FLUX, 1024, 1024, 20, 1))
    sdxl = credit_figures(studio.cost_line(SDXL, 1024, 1024, 20, 1))
    assert flux[0] > sdxl[0]


@pytest.mark.parametrize(
    "args",
    [
        (SDXL, "abc", 512, 30, 1),
        (SDXL, None, 512, 30, 1),
        (SDXL, 512, 512, "", 1),
        (SDXL, 512, 512, 30, None),
        ("no-such-model", 512, 512, 30, 1),
        (None, 512, 512, 30, 1),
    ],
)
def test_cost_line_gives_a_hint_for_bad_input(studio, args):
    line = studio.cost_line(*args)
    assert line.startswith("Cost:")
    assert "credits" not in line


@pytest.mark.parametrize("args", [(SDXL, -512, 512, 30, 1), (SDXL, 512, 512, 30, 0)])
def test_cost_line_gives_a_hint_for_out_of_range_input(studio, args):
    assert studio.cost_line(*args).startswith("Cost:")


# ---- models -----------------------------------------------------------------------------


def test_flux_hides_the_negative_prompt(studio):
    width, height, neg_prompt, lora_row, _ = studio.model_changed(FLUX, 1024, 1024)
    assert neg_prompt["visible"] is False
    assert lora_row["visible"] is False
    assert width["maximum"] == 2048 and height["maximum"] == 2048


def test_sdxl_shows_the_negative_prompt(studio):
    _, _, neg_prompt, lora_row, _ = studio.model_changed(SDXL, 1024, 1024)
    assert neg_prompt["visible"] is True
    assert lora_row["visible"] is False


@pytest.mark.parametrize(
    ("model_id", "trigger"), [(FLUX_LORA, "heuristai logo"), (SD15_LORA, "magusdevon")]
)
def test_lora_shows_trigger_words_and_keywords(studio, model_id, trigger):
    _, _, _, lora_row, lora_help = studio.model_changed(model_id, 512, 512)
    assert lora_row["visible"] is True
    assert trigger in lora_help["value"]
    assert "Recommended keywords" in lora_help["value"]


def test_model_change_bounds_the_size_by_the_models_maxima(studio):
    width, height, *_ = studio.model_changed(SDXL, 2048, 1536)
    assert (width["maximum"], height["maximum"]) == (1024, 1024)
    assert (width["value"], height["value"]) == (1024, 1024)
    width, height, *_ = studio.model_changed(FLUX, 4096, 640)
    assert (width["value"], height["value"]) == (2048, 640)


def test_unknown_model_changes_nothing(studio):
    updates = studio.model_changed("no-such-model", 512, 512)
    assert [changed(u) for u in updates[:3]] == [{}, {}, {}]


def test_model_defaults_apply_the_recommended_settings(studio):
    width, height, steps, guidance, neg_prompt = studio.model_defaults("PepeXL")
    assert (width["value"], height["value"]) == (680, 1024)
    assert (steps["value"], guidance["value"]) == (20, 5.0)
    assert neg_prompt["value"] == "(worst quality: 1.4), bad quality, nsfw"


def test_model_defaults_clear_the_negative_prompt_for_flux(studio):
    *_, neg_prompt = studio.model_defaults(FLUX)
    assert neg_prompt["value"] == ""


def test_insert_trigger_adds_the_words_once(studio):
    once = studio.insert_trigger("a glass cube", FLUX_LORA)
    assert once == "heuristai logo, a glass cube"
    assert studio.insert_trigger(once, FLUX_LORA) == once
    assert studio.insert_trigger("", FLUX_LORA) == "heuristai logo"
    assert studio.insert_trigger("a glass cube", SDXL) == "a glass cube"


@pytest.mark.parametrize("preset", list(ASPECT_PRESETS))
@pytest.mark.parametrize("model_id", [SDXL, FLUX, "Aurora", "AnimagineXL"])
def test_aspect_presets_give_valid_sizes_of_the_right_ratio(studio, preset, model_id):
    model = studio.find_model(model_id)
    width_update, height_update = studio.aspect(preset, model_id)
    width, height = width_update["value"], height_update["value"]
    assert width % SIZE_STEP == 0 and height % SIZE_STEP == 0
    assert width <= model.defaults.max_width and height <= model.defaults.max_height
    ratio = ASPECT_PRESETS[preset]
    assert abs(width / height - ratio) / ratio < 0.02


def test_unknown_aspect_preset_changes_nothing(studio):
    assert [changed(u) for u in studio.aspect("5:4", SDXL)] == [{}, {}]


# ---- reproducing ------------------------------------------------------------------------


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
    updates = studio.apply_settings(record)
    assert len(updates) == len(SETTING_KEYS)
    restored = {key: update["value"] for key, update in zip(SETTING_KEYS, updates, strict=True)}
    assert restored == {key: record[key] for key in SETTING_KEYS}
    assert updates[SETTING_KEYS.index("width")]["maximum"] == 2048


def test_apply_settings_keeps_the_current_model_when_unknown_and_warns(studio):
    with pytest.warns(UserWarning, match="not offered"):
        updates = studio.apply_settings({"prompt": "a red fox", "model_id": "Gone", "seed": 7})
    by_key = dict(zip(SETTING_KEYS, updates, strict=True))
    assert changed(by_key["model_id"]) == {}
    assert by_key["prompt"]["value"] == "a red fox"
    assert by_key["seed"]["value"] == 7


def test_apply_settings_ignores_anything_but_a_dict(studio):
    assert all(changed(u) == {} for u in studio.apply_settings(None))


def test_remember_keeps_the_50_newest_first(studio):
    history: dict = {"items": []}
    for n in range(60):
        history, rows = studio.remember([make_record(n)], history)
    assert len(history["items"]) == HISTORY_LIMIT == len(rows)
    assert [item["job_id"] for item in history["items"][:2]] == ["job-59", "job-58"]
    assert history["items"][-1]["job_id"] == "job-10"


def test_remember_dedupes_by_job_id(studio):
    history, _ = studio.remember([make_record(1), make_record(2)], {"items": []})
    history, rows = studio.remember([make_record(2), make_record(3)], history)
    assert sorted(item["job_id"] for item in history["items"]) == ["job-1", "job-2", "job-3"]
    assert len(rows) == 3


def test_remember_never_stores_a_key(studio):
    leaky = make_record(1, api_key="user#SECRET", key="user#SECRET", authorization="Bearer x")
    history, _ = studio.remember([leaky], {"items": []})
    (item,) = history["items"]
    assert set(item) == {*SETTING_KEYS, "job_id", "created_at"}
    assert "SECRET" not in repr(history)


def test_png_info_reads_a_png_saved_by_the_studio(studio, tmp_path):
    data = render_placeholder(64, 64, prompt="a red fox", model_id=SDXL, seed=42)
    saved = save_png(data, make_record(42, prompt="a red fox", neg_prompt="blurry"), tmp_path)
    text, settings = studio.png_info(str(saved), "")
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
    _, settings = studio.png_info(None, pasted)
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
    text, settings = studio.png_info(str(plain), "")
    assert settings is None
    assert "no generation parameters" in text
    assert studio.png_info(None, "  ")[1] is None


# ---- generating -------------------------------------------------------------------------


def test_generate_streams_a_growing_gallery_of_n_images(studio, sandbox):
    steps = generate(studio, num_images=4)
    sizes = [len(gallery) for gallery, _ in steps]
    # Jobs finishing together arrive in one update, so the sizes grow by one or more.
    assert sizes[0] >= 1 and sizes[-1] == 4
    assert sizes == sorted(set(sizes))
    gallery, records = steps[-1]
    assert len(records) == 4
    assert len({r["seed"] for r in records}) == 4
    assert all(r["seed"] >= 0 for r in records)
    for (path, caption), rec in zip(gallery, records, strict=True):
        assert Path(path).is_file() and Path(path).suffix == ".png"
        assert f"seed {rec['seed']}" in caption
        _, embedded = read_png_metadata(path)
        assert embedded["seed"] == rec["seed"]
    assert len(sandbox.submissions) == 4


def test_fixed_seed_gives_consecutive_seeds(studio):
    _, records = generate(studio, seed=1000, num_images=3)[-1]
    assert sorted(r["seed"] for r in records) == [1000, 1001, 1002]


def test_fixed_seed_batches_stay_within_the_seed_range(studio, sandbox):
    try:
        _, records = generate(studio, seed=MAX_SEED, num_images=2)[-1]
    except gr.Error as error:  # refusing, with a clear word on the seed, is fine too
        assert "seed" in error.message.lower()
        assert sandbox.submissions == []
        return
    assert all(0 <= r["seed"] <= MAX_SEED for r in records)


def test_empty_prompt_fails_clearly_without_submitting(studio, sandbox):
    with pytest.raises(gr.Error) as raised:
        generate(studio, prompt="   ")
    assert "prompt is empty" in raised.value.message
    assert sandbox.submissions == []


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("width", "abc", "Width must be a number"),
        ("model_id", "no-such-model", "Unknown model"),
        ("num_images", 9, "Images must be a whole number from 1 to 8"),
        ("num_iterations", 0, "Steps must be between 1 and 50"),
    ],
)
def test_bad_settings_fail_clearly_without_submitting(studio, sandbox, field, value, words):
    with pytest.raises(gr.Error) as raised:
        generate(studio, **{field: value})
    assert words in raised.value.message
    assert sandbox.submissions == []


def test_no_key_anywhere_fails_with_the_fix(make_client, sandbox):
    studio = Studio(make_client(api_key=None))
    with pytest.raises(gr.Error) as raised:
        generate(studio, api_key="")
    assert "HEURIST_API_KEY" in raised.value.message
    assert sandbox.submissions == []


def test_a_pasted_key_is_used_instead_of_the_servers(studio, sandbox):
    generate(studio, api_key="  other-user#other-key  ", num_images=2)
    fingerprints = {sub.key_fingerprint for sub in sandbox.submissions}
    assert fingerprints == {key_fingerprint("other-user#other-key")}


def test_partial_failure_keeps_the_images_that_succeeded(studio, sandbox):
    sandbox.add_fault("status", status=500)
    with pytest.warns(UserWarning, match=r"1 of 3 images failed.*\(500\)"):
        steps = generate(studio, num_images=3)
    gallery, records = steps[-1]
    assert len(gallery) == len(records) == 2
    assert len(sandbox.submissions) == 3


def test_all_jobs_failing_raises_the_apis_message(studio, sandbox):
    with pytest.raises(gr.Error) as raised:
        generate(studio, api_key="no-credits", num_images=2)
    assert "(402)" in raised.value.message and "credits" in raised.value.message
