"""Bad input: property-based tests over the core and over the launched app's /generate.

Any input ends in a validation message or a valid request: never an unhandled exception, never
Gradio's generic "has raised an exception", and never an invalid payload reaching the API
(every submission the sandbox receives is checked).
"""

from __future__ import annotations

import json
import math

import pytest
from gradio_client.exceptions import AppError
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from test_reliability_support import (
    GENERIC_ERROR_WORDS,
    PARAMETERS,
    call_generate,
    fast_retries,
    generate_data,
    payload_problems,
)
from ui_helpers import api_client, running_studio

from heurist_ui.catalog import offline_catalog
from heurist_ui.client import HeuristClient, build_payload, new_job_id
from heurist_ui.config import load_settings
from heurist_ui.errors import InvalidRequestError
from heurist_ui.params import MAX_SEED, GenerationParams, validate

KEY = "input-user#input-key"
CATALOG = offline_catalog()
# The app's own catch-all for unexpected failures: a message, but not a clear one.
CATCH_ALL_WORDS = "went wrong on our side"

SPECIAL_TEXT = [
    "",
    " ",
    " \t\n\r\u3000 ",
    "\x00",
    "a lighthouse\x00 at dusk",
    "\x00\x01\x1b[31mred\x7f\x9f",
    "🎨🦊 a fox made of 🔥, 👩‍👩‍👧 family",
    "مرحبا بالعالم، منارة عند الغسق",
    "\u202eevil override\u202c and \u200f rtl mark",
    "שלום עולם",
    "x" * 10_000,
    "a" * 8000,
    "line one\nline two\r\nline three",
    "\ud800 lone surrogate",
    "zero\u200bwidth",
    '"quoted", Steps: 99, Seed: -5',
    "{{template}} ${jndi:ldap://x} <script>alert(1)</script>",
]
TEXT = st.one_of(st.sampled_from(SPECIAL_TEXT), st.text(max_size=200))
# A JSON client cannot send a lone surrogate (UTF-8 has none), so the app never sees one.
SENDABLE_TEXT = st.one_of(
    st.sampled_from([text for text in SPECIAL_TEXT if "\ud800" not in text]),
    st.text(max_size=200),  # UTF-8 characters only
)
JSON_NUMBERS = st.one_of(
    st.sampled_from([64, 512, 1024, 1000, 1023.9, 7.5, 20, 50, 1, -1, 0, 2**53 - 1, 2**53, 2**64]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["512", " 512 ", "1e3", "0x200", "1_024", "५१२", "abc", "", " ", "-1"]),
    st.text(max_size=12),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
ANY_NUMBER = st.one_of(
    JSON_NUMBERS,
    st.sampled_from([math.nan, math.inf, -math.inf, 10**400, -(10**400), "nan", "inf", "1e999"]),
    st.decimals(),
    st.fractions(),
    st.complex_numbers(),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
MODELS = st.one_of(
    st.sampled_from(CATALOG.names),
    st.sampled_from(["sdxl", "SDXL ", "", "mistralai/mixtral-8x7b-instruct", "../SDXL"]),
    st.text(max_size=20),
    st.none(),
    st.integers(),
)
CORE_SETTINGS = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
APP_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def core_client():
    """A client that never talks to anyone: validation only, over the bundled catalogue."""
    client = HeuristClient(settings=load_settings(api_key=KEY, env_file=None), catalog=CATALOG)
    yield client
    client.close()


@pytest.fixture(scope="module")
def app(sandbox_server, tmp_path_factory):
    with running_studio(sandbox_server, tmp_path_factory.mktemp("input"), api_key=KEY) as app:
        fast_retries(app.studio.client)
        yield app


@pytest.fixture(scope="module")
def gradio(app):
    return api_client(app.url)


def assert_valid_params(params: GenerationParams) -> None:
    payload = build_payload(params, new_job_id())
    assert payload_problems(payload, CATALOG) == []
    json.dumps(payload, allow_nan=False)


# ---- the core --------------------------------------------------------------------------------


@CORE_SETTINGS
@given(
    prompt=TEXT,
    neg_prompt=TEXT,
    model_id=MODELS,
    width=ANY_NUMBER,
    height=ANY_NUMBER,
    steps=ANY_NUMBER,
    guidance=ANY_NUMBER,
    seed=ANY_NUMBER,
)
@example("\x00", "", "SDXL", 512, 512, 20, 7, -1)
@example("x" * 10_000, "", "SDXL", 512, 512, 20, 7, -1)
@example("a fox", "\x00", "FLUX.1-dev", 1e308, -0.0, 20.5, math.nan, 10**400)
@example("a fox", "", "SDXL", 1023, 1023.99, 50.0, 20.0, 2**53 - 1)
def test_prepare_gives_a_validation_error_or_a_valid_payload(
    core_client, prompt, neg_prompt, model_id, width, height, steps, guidance, seed
):
    try:
        params = core_client.prepare(
            prompt,
            model_id,
            neg_prompt=neg_prompt,
            width=width,
            height=height,
            num_iterations=steps,
            guidance_scale=guidance,
            seed=seed,
        )
    except InvalidRequestError as error:
        assert str(error).strip() and "Traceback" not in str(error)
        return
    assert_valid_params(params)
    assert params.seed >= 0, "prepare must resolve -1 to a concrete seed"


@CORE_SETTINGS
@given(
    model=st.sampled_from(CATALOG.models),
    prompt=TEXT,
    neg_prompt=st.one_of(TEXT, st.none()),
    values=st.fixed_dictionaries(
        {
            "width": ANY_NUMBER,
            "height": ANY_NUMBER,
            "num_iterations": ANY_NUMBER,
            "guidance_scale": ANY_NUMBER,
            "seed": ANY_NUMBER,
        }
    ),
)
def test_validate_gives_a_validation_error_or_params_within_the_models_limits(
    model, prompt, neg_prompt, values
):
    try:
        params = validate(model, prompt=prompt, neg_prompt=neg_prompt, **values)
    except InvalidRequestError:
        return
    assert params.model_id == model.name and params.model_type == model.type
    assert params.width <= model.defaults.max_width and params.height <= model.defaults.max_height
    if not model.takes_negative_prompt:
        assert params.neg_prompt == ""
    assert_valid_params(params.with_seed(max(params.seed, 0)))


def test_none_takes_the_models_defaults():
    model = CATALOG.get("FLUX.1-dev")
    params = validate(
        model,
        prompt="a fox",
        neg_prompt="ignored",
        width=None,
        height=None,
        num_iterations=None,
        guidance_scale=None,
        seed=None,
    )
    d = model.defaults
    assert (params.width, params.height) == (d.width // 8 * 8, d.height // 8 * 8)
    assert (params.num_iterations, params.guidance_scale) == (d.num_iterations, d.guidance_scale)
    assert params.seed == -1 and params.neg_prompt == ""


# ---- /generate through gradio_client -------------------------------------------------------


def check_submissions(sandbox) -> None:
    """Every payload the API got is valid, and the API accepted each one."""
    for sub in sandbox.submissions:
        assert sub.status == 200, f"the API refused a payload ({sub.status}): {sub.payload}"
        assert payload_problems(sub.payload, CATALOG) == [], sub.payload


@st.composite
def generate_inputs(draw) -> dict:
    """/generate inputs: plausible values, with none, one or two fields replaced by wild ones.

    Fully random inputs almost never pass validation; this way about a third of the examples
    reach the API (and their payloads are checked) while the rest probe one field at a time.
    Counts stay whole (a huge count has its own test below), and the key stays the
    server's (a mangled pasted key has its own test too).
    """
    model = draw(st.sampled_from(CATALOG.models))
    d = model.defaults
    sizes = st.one_of(st.integers(64, 1024), st.floats(64, 1024))
    inputs = {
        "prompt": draw(SENDABLE_TEXT.map(lambda text: f"a fox {text}")),
        "neg_prompt": draw(SENDABLE_TEXT),
        "model_id": model.name,
        "width": draw(sizes.filter(lambda size: size <= d.max_width)),
        "height": draw(sizes.filter(lambda size: size <= d.max_height)),
        "num_iterations": draw(st.integers(1, 50)),
        "guidance_scale": draw(st.one_of(st.integers(1, 20), st.floats(1, 20))),
        "seed": draw(st.integers(-1, 2**53 - 9)),
        "num_images": draw(st.integers(1, 3)),
        "api_key": "",
        "strength_model": draw(st.floats(0, 1)),
    }
    wild = {
        "prompt": SENDABLE_TEXT,
        "neg_prompt": st.one_of(SENDABLE_TEXT, st.none(), st.integers()),
        "model_id": MODELS,
        "width": JSON_NUMBERS,
        "height": JSON_NUMBERS,
        "num_iterations": JSON_NUMBERS,
        "guidance_scale": JSON_NUMBERS,
        "seed": JSON_NUMBERS,
        "strength_model": JSON_NUMBERS,
        "num_images": st.one_of(
            st.integers(-2, 10), st.sampled_from([1.0, 1.5, "2", "two", None, "", [1]])
        ),
    }
    for name in draw(st.sets(st.sampled_from(sorted(wild)), max_size=2)):
        inputs[name] = draw(wild[name])
    return inputs


@APP_SETTINGS
@given(inputs=generate_inputs())
@example(
    inputs={
        **dict(zip(PARAMETERS, generate_data(), strict=True)),
        "prompt": "🎨 مرحبا \u202e\x00 " + "x" * 10_000,
        "neg_prompt": "\x00",
    }
)
@example(
    inputs={
        **dict(zip(PARAMETERS, generate_data(), strict=True)),
        "prompt": "a fox 🦊 \u05e9\u05dc\u05d5\u05dd\x00",
        "neg_prompt": "\x1b[31m",
        "model_id": "Aurora",
        "width": 513.7,
        "height": "300",
        "num_iterations": "20",
        "guidance_scale": 7.25,
        "seed": "42",
        "num_images": 2,
    }
)
def test_generate_answers_any_input_with_a_clear_message_or_images(
    app, gradio, sandbox_server, inputs
):
    sandbox_server.reset()
    data = [inputs[name] for name in PARAMETERS]
    try:
        gallery, records = gradio.predict(*data, api_name="/generate")
    except AppError as error:
        message = str(error)
        assert message.strip() and GENERIC_ERROR_WORDS not in message, message
        assert CATCH_ALL_WORDS not in message, message
        assert sandbox_server.submissions == [], "refused input must send nothing"
        event("validation message")
    else:
        event("images")
        assert 1 <= len(records) == len(gallery) <= 8
        for record in records:
            assert record["prompt"].strip() and "\x00" not in record["prompt"]
    check_submissions(sandbox_server)


# ---- /generate over raw JSON: values a typed client cannot even send -------------------------


HOSTILE_VALUES = [math.nan, math.inf, -math.inf, 10**400, -(10**400), [512], {"value": 512}]
NUMERIC_FIELDS = ["width", "height", "num_iterations", "guidance_scale", "seed"]


@pytest.mark.parametrize("field", NUMERIC_FIELDS)
@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
def test_raw_json_numbers_get_a_clear_message_and_send_nothing(app, sandbox, field, value):
    outcome = call_generate(app.url, generate_data(**{field: value}))

    assert outcome.clear_error, outcome.message
    assert CATCH_ALL_WORDS not in outcome.message
    assert sandbox.submissions == []


@pytest.mark.parametrize("field", ["prompt", "neg_prompt", "model_id", "api_key"])
@pytest.mark.parametrize("value", [123, [1, 2], {"a": 1}, True], ids=repr)
def test_raw_json_non_text_never_fails_generically(app, sandbox, field, value):
    outcome = call_generate(app.url, generate_data(**{field: value}))

    assert outcome.ok or outcome.clear_error, outcome.message
    check_submissions(sandbox)


@pytest.mark.parametrize(
    "model_id",
    ["sdxl", "SDXL ", "", "mistralai/mixtral-8x7b-instruct", "../SDXL", "SDXL\x00", "🦊" * 300],
)
def test_an_unknown_model_gets_a_clear_message_naming_the_choices(app, sandbox, model_id):
    outcome = call_generate(app.url, generate_data(model_id=model_id))

    assert outcome.clear_error, outcome.message
    assert "Unknown model" in outcome.message and "SDXL" in outcome.message
    assert sandbox.submissions == []


@pytest.mark.parametrize("value", [0, -1, 9, 1.5, "two", None, math.nan, math.inf])
def test_a_bad_image_count_gets_a_clear_message(app, sandbox, value):
    outcome = call_generate(app.url, generate_data(num_images=value))

    assert outcome.clear_error, outcome.message
    assert "Images must be a whole number" in outcome.message
    assert sandbox.submissions == []


@pytest.mark.parametrize("value", [10**400, -(10**400)], ids=["1e400", "-1e400"])
def test_a_huge_image_count_gets_a_clear_message(app, sandbox, value):
    outcome = call_generate(app.url, generate_data(num_images=value))

    assert outcome.clear_error, outcome.message
    assert sandbox.submissions == []


def test_a_fixed_seed_batch_never_sends_a_seed_beyond_the_range(app, sandbox):
    outcome = call_generate(app.url, generate_data(seed=MAX_SEED, num_images=2))

    assert outcome.clear_error and "seed" in outcome.message.lower(), outcome.message
    assert sandbox.submissions == []


def test_a_fixed_seed_batch_may_end_exactly_at_the_last_seed(app, sandbox):
    outcome = call_generate(app.url, generate_data(seed=MAX_SEED - 1, num_images=2))

    assert outcome.ok, outcome.message
    assert sorted(record["seed"] for record in outcome.records) == [MAX_SEED - 1, MAX_SEED]
    check_submissions(sandbox)


@pytest.mark.parametrize(
    "key",
    ["user#k\u200bey", "\u201cuser#key\u201d", "ключ#секрет", "user#k\ney"],
    ids=["zero-width-space", "curly-quotes", "cyrillic", "line-break"],
)
def test_a_mangled_pasted_key_gets_a_message_about_the_key(app, sandbox, key):
    outcome = call_generate(app.url, generate_data(api_key=key))

    assert outcome.clear_error, outcome.message
    assert CATCH_ALL_WORDS not in outcome.message
    assert "Could not reach" not in outcome.message
    assert "key" in outcome.message.lower()
    assert sandbox.submissions == []


def test_a_visitors_mistake_is_one_short_log_line_without_a_traceback(app, sandbox, capfd, caplog):
    capfd.readouterr()
    huge_name = "x" * 100_000  # echoed whole, it would add 100 KB to the answer and the log
    with caplog.at_level("INFO", logger="heurist_ui"):
        outcome = call_generate(app.url, generate_data(model_id=huge_name))
        call_generate(app.url, generate_data(prompt=""))

    assert outcome.clear_error and len(outcome.message) < 2000
    refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Refused:")]
    assert len(refusals) == 2, refusals
    assert all(len(line) < 250 and "\n" not in line for line in refusals)
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert len(out + err) < 5000
    assert sandbox.submissions == []


def test_a_wrong_number_of_values_is_named_not_answered_with_a_null_error(app, sandbox):
    wanted = len(generate_data())
    extra = call_generate(app.url, [*generate_data(), "surplus"])

    assert extra.clear_error, extra.raw
    assert f"/generate takes {wanted} values" in extra.message and "Prompt" in extra.message
    assert f"sent {wanted + 1}" in extra.message
    assert sandbox.submissions == []


def test_trailing_values_left_out_get_the_defaults_the_api_description_gives(app, sandbox):
    # A script written before the last optional value (LoRA strength) was added, and one that
    # sends the prompt alone, as gradio_client may: the defaults of the "Use via API" page.
    older = call_generate(app.url, generate_data(prompt="an older script")[:-1])
    prompt_only = call_generate(app.url, ["the prompt alone"])

    assert older.ok and [r["prompt"] for r in older.records] == ["an older script"]
    assert prompt_only.ok and [r["prompt"] for r in prompt_only.records] == ["the prompt alone"]
    assert len(sandbox.submissions) == 2
