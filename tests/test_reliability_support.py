"""Shared helpers of the reliability suite (this module holds no tests).

The app is driven the way a load test or a script drives it: plain HTTP against Gradio's REST API
(`POST /gradio_api/call/generate`, then the event's server-sent events until it completes or
fails). Inputs are sent as raw JSON, so NaN and huge numbers reach the app exactly as a hostile
caller could send them.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from ui_helpers import PARAMETERS, generate_arguments

from heurist_ui.catalog import ModelCatalog
from heurist_ui.client import HeuristClient
from heurist_ui.params import MAX_GUIDANCE, MAX_SEED, MAX_STEPS, MIN_GUIDANCE, MIN_SIZE, MIN_STEPS
from heurist_ui.sandbox import Sandbox, check_payload

NORMAL = generate_arguments(width=256, height=256)
# What Gradio says instead of the real message when a handler fails unexpectedly.
GENERIC_ERROR_WORDS = "has raised an exception"
SSE_TIMEOUT = 60  # seconds; far above any call here, only there so a hang fails instead


@dataclass
class Outcome:
    """How one /generate call ended: its outputs, or the error message shown to the user."""

    ok: bool
    gallery: list[dict[str, Any]]
    records: list[dict[str, Any]]
    message: str | None = None  # None on success, and also for Gradio's generic error
    raw: str = ""  # every byte of the event stream, as received

    @property
    def clear_error(self) -> bool:
        """An error that tells the user something (not Gradio's generic non-message)."""
        return (
            not self.ok
            and isinstance(self.message, str)
            and len(self.message.strip()) > 10
            and GENERIC_ERROR_WORDS not in self.message
        )


def generate_data(**overrides: Any) -> list[Any]:
    """The /generate inputs in the endpoint's order: NORMAL with overrides."""
    unknown = set(overrides) - set(PARAMETERS)
    assert not unknown, f"no such /generate parameter: {unknown}"
    values = {**NORMAL, **overrides}
    return [values[name] for name in PARAMETERS]


def call_generate(url: str, data: list[Any], *, session: requests.Session | None = None) -> Outcome:
    """One /generate call over REST + SSE, however it ends."""
    http = session or requests
    body = json.dumps({"data": data}, allow_nan=True)  # NaN/inf on purpose: callers may send them
    posted = http.post(
        f"{url.rstrip('/')}/gradio_api/call/generate",
        data=body.encode("utf-8"),
        # Closed after its answer: a caller slowed down on a busy machine would otherwise send
        # the GET below on a kept-alive connection the server (idle for 5 s) has just closed.
        headers={"Content-Type": "application/json", "Connection": "close"},
        timeout=SSE_TIMEOUT,
    )
    if posted.status_code != 200:  # refused before queueing: that is an error shown as such
        message = f"HTTP {posted.status_code}: {posted.text[:300]}"
        return Outcome(False, [], [], message, raw=posted.text)
    event_id = posted.json()["event_id"]
    with http.get(
        f"{url.rstrip('/')}/gradio_api/call/generate/{event_id}",
        stream=True,
        timeout=SSE_TIMEOUT,
    ) as stream:
        stream.raise_for_status()
        event, lines, received = None, [], [posted.text]
        for line in stream.iter_lines(decode_unicode=True):
            received.append(line)
            if line.startswith("event:"):
                event, lines = line[len("event:") :].strip(), []
            elif line.startswith("data:"):
                lines.append(line[len("data:") :].strip())
            elif line == "" and event in ("complete", "error"):
                data = json.loads("\n".join(lines)) if lines else None
                raw = "\n".join(received)
                if event == "complete":
                    gallery, records = data
                    return Outcome(True, gallery or [], records or [], raw=raw)
                message = data.get("error") if isinstance(data, dict) else None
                return Outcome(False, [], [], message, raw=raw)
    raise AssertionError(f"/generate event {event_id} ended without completing or failing")


def fast_retries(client: HeuristClient) -> None:
    """The same retry policy as the app's, without the back-off sleeps (tests stay fast)."""
    for adapter in client.session.adapters.values():
        adapter.max_retries = adapter.max_retries.new(backoff_factor=0)


def gallery_paths(outcome: Outcome) -> list[Path]:
    """The server-side files of a gallery output."""
    return [Path(item["image"]["path"]) for item in outcome.gallery]


def assert_still_serves(url: str, sandbox: Sandbox) -> None:
    """A normal generate right after a fault ends in one image (the app recovered)."""
    sandbox.clear_faults()
    outcome = call_generate(url, generate_data(prompt="a normal call after a fault"))
    assert outcome.ok, f"the app no longer generates after a fault: {outcome.message!r}"
    assert len(outcome.gallery) == len(outcome.records) == 1


def _bad_text(text: Any, name: str) -> list[str]:
    if not isinstance(text, str):
        return [f"{name} is not text"]
    problems = []
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n" for ch in text):
        problems.append(f"{name} carries control characters or lone surrogates")
    if len(text) > 8000:
        problems.append(f"{name} is longer than 8000 characters")
    return problems


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def payload_problems(payload: Any, catalog: ModelCatalog) -> list[str]:
    """Why a submit_job body is not one the real API should ever get ([] if it is fine).

    Stricter than the sandbox's own check: the model's maximum size, multiples of 8, the
    guidance and seed ranges, clean text, and strict JSON (no NaN or infinity).
    """
    reason = check_payload(payload, catalog.names)
    if reason is not None:
        return [reason]
    problems: list[str] = []
    try:
        json.dumps(payload, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, TypeError, UnicodeError) as exc:
        problems.append(f"not strict, encodable JSON: {exc}")
    sd = payload["model_input"]["SD"]
    model = catalog.get(payload["model_id"])
    limits = {"width": model.defaults.max_width, "height": model.defaults.max_height}
    for side, maximum in limits.items():
        value = sd[side]
        if not (_is_int(value) and MIN_SIZE <= value <= maximum and value % 8 == 0):
            problems.append(f"{side} {value!r} is not a multiple of 8 in {MIN_SIZE}..{maximum}")
    steps = sd["num_iterations"]
    if not (_is_int(steps) and MIN_STEPS <= steps <= MAX_STEPS):
        problems.append(f"num_iterations {steps!r} is outside {MIN_STEPS}..{MAX_STEPS}")
    guidance = sd["guidance_scale"]
    if not (
        isinstance(guidance, (int, float))
        and not isinstance(guidance, bool)
        and math.isfinite(guidance)
        and MIN_GUIDANCE <= guidance <= MAX_GUIDANCE
    ):
        problems.append(f"guidance_scale {guidance!r} is outside {MIN_GUIDANCE}..{MAX_GUIDANCE}")
    seed = sd["seed"]
    if not (_is_int(seed) and 0 <= seed <= MAX_SEED):  # -1 is resolved before sending
        problems.append(f"seed {seed!r} is not a concrete seed in 0..{MAX_SEED}")
    problems += _bad_text(sd["prompt"], "prompt")
    if not sd["prompt"].strip():
        problems.append("prompt is empty")
    problems += _bad_text(sd["neg_prompt"], "neg_prompt")
    if not _is_int(payload["priority"]) or payload["deadline"] <= 0:
        problems.append("deadline or priority is invalid")
    return problems
