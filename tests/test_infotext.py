"""infotext: A1111 parameters text, written and read back, for any text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from image_helpers import (
    A1111_TEXT,
    JOB_ID,
    NON_LATIN,
    assert_round_trip,
    make_record,
)

from heurist_ui.infotext import format_infotext, parse_infotext


def test_format_infotext_matches_a1111_layout() -> None:
    assert format_infotext(make_record()) == (
        "a lighthouse at dusk\n"
        "Negative prompt: blurry, low quality\n"
        "Steps: 20, Sampler: Default, CFG scale: 7, Seed: 123, Size: 1024x768, Model: SDXL, "
        f"Job id: {JOB_ID}"
    )


@pytest.mark.parametrize("negative", ["", None])
def test_format_infotext_writes_an_empty_negative_prompt_and_quotes_special_values(negative):
    # ComfyUI's A1111 importer needs the line; A1111 and the other readers take it empty.
    record = make_record(
        neg_prompt=negative, guidance_scale=7.5, seed=0, model_id='odd, "model": v2', job_id="a:b"
    )
    assert format_infotext(record) == (
        "a lighthouse at dusk\n"
        "Negative prompt: \n"
        "Steps: 20, Sampler: Default, CFG scale: 7.5, Seed: 0, Size: 1024x768, "
        'Model: "odd, \\"model\\": v2", '
        'Job id: "a:b"'
    )


def test_format_infotext_prints_integral_cfg_without_decimal() -> None:
    assert "CFG scale: 7," in format_infotext(make_record(guidance_scale=7.0))


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"neg_prompt": ""},
        {"neg_prompt": None},
        {"prompt": "line one\nline two\n\n  indented line", "neg_prompt": "bad\nworse"},
        {"prompt": "a cat: sitting, on a mat", "neg_prompt": "text: watermark, signature"},
        {"model_id": "weird:model, v2", "job_id": "job, with: punctuation"},
        {"prompt": NON_LATIN, "neg_prompt": "模糊, 低质量, ضبابي 😡"},
        {"prompt": "ends with a newline\n", "neg_prompt": " leading space"},
        {"prompt": "", "neg_prompt": "only a negative"},
        {"prompt": "", "neg_prompt": ""},
        {"prompt": "looks like params\nSteps: 5, Sampler: Euler, CFG scale: 2"},
        {"seed": 0, "guidance_scale": 7.5, "num_iterations": 1},
        {"seed": 2**64 - 1, "guidance_scale": 3.25, "width": 512, "height": 2048},
        {"model_id": "FLUX.1-dev", "neg_prompt": None, "guidance_scale": 3},
    ],
)
def test_infotext_round_trips(changes: dict) -> None:
    assert_round_trip(make_record(**changes))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prompt=st.text(st.characters(exclude_characters="\r")),
    negative=st.text(st.characters(exclude_characters="\r")),
    model_id=st.text(),
    job_id=st.text(),
    seed=st.integers(-(2**64), 2**64),
    steps=st.integers(1, 50),
    scale=st.floats(allow_nan=False, allow_infinity=False),
)
def test_infotext_round_trips_any_text(prompt, negative, model_id, job_id, seed, steps, scale):
    assume(not any(line.startswith("Negative prompt:") for line in prompt.split("\n")))
    record = make_record(
        prompt=prompt,
        neg_prompt=negative,
        model_id=model_id,
        job_id=job_id,
        seed=seed,
        num_iterations=steps,
        guidance_scale=scale,
    )
    assert_round_trip(record)


def test_parse_infotext_reads_a_real_a1111_text() -> None:
    assert parse_infotext(A1111_TEXT) == {
        "prompt": "masterpiece, a cat",
        "neg_prompt": "lowres, bad anatomy",
        "num_iterations": 28,
        "guidance_scale": 7.0,
        "seed": 3361239383,
        "width": 832,
        "height": 1216,
        "model_id": "animagine-xl-3.1",
        "extra": {
            "Sampler": "DPM++ 2M",
            "Schedule type": "Karras",
            "Model hash": "4496b36d48",
            "Clip skip": "2",
        },
    }


def test_parse_infotext_unquotes_values_and_reads_multiline_prompts() -> None:
    text = (
        "best quality,\n1girl, <lora:add_detail:0.5>\r\n"
        "Steps: 20, Sampler: Euler a, CFG scale: 5.5, Seed: 1, Size: 512x768, Lora hashes: "
        '"add_detail: 7c6bad76eb54, more: 3b8aa1d351ef", Hires prompt: "a\\nb", '
        "Version: v1.10.1\n"
    )
    parsed = parse_infotext(text)
    assert parsed["prompt"] == "best quality,\n1girl, <lora:add_detail:0.5>"
    assert parsed["neg_prompt"] == ""
    assert parsed["guidance_scale"] == 5.5
    assert "model_id" not in parsed
    assert parsed["extra"] == {
        "Sampler": "Euler a",
        "Lora hashes": "add_detail: 7c6bad76eb54, more: 3b8aa1d351ef",
        "Hires prompt": "a\nb",
        "Version": "v1.10.1",
    }


@pytest.mark.parametrize(
    "text",
    [
        "a cat\nwith a hat",
        "Steps: 5, with a cat",
        "Sampler: Euler, CFG scale: 7, Seed: 1",
        "just one line: with a colon",
    ],
)
def test_parse_infotext_treats_text_without_a_params_line_as_prompt(text: str) -> None:
    assert parse_infotext(text) == {"prompt": text}


def test_parse_infotext_keeps_unreadable_known_values_in_extra() -> None:
    parsed = parse_infotext("a cat\nSteps: many, Seed: lucky, Size: big, CFG scale: nan")
    assert parsed["extra"] == {"Steps": "many", "Seed": "lucky", "Size": "big", "CFG scale": "nan"}
    assert not {"num_iterations", "seed", "width", "guidance_scale"} & parsed.keys()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n",
        '"',
        "Steps:",
        'Steps: "unterminated, Seed: 1',
        "Negative prompt:",
        "\x00\x01\ufffd",
        "Steps: 20, , , Seed: 1",
        "Steps: 99999999999999999999999999999999999999999, Size: 99999999999x1",
        "a" * 100_000 + ": " + "b" * 100_000,
        "Steps: " + "9" * 5000,
        "Size: " + "9" * 5000 + "x1, Steps: 1",
        "Steps: 1, CFG scale: " + "9" * 5000,
    ],
)
def test_parse_infotext_never_raises_on_odd_text(text: str) -> None:
    result = parse_infotext(text)
    assert result == {} or isinstance(result["prompt"], str)


def test_parse_infotext_handles_very_long_lines() -> None:
    # Pasted text can be huge; these once sent a quadratic regex into a crawl.
    assert parse_infotext("p\n" + 'Steps: "a, ' * 80_000)["extra"] == {"Steps": '"a'}
    assert parse_infotext("p\n" + "ab: 1, " * 80_000 + "Steps: 2")["num_iterations"] == 2


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_infotext_never_raises_on_any_text(text: str) -> None:
    result = parse_infotext(text)
    assert result == {} or isinstance(result["prompt"], str)


@pytest.mark.parametrize("value", [None, 123, ["Steps: 1"]])
def test_parse_infotext_returns_empty_for_non_text(value: object) -> None:
    assert parse_infotext(value) == {}  # type: ignore[arg-type]
