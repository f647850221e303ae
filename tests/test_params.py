"""Validation of generation parameters, directly, without a client."""

from __future__ import annotations

import math
import random

import pytest

from heurist_ui.catalog import ModelDefaults, ModelInfo
from heurist_ui.errors import InvalidRequestError
from heurist_ui.params import (
    MAX_PROMPT_CHARS,
    MAX_SEED,
    RANDOM_SEED_MAX,
    check_seed,
    check_size,
    clean_text,
    resolve_seed,
    validate,
)

SDXL = ModelInfo(
    name="SDXL",
    type="sdxl10",
    defaults=ModelDefaults(
        width=1024, height=1024, neg_prompt="ugly", num_iterations=22, guidance_scale=5
    ),
)
FLUX = ModelInfo(
    name="FLUX.1-dev",
    type="flux-dev",
    defaults=ModelDefaults(max_width=2048, max_height=2048, neg_prompt=None, guidance_scale=3),
)


# --- seeds -------------------------------------------------------------------------------------


def test_resolve_seed_keeps_a_concrete_seed():
    assert [resolve_seed(seed) for seed in (0, 1, MAX_SEED)] == [0, 1, MAX_SEED]


def test_resolve_seed_picks_a_random_seed_in_range():
    seeds = {resolve_seed(-1) for _ in range(200)}

    assert all(0 <= seed <= RANDOM_SEED_MAX for seed in seeds)
    assert len(seeds) > 190


def test_resolve_seed_uses_the_given_rng():
    assert resolve_seed(-1, random.Random(7)) == resolve_seed(-1, random.Random(7))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(-1, -1), (0, 0), (42, 42), ("42", 42), (42.0, 42), (MAX_SEED, MAX_SEED)],
)
def test_check_seed_accepts_whole_numbers(value, expected):
    assert check_seed(value) == expected


@pytest.mark.parametrize(
    "value",
    [-2, MAX_SEED + 1, 1.5, "abc", "", None, True, False, math.nan, math.inf, [], 10**400],
)
def test_check_seed_rejects_the_rest(value):
    with pytest.raises(InvalidRequestError, match=r"[Ss]eed"):
        check_seed(value)


# --- text --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x00cat", "acat"),
        ("a\x07\x1b[31mcat\x7f\x9f", "a[31mcat"),
        ("  padded \n", "padded"),
        ("line one\nline two\ttabbed", "line one\nline two\ttabbed"),
        ("a 🐱 on the 🌙", "a 🐱 on the 🌙"),
        ("مرحبا بالعالم", "مرحبا بالعالم"),
        ("שלום \u200fעולם", "שלום \u200fעולם"),
        ("灯台、夕暮れ", "灯台、夕暮れ"),
        (None, ""),
    ],
)
def test_clean_text_drops_control_characters_and_keeps_the_rest(raw, clean):
    assert clean_text(raw, "Prompt") == clean


def test_clean_text_drops_lone_surrogates():
    cleaned = clean_text("a\ud800cat\udfff", "Prompt")

    cleaned.encode("utf-8")  # would raise if a surrogate were left
    assert cleaned == "acat"


@pytest.mark.parametrize("value", [5, 1.5, b"bytes", ["a"]])
def test_clean_text_rejects_non_text(value):
    with pytest.raises(InvalidRequestError, match="Prompt"):
        clean_text(value, "Prompt")


def test_prompt_of_the_maximum_length_is_accepted():
    assert len(validate(SDXL, prompt="x" * MAX_PROMPT_CHARS).prompt) == MAX_PROMPT_CHARS


@pytest.mark.parametrize("field", ["prompt", "neg_prompt"])
def test_text_over_the_maximum_length_is_refused(field):
    arguments = {"prompt": "a cat", field: "x" * (MAX_PROMPT_CHARS + 1)}

    with pytest.raises(InvalidRequestError, match="too long"):
        validate(SDXL, **arguments)


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t", "\x00\x01", None])
def test_empty_prompt_is_refused(prompt):
    with pytest.raises(InvalidRequestError, match="prompt is empty"):
        validate(SDXL, prompt=prompt)


# --- numbers -----------------------------------------------------------------------------------


def test_string_numbers_are_accepted():
    params = validate(
        SDXL,
        prompt="a cat",
        width="512",
        height="768.0",
        num_iterations="20",
        guidance_scale="7.5",
        seed="42",
    )

    assert (params.width, params.height, params.num_iterations) == (512, 768, 20)
    assert (params.guidance_scale, params.seed) == (7.5, 42)


@pytest.mark.parametrize("field", ["width", "height", "num_iterations", "guidance_scale", "seed"])
@pytest.mark.parametrize("value", [True, False])
def test_bools_are_refused(field, value):
    with pytest.raises(InvalidRequestError):
        validate(SDXL, prompt="a cat", **{field: value})


@pytest.mark.parametrize(
    ("value", "floored"), [(64, 64), (71, 64), (1001, 1000), (1023.9, 1016), (1024, 1024)]
)
def test_sizes_are_floored_to_multiples_of_8(value, floored):
    assert check_size(value, "Width", 1024) == floored


@pytest.mark.parametrize(
    "value", [0, -8, 63, 1025, 5000, 10**12, math.nan, -math.inf, "wide", None]
)
def test_sizes_outside_the_range_are_refused(value):
    with pytest.raises(InvalidRequestError, match="Width"):
        check_size(value, "Width", 1024)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("num_iterations", 0),
        ("num_iterations", 51),
        ("num_iterations", 20.5),
        ("num_iterations", -1),
        ("guidance_scale", 0),
        ("guidance_scale", 0.99),
        ("guidance_scale", 20.01),
        ("guidance_scale", 25),
        ("guidance_scale", math.inf),
        ("width", 1032),
        ("height", 2048),
    ],
)
def test_out_of_range_values_are_refused(field, value):
    with pytest.raises(InvalidRequestError):
        validate(SDXL, prompt="a cat", **{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [("num_iterations", 1), ("num_iterations", 50), ("guidance_scale", 1), ("guidance_scale", 20)],
)
def test_range_bounds_are_inclusive(field, value):
    assert getattr(validate(SDXL, prompt="a cat", **{field: value}), field) == value


def test_unset_values_take_the_model_defaults():
    params = validate(SDXL, prompt="a cat", neg_prompt="ugly")

    assert (params.width, params.height, params.num_iterations) == (1024, 1024, 22)
    assert (params.guidance_scale, params.seed) == (5, -1)
    assert (params.model_id, params.model_type) == ("SDXL", "sdxl10")


def test_model_without_negative_prompt_gets_an_empty_one():
    params = validate(FLUX, prompt="a cat", neg_prompt="blurry", width=2048)

    assert params.neg_prompt == ""
    assert params.width == 2048
