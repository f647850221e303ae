"""The per-visitor rate limit: token buckets in isolation, its settings, and the running studio."""

from __future__ import annotations

import math
import re

import pytest
from gradio_client.exceptions import AppError
from test_reliability_support import call_generate, generate_data
from ui_helpers import api_client, running_studio

from heurist_ui.config import SHARED_RATE_LIMIT, load_settings
from heurist_ui.ratelimit import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_visitor_gets_a_burst_then_waits_for_the_bucket_to_refill():
    clock = Clock()
    limit = RateLimit(6, clock=clock)  # one image every 10 s

    assert limit.take(["address:a"], 4) == 0
    assert limit.take(["address:a"], 2) == 0
    assert limit.take(["address:a"], 1) == 10  # empty: one image needs 10 s
    clock.now += 10
    assert limit.take(["address:a"], 1) == 0
    assert limit.take(["address:a"], 3) == 30


def test_a_refused_batch_takes_nothing_and_others_are_not_affected():
    clock = Clock()
    limit = RateLimit(4, clock=clock)
    assert limit.take(["address:a", "session:1"], 3) == 0

    assert limit.take(["address:a", "session:2"], 2) > 0  # the address is spent
    assert limit.take(["address:b", "session:1"], 2) > 0  # and so is the session
    assert limit.take(["address:a", "session:2"], 1) == 0  # the refusal took nothing
    assert limit.take(["address:b", "session:3"], 4) == 0  # a new visitor has a full bucket


def test_a_request_larger_than_a_full_bucket_never_runs_and_takes_nothing():
    clock = Clock()
    limit = RateLimit(4, clock=clock)

    assert limit.take(["address:a"], 8) == math.inf  # no wait would ever be enough
    assert limit.take(["address:a"], 4) == 0  # the refusal took nothing
    assert limit.take(["address:a"], 4) == 60


def test_the_message_says_what_the_request_needs_how_long_and_how_to_avoid_it():
    message = RateLimit(30).message(12, 6)

    assert message.startswith("Slow down") and "Try again in 12 s" in message
    assert "needs 6 jobs" in message and "30 jobs a minute" in message
    assert "your own Heurist key" in message
    never = RateLimit(5).message(math.inf, 64)
    assert never.startswith("Too large") and "needs 64 jobs" in never
    assert "Try again" not in never and "Lower Images" in never


def test_the_limit_is_off_locally_and_on_when_shared_or_on_a_space(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert load_settings(env_file=None).rate_limit is None
    assert load_settings(env_file=None, shared=True).rate_limit == SHARED_RATE_LIMIT
    monkeypatch.setenv("SPACE_ID", "someone/heurist-studio")
    assert load_settings(env_file=None).rate_limit == SHARED_RATE_LIMIT
    monkeypatch.setenv("HEURIST_RATE_LIMIT", "0")
    assert load_settings(env_file=None).rate_limit is None
    assert load_settings(env_file=None, rate_limit="12").rate_limit == 12


@pytest.mark.parametrize("value", ["fast", "-3", "1.5"])
def test_a_bad_rate_limit_setting_is_named(monkeypatch, value):
    monkeypatch.setenv("HEURIST_RATE_LIMIT", value)

    with pytest.raises(ValueError, match="HEURIST_RATE_LIMIT"):
        load_settings(env_file=None)


def test_a_visitor_past_the_limit_is_told_to_slow_down_and_nothing_is_sent(sandbox, tmp_path):
    with running_studio(sandbox, tmp_path, api_key="server#key", rate_limit=3) as app:
        first = call_generate(app.url, generate_data(num_images=2, api_key=""))
        sent = len(sandbox.submissions)
        refused = call_generate(app.url, generate_data(num_images=2, api_key=""))
        own_key = call_generate(app.url, generate_data(num_images=2, api_key="visitor#key"))

    assert first.ok and len(first.records) == 2
    assert refused.clear_error and refused.message.startswith("Slow down")
    # One image was left and one more comes every 20 s (less the moments since the first call).
    assert re.search(r"Try again in (1\d|20) s", refused.message), refused.message
    assert own_key.ok  # a visitor paying with their own key is not limited
    assert sent == 2 and len(sandbox.submissions) == 4


def test_an_enhancement_on_the_server_key_counts_against_the_limit(sandbox, tmp_path):
    with running_studio(sandbox, tmp_path, api_key="server#key", rate_limit=2) as app:
        client = api_client(app.url)
        args = ("a fox", "SDXL", "", 3, 3, 3, 3, "", "")
        first = client.predict(*args, api_name="/enhance_prompt")
        second = client.predict(*args, api_name="/enhance_prompt")
        with pytest.raises(AppError, match="Slow down"):
            client.predict(*args, api_name="/enhance_prompt")

    assert first.strip() and second.strip()
    assert len(sandbox.chats) == 2  # the refused one never reached the LLM gateway
