"""enhance: SmartGen over HTTP against the sandbox's LLM gateway: prompts, failures, cleaning."""

from __future__ import annotations

import json
import re

import pytest

from heurist_ui.config import load_settings
from heurist_ui.enhance import (
    EnhanceRequest,
    PromptEnhancer,
    build_messages,
    check_request,
    clean_answer,
)
from heurist_ui.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InsufficientCreditsError,
    InvalidRequestError,
    ServerError,
    UnexpectedResponseError,
)

LLM = "meta-llama/llama-3.3-70b-instruct"
SECRET_KEY = "llm-user#LLM-SECRET-KEY"


@pytest.fixture
def make_enhancer(sandbox):
    enhancers = []

    def make(base: str | None = None, **options) -> PromptEnhancer:
        settings = load_settings(
            api_key=SECRET_KEY, llm_base_url=base or f"{sandbox.url}/v1", env_file=None
        )
        enhancer = PromptEnhancer(settings, **options)
        enhancers.append(enhancer)
        return enhancer

    yield make
    for enhancer in enhancers:
        enhancer.close()


def request(description: str = "a fox in the snow", family: str = "sdxl", **extra):
    return check_request(description, family=family, llm_model=LLM, **extra)


def completion_body(content: str) -> str:
    message = {"role": "assistant", "content": content}
    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": LLM,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        }
    )


def test_sd_models_get_comma_separated_tags(make_enhancer, sandbox):
    prompt = make_enhancer().enhance(request(family="sdxl"))
    assert "a fox in the snow" in prompt and prompt.count(",") >= 3
    (chat,) = sandbox.chats
    assert chat["path"] == "/v1/chat/completions"
    assert chat["payload"]["model"] == LLM and chat["payload"]["temperature"] == 0.7
    assert "comma-separated" in chat["payload"]["messages"][0]["content"]


def test_flux_gets_a_plain_description(make_enhancer, sandbox):
    prompt = make_enhancer().enhance(request(family="flux"))
    assert prompt.endswith(".") and "(" not in prompt
    assert "under 50 words" in sandbox.chats[0]["payload"]["messages"][0]["content"]


def test_the_sdks_base_without_v1_reaches_the_other_path(make_enhancer, sandbox):
    make_enhancer(base=sandbox.url).enhance(request())
    assert sandbox.chats[0]["path"] == "/chat/completions"


def test_levels_reach_the_request_and_3_adds_nothing(make_enhancer, sandbox):
    make_enhancer().enhance(request(stylization=1, detail=5, color=3, lighting=4))
    user = sandbox.chats[0]["payload"]["messages"][1]["content"]
    assert "photorealistic" in user and "hyper-detailed" in user and "dramatic" in user
    assert "Color" not in user


def test_must_include_is_asked_for_and_kept_verbatim(make_enhancer, sandbox):
    sandbox.add_fault("shape", body=completion_body("a fox, snow, winter light"))
    prompt = make_enhancer().enhance(request(must_include="wearing a RED scarf"))
    assert prompt.startswith("wearing a RED scarf, ")
    assert "wearing a RED scarf" in sandbox.chats[0]["payload"]["messages"][1]["content"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ('"a fox, snow"', "a fox, snow"),
        ('{"prompt": "a fox, snow"}', "a fox, snow"),
        ("```\na fox, snow\n```", "a fox, snow"),
        ("Prompt: a fox;\x07 snow", "a fox, snow"),
        ("(fox:1.9), (snow:1.1), sunset", "(fox:1.4), (snow:1.1), sunset"),
    ],
)
def test_answers_are_cleaned(answer, expected):
    assert clean_answer(answer, request()) == expected


def test_flux_answers_keep_semicolons_and_get_must_include_as_a_sentence():
    flux = request(family="flux", must_include="a red scarf")
    assert clean_answer("A fox; in snow.", flux) == "a red scarf. A fox; in snow."


@pytest.mark.parametrize("answer", ["", "   ", '""', "{}", None, "```\n```"])
def test_empty_answers_are_a_clear_error(answer):
    with pytest.raises(UnexpectedResponseError, match="empty or unreadable"):
        clean_answer(answer, request())


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        ({"status": 401, "body": "bad key LLM-SECRET-KEY"}, AuthenticationError, "(401)"),
        ({"status": 402}, InsufficientCreditsError, "(402)"),
        ({"status": 500}, ServerError, "(500)"),
    ],
)
def test_error_statuses_map_to_the_error_tree_without_retry(
    make_enhancer, sandbox, fault, error, words
):
    sandbox.add_fault("status", **fault)
    with pytest.raises(error) as raised:
        make_enhancer().enhance(request())
    assert words in str(raised.value) and "Enhancing the prompt failed" in str(raised.value)
    assert "LLM-SECRET-KEY" not in str(raised.value)
    assert len(sandbox.chats) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_busy_answers_are_retried(make_enhancer, sandbox, status):
    sandbox.add_fault("status", status=status, retry_after=0)
    assert make_enhancer().enhance(request())
    assert [chat["status"] for chat in sandbox.chats] == [status, 200]


def test_the_no_credits_key_is_a_402(make_enhancer, sandbox):
    with pytest.raises(InsufficientCreditsError):
        make_enhancer().enhance(request(), api_key="no-credits")


def test_a_slow_answer_times_out_and_is_not_resent(make_enhancer, sandbox):
    sandbox.add_fault("delay", seconds=1.5)
    with pytest.raises(APITimeoutError, match="did not answer in time"):
        make_enhancer(timeout=0.5).enhance(request())
    assert len(sandbox.chats) <= 1  # the slow one may not be recorded yet; nothing resent


def test_a_dropped_answer_is_not_resent(make_enhancer, sandbox):
    sandbox.add_fault("drop")
    with pytest.raises(APIConnectionError):
        make_enhancer().enhance(request())
    assert len(sandbox.chats) == 1


def test_a_refused_connection_says_could_not_reach(make_enhancer, closed_port):
    with pytest.raises(APIConnectionError, match="Could not reach Heurist's LLM gateway"):
        make_enhancer(base=f"http://127.0.0.1:{closed_port}/v1").enhance(request())


@pytest.mark.parametrize("body", ["not json at all", "{}", '{"choices": []}', "null"])
def test_garbled_answers_are_a_clear_error(make_enhancer, sandbox, body):
    sandbox.add_fault("shape", body=body)
    with pytest.raises(UnexpectedResponseError):
        make_enhancer().enhance(request())


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"description": "  "}, "Describe the image"),
        ({"stylization": 0}, "stylization level"),
        ({"detail": 6}, "detail level"),
        ({"color": 2.5}, "color level"),
        ({"must_include": "x" * 201}, "too long"),
    ],
)
def test_bad_requests_fail_before_anything_is_sent(arguments, words):
    with pytest.raises(InvalidRequestError, match=words):
        check_request(
            arguments.pop("description", "a fox"), family="sdxl", llm_model=LLM, **arguments
        )


def test_an_unknown_language_model_names_the_choices():
    with pytest.raises(InvalidRequestError, match="Choose one of: a, b"):
        check_request("a fox", family="sdxl", llm_model="c", llm_models=["a", "b"])


def test_no_key_is_a_clear_error(sandbox):
    settings = load_settings(llm_base_url=f"{sandbox.url}/v1", env_file=None)
    with pytest.raises(Exception, match="HEURIST_API_KEY"):
        PromptEnhancer(settings).enhance(request())
    assert sandbox.chats == []


def test_messages_carry_no_key():
    messages = build_messages(EnhanceRequest("a fox", "sdxl", LLM))
    assert "SECRET" not in json.dumps(messages)


def test_a_trickling_gateway_is_stopped_at_the_deadline(make_enhancer, sandbox):
    # A byte every 0.2 s: the ~400-byte answer would take over a minute, each read well within
    # the 5 s timeout. The deadline ends the exchange instead, and nothing is sent again.
    sandbox.add_fault("trickle", seconds=0.2)
    with pytest.raises(APITimeoutError, match="did not answer in time"):
        make_enhancer(timeout=5, deadline=1).enhance(request())
    assert len(sandbox.chats) == 1


def test_an_answer_within_the_deadline_is_not_cut(make_enhancer, sandbox):
    sandbox.add_fault("trickle", seconds=0)  # byte by byte, at once
    assert "fox" in make_enhancer(deadline=30).enhance(request())


@pytest.mark.parametrize("key", [SECRET_KEY, "u7#LLM-SECRET-KEY", "abcde#XY"])
def test_an_echoing_gateway_hands_back_no_key_nor_user_id(make_enhancer, sandbox, key):
    sandbox.add_fault("echo")
    prompt = make_enhancer().enhance(request(), api_key=key)
    assert "Authorization" in prompt and "[redacted]" in prompt  # it did echo
    for piece in (key, *key.split("#")):
        assert not re.search(rf"(?<![A-Za-z0-9]){re.escape(piece)}(?![A-Za-z0-9])", prompt)


def test_a_short_user_id_in_an_error_body_is_not_shown(make_enhancer, sandbox):
    sandbox.add_fault("status", status=500, body="user u7 (key u7#XY) has no quota")
    with pytest.raises(ServerError) as raised:
        make_enhancer().enhance(request(), api_key="u7#XY")
    message = str(raised.value)
    assert "(500)" in message and "has no quota" in message
    assert "u7" not in message and "XY" not in message


@pytest.mark.parametrize(
    ("answer", "language", "prompt"),
    [
        ("[from French] a fox, snow", "French", "a fox, snow"),
        ("[From Japanese]a fox in the snow", "Japanese", "a fox in the snow"),
        ("[from English] a fox, snow", None, "a fox, snow"),
        ("a fox, snow", None, "a fox, snow"),
    ],
)
def test_a_translated_description_is_said_and_its_marker_taken_off(answer, language, prompt):
    from heurist_ui.enhance import split_translation

    assert split_translation(answer)[0] == language
    assert clean_answer(answer, request()) == prompt


def test_the_instructions_ask_for_an_english_prompt_whatever_the_language():
    for family in ("sdxl", "flux"):
        system = build_messages(request(family=family))[0]["content"]
        assert "Always write the prompt in English" in system and "[from <language>]" in system


@pytest.mark.parametrize(
    ("description", "language", "english"),
    [
        ("un faro al atardecer", "Spanish", "a lighthouse at the dusk"),
        ("一座灯塔在黄昏", "Chinese", "a lighthouse in dusk"),
        ("a fox in the snow", None, "a fox in the snow"),
    ],
)
def test_the_sandbox_answers_another_language_in_english_with_the_mark(
    make_enhancer, sandbox, description, language, english
):
    for family in ("sdxl", "flux"):
        prompt, found = make_enhancer().enhance_noted(request(description, family=family))
        assert found == language and english in prompt
        assert "[from" not in prompt and not re.search(r"[\u4e00-\u9fff]", prompt)
    asked = [chat["payload"]["messages"][1]["content"] for chat in sandbox.chats]
    assert len(asked) == 2 and all(description in text for text in asked)  # the original went
