"""Faults injected through the sandbox, driven through the launched app's /generate.

Every fault ends in an image or in an error whose words say what happened; the app serves a
normal request right after; and the form is never touched (generate outputs only the gallery
and the records, and on failure raises without yielding anything else).
"""

from __future__ import annotations

import asyncio
import types

import gradio as gr
import pytest
import requests
from test_reliability_support import (
    GENERIC_ERROR_WORDS,
    assert_still_serves,
    call_generate,
    fast_retries,
    generate_data,
)
from ui_helpers import free_port, running_studio
from waiting import wait_until

from heurist_ui.sandbox import Sandbox
from heurist_ui.ui.generate import generate_images

KEY = "fault-user#fault-key"


@pytest.fixture(scope="module")
def app(sandbox_server, tmp_path_factory):
    """The app over the session's sandbox, with a server key."""
    with running_studio(sandbox_server, tmp_path_factory.mktemp("faults"), api_key=KEY) as app:
        fast_retries(app.studio.client)
        yield app


@pytest.fixture
def short_read_timeout(app):
    """The app's client gives up on an answer after 1 s (the default is 90 s)."""
    saved = app.studio.client.timeout
    app.studio.client.timeout = (2.0, 1.0)
    yield 1.0
    app.studio.client.timeout = saved


def statuses(sandbox: Sandbox) -> list[int]:
    return [sub.status for sub in sandbox.submissions]


# ---- the form is never an output ------------------------------------------------------------


def test_generate_outputs_only_the_gallery_and_the_records(app):
    info = requests.get(f"{app.url}gradio_api/info", timeout=10).json()
    returns = info["named_endpoints"]["/generate"]["returns"]
    assert [item["component"] for item in returns] == ["Gallery", "Json"]

    config = app.demo.config
    components = {c["id"]: c for c in config["components"]}
    (dependency,) = [d for d in config["dependencies"] if d.get("api_name") == "generate"]
    inputs = set(dependency["inputs"])
    outputs = set(dependency["outputs"])
    assert not inputs & outputs, "a form field is also an output of generate"
    assert sorted(components[i]["type"] for i in outputs) == ["gallery", "json"]


FAILING_FAULTS = [
    ("status", {"status": 500}, ["failed on its side", "(500)"]),
    ("status", {"status": 503}, ["failed on its side", "(503)"]),  # queued 4 times below
    ("status", {"status": 401, "body": "bad key"}, ["key was rejected", "(401)"]),
    ("status", {"status": 402}, ["no credits", "(402)"]),
    ("status", {"status": 429}, ["rate limiting", "(429)"]),  # queued 4 times below
    ("status", {"status": 400, "body": "width"}, ["refused the request", "(400)"]),
    ("shape", {"body": ""}, ["answered something unexpected", "empty answer"]),
    ("shape", {"body": "null"}, ["answered something unexpected"]),
    ("shape", {"body": "{}"}, ["answered something unexpected"]),
    ("shape", {"body": '{"image_url": 42}'}, ["answered something unexpected"]),
    ("shape", {"body": "not json, not a url"}, ["answered something unexpected"]),
    (
        "shape",
        {"body": "<html><h1>502 Bad Gateway</h1></html>", "content_type": "text/html"},
        ["answered something unexpected"],
    ),
    ("shape", {"body": '"ftp://example.com/x.png"'}, ["answered something unexpected"]),
    ("image", {"mode": "missing"}, ["could not be downloaded (404)", "expired"]),
    ("image", {"mode": "html"}, ["web page instead of an image"]),
    ("image", {"mode": "huge"}, ["too large"]),
    ("image", {"mode": "not_image"}, ["not a PNG, JPEG or WebP image"]),
    ("image", {"mode": "redirect"}, ["redirected", "not allowed", "link-local"]),
    (
        "image",
        {"mode": "redirect", "location": "http://10.1.2.3/x.png"},
        ["redirected", "not allowed", "private"],
    ),
    (
        "image",
        {"mode": "redirect", "location": "http://localhost:9/x.png"},
        ["redirected", "not allowed", "loopback"],
    ),
    (
        "image",
        {"mode": "redirect", "location": "file:///etc/passwd"},
        ["redirected", "not allowed", "http"],
    ),
    (
        "image_url",
        {"url": "http://169.254.169.254/latest/meta-data/"},
        ["not allowed", "link-local"],
    ),
    ("image_url", {"url": "http://192.168.1.1/x.png"}, ["not allowed", "private"]),
    ("image_url", {"url": "file:///etc/passwd"}, ["answered something unexpected"]),
    ("image_url", {"url": "/etc/passwd"}, ["answered something unexpected"]),
    ("image_url", {"url": "images/x.png"}, ["answered something unexpected"]),
]
RETRIED = {503: 4, 429: 4}  # urllib3 retries these: the last of 1 + 3 attempts is reported


@pytest.mark.parametrize(
    ("kind", "options", "words"),
    FAILING_FAULTS,
    ids=[f"{k}-{'-'.join(map(str, o.values())) or k}"[:60] for k, o, _ in FAILING_FAULTS],
)
def test_a_fault_ends_in_a_clear_error_and_the_app_recovers(app, sandbox, kind, options, words):
    times = RETRIED.get(options.get("status"), 1)
    sandbox.add_fault(kind, times, **options)

    outcome = call_generate(app.url, generate_data())

    assert not outcome.ok and outcome.clear_error, outcome.message
    for word in words:
        assert word in outcome.message
    assert KEY not in outcome.message and "fault-key" not in outcome.message
    assert len(sandbox.submissions) == times, "retried a job the API may already have run"
    assert_still_serves(app.url, sandbox)


RECOVERED_FAULTS = [
    ("status", {"status": 503}, 1),
    ("status", {"status": 502}, 1),
    ("status", {"status": 504}, 1),
    ("status", {"status": 503}, 2),
    ("shape", {"shape": "bare"}, 1),
    ("shape", {"shape": "object"}, 1),
    ("shape", {"shape": "quoted", "content_type": "text/plain"}, 1),
]


@pytest.mark.parametrize(
    ("kind", "options", "times"),
    RECOVERED_FAULTS,
    ids=[f"{k}-{'-'.join(map(str, o.values()))}-x{t}" for k, o, t in RECOVERED_FAULTS],
)
def test_a_transient_fault_or_odd_answer_still_ends_in_an_image(app, sandbox, kind, options, times):
    sandbox.add_fault(kind, times, **options)

    outcome = call_generate(app.url, generate_data())

    assert outcome.ok, outcome.message
    assert len(outcome.gallery) == len(outcome.records) == 1
    subs = sandbox.submissions
    assert len(subs) == (times + 1 if kind == "status" else 1)
    # The retry is the same job, not a new one: one job id, answered once with an image.
    assert {sub.job_id for sub in subs} == {outcome.records[0]["job_id"]}
    assert [sub.image_url is not None for sub in subs] == [False] * (len(subs) - 1) + [True]


def test_429_with_retry_after_is_waited_out_and_submitted_twice(app, sandbox):
    sandbox.add_fault("status", status=429, retry_after=1, body="slow down")

    outcome = call_generate(app.url, generate_data())

    assert outcome.ok and len(outcome.records) == 1
    assert statuses(sandbox) == [429, 200]
    first, second = sandbox.submissions
    assert first.job_id == second.job_id == outcome.records[0]["job_id"]


def test_an_answer_slower_than_the_timeout_fails_clearly_and_is_not_resent(
    app, sandbox, short_read_timeout
):
    sandbox.add_fault("delay", seconds=short_read_timeout + 0.5)

    outcome = call_generate(app.url, generate_data())

    assert outcome.clear_error, outcome.message
    assert "did not answer within 1 s" in outcome.message
    assert "not sent again" in outcome.message
    # The sandbox records the slow job when it finally answers, after the app gave up on it.
    wait_until(lambda: sandbox.submissions, "the slow job's record")
    assert len(sandbox.submissions) == 1
    assert_still_serves(app.url, sandbox)


def test_a_dropped_answer_is_not_resent(app, sandbox):
    sandbox.add_fault("drop")

    outcome = call_generate(app.url, generate_data())

    assert outcome.clear_error and "connection" in outcome.message
    assert statuses(sandbox) == [0]
    assert_still_serves(app.url, sandbox)


def test_a_dropped_answer_says_the_job_may_have_run(app, sandbox):
    sandbox.add_fault("drop")

    outcome = call_generate(app.url, generate_data())

    assert outcome.clear_error
    assert "Could not reach" not in outcome.message
    assert "may still have run" in outcome.message or "may have run" in outcome.message


def test_connection_refused_says_could_not_reach_and_recovers_when_the_api_returns(
    sandbox, tmp_path
):
    port = free_port()
    dead = types.SimpleNamespace(
        url=f"http://127.0.0.1:{port}",
        models_url=sandbox.models_url,
        llm_base_url=f"http://127.0.0.1:{port}/v1",
    )
    with running_studio(dead, tmp_path, api_key=KEY) as app:
        fast_retries(app.studio.client)
        outcome = call_generate(app.url, generate_data())

        assert outcome.clear_error, outcome.message
        assert "Could not reach" in outcome.message and "refused" in outcome.message
        assert f"127.0.0.1:{port}" in outcome.message
        assert KEY not in outcome.message
        assert requests.get(app.url, timeout=10).status_code == 200

        with Sandbox(port=port) as revived:
            assert_still_serves(app.url, revived)


def test_a_partial_failure_returns_the_images_that_succeeded(app, sandbox):
    sandbox.add_fault("status", status=500)

    outcome = call_generate(app.url, generate_data(num_images=3))

    assert outcome.ok
    assert len(outcome.gallery) == len(outcome.records) == 2
    assert sorted(statuses(sandbox)) == [200, 200, 500]


# ---- handler level: failures raise gr.Error, never yield anything but gallery + records -----


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("status", {"status": 500}),
        ("drop", {}),
        ("shape", {"body": "{}"}),
        ("image", {"mode": "html"}),
        ("image_url", {"url": "file:///etc/passwd"}),
    ],
)
def test_the_generate_handler_raises_gr_error_and_yields_only_gallery_and_records(
    app, sandbox, kind, options
):
    sandbox.add_fault(kind, **options)
    yielded = []

    async def consume() -> None:
        async for step in generate_images(app.studio, *generate_data()):
            yielded.append(step)

    with pytest.raises(gr.Error) as raised:
        asyncio.run(consume())

    assert raised.value.message and GENERIC_ERROR_WORDS not in raised.value.message
    for step in yielded:
        gallery, records = step  # exactly two outputs, neither a form update
        assert isinstance(gallery, list) and isinstance(records, list)
        assert gallery == [] and records == []
