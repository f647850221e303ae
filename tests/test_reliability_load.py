"""Load: 200 jobs from 20 concurrent clients with 10% transient failures, and a crowd at once.

Every call must come back to its own caller with an image or an error; every job the API ran
must be an image some caller got; no job may be lost or counted twice.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from test_reliability_support import (
    Outcome,
    call_generate,
    gallery_paths,
    generate_data,
)
from ui_helpers import free_port, running_studio
from waiting import wait_until

from bench.run import Plan
from heurist_ui.sandbox import Sandbox

CLIENTS = 20
CALLS_PER_CLIENT = 10
FAIL_RATE = 0.1
KEY = "load-user#load-key"

pytestmark = pytest.mark.load  # slow: `pytest -m "not load"` skips them; the default run keeps them


@pytest.fixture(scope="module")
def flaky_sandbox():
    with Sandbox(port=0, latency=0, fail_rate=FAIL_RATE, rng_seed=20240601) as server:
        yield server


@pytest.fixture(scope="module")
def app(flaky_sandbox, tmp_path_factory):
    """The app exactly as build_app makes it: its real retry policy, back-off included."""
    with running_studio(flaky_sandbox, tmp_path_factory.mktemp("load"), api_key=KEY) as app:
        yield app


def run_client(url: str, client: int) -> list[tuple[str, Outcome]]:
    """One user: CALLS_PER_CLIENT calls in a row, each with its own prompt."""
    with requests.Session() as session:
        results = []
        for call in range(CALLS_PER_CLIENT):
            prompt = f"load test client {client} call {call}"
            data = generate_data(prompt=prompt, width=64, height=64, num_images=1)
            results.append((prompt, call_generate(url, data, session=session)))
        return results


def test_200_jobs_from_20_clients_are_all_accounted_for(app, flaky_sandbox):
    flaky_sandbox.reset()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        runs = list(pool.map(lambda n: run_client(app.url, n), range(CLIENTS)))
    calls = [result for run in runs for result in run]

    # Every call came back to its caller: an image with the caller's own prompt, or an error.
    assert len(calls) == CLIENTS * CALLS_PER_CLIENT
    images = [outcome for _, outcome in calls if outcome.ok]
    errors = [outcome for _, outcome in calls if not outcome.ok]
    for prompt, outcome in calls:
        if outcome.ok:
            assert len(outcome.gallery) == len(outcome.records) == 1
            assert outcome.records[0]["prompt"] == prompt
            assert all(path.is_file() for path in gallery_paths(outcome))
        else:
            assert outcome.clear_error and "(503)" in outcome.message, outcome.message

    # None duplicated: one record per job id, one saved file per record.
    job_ids = [outcome.records[0]["job_id"] for outcome in images]
    assert len(set(job_ids)) == len(job_ids)
    saved = list(app.settings.output_dir.rglob("*.png"))
    assert len(saved) == len(images)

    # None lost: the jobs the API answered with an image are exactly the images returned.
    submissions = flaky_sandbox.submissions
    answered = [sub.job_id for sub in submissions if sub.image_url is not None]
    assert Counter(answered) == Counter(job_ids)

    # Failures: the client retried each 503 with the same job id; a job whose every attempt
    # failed is exactly one call that errored.
    attempts: dict[str, list[int]] = defaultdict(list)
    for sub in submissions:
        attempts[sub.job_id].append(sub.status)
    assert len(attempts) == len(calls), "a call reached the API as more or fewer than one job"
    assert set(Counter(s.status for s in submissions)) <= {200, 503}
    failed_jobs = [job for job, codes in attempts.items() if 200 not in codes]
    assert len(failed_jobs) == len(errors)
    assert all(codes == [503] * 4 for job, codes in attempts.items() if job in failed_jobs)
    assert all(codes.count(200) == 1 for job, codes in attempts.items() if 200 in codes)

    # The injected failures were real, and the retries turned most of them into images.
    transient = sum(codes.count(503) for codes in attempts.values())
    assert transient > 0
    assert len(errors) < transient
    assert len(images) >= 0.95 * len(calls)


# The crowd of `python -m bench --quick`; the full bench sends 1000 callers at once (its
# "crowd 1000: lost" row, bench/crowds.py), which took 23 s of the suite's two cores here.
CROWD = Plan.for_run(quick=True).huge_crowd
REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def serving(argv: list[str], env: dict[str, str], url: str, ready_path: str = "/"):
    """A subprocess of this repository, until it stops; waits for url + ready_path first."""
    process = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: _serving(url + ready_path), f"{argv} to start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def app_process(tmp_path):
    """`python app.py` and the sandbox, each a process of its own: the test's callers, the
    app and the API share the two cores as they would the machines of a real deployment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEURIST_", "GRADIO_"))}
    env.update(GRADIO_ANALYTICS_ENABLED="False", NO_PROXY="*", GRADIO_TEMP_DIR=str(tmp_path))
    api_port, app_port = free_port(), free_port()
    api = [sys.executable, "-m", "heurist_ui.sandbox", "--port", str(api_port)]
    api += ["--latency", "0.5"]
    app = [sys.executable, "app.py", "--port", str(app_port), "--env-file", str(tmp_path / "x")]
    with serving(api, env, f"http://127.0.0.1:{api_port}", "/models.json") as api_url:
        env.update(
            HEURIST_BASE_URL=api_url,
            HEURIST_MODELS_URL=f"{api_url}/models.json",
            HEURIST_API_KEY=KEY,
            HEURIST_OUTPUT_DIR=str(tmp_path / "out"),
            HEURIST_CACHE_DIR=str(tmp_path / "cache"),
        )
        with serving(app, env, f"http://127.0.0.1:{app_port}") as app_url:
            yield app_url, api_url


def _serving(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.timeout(300)
def test_a_crowd_of_callers_at_once_each_get_their_image_or_a_clear_message(app_process):
    url, api_url = app_process
    barrier = threading.Barrier(CROWD, timeout=60)

    def one_caller(number: int) -> tuple[str, Outcome]:
        prompt = f"crowd caller {number}"
        data = generate_data(prompt=prompt, width=64, height=64, num_images=1, api_key="")
        with requests.Session() as session:
            session.trust_env = False
            barrier.wait()
            return prompt, call_generate(url, data, session=session)

    with ThreadPoolExecutor(max_workers=CROWD) as pool:
        calls = list(pool.map(one_caller, range(CROWD)))

    # Nobody hung (call_generate fails a stream that never ends) and nobody was lost: each
    # caller got its own image, or a message that says what happened.
    assert len(calls) == CROWD
    for prompt, outcome in calls:
        if outcome.ok:
            assert [record["prompt"] for record in outcome.records] == [prompt]
        else:
            assert outcome.clear_error, outcome.raw[:500]
    images = [outcome.records[0]["job_id"] for _, outcome in calls if outcome.ok]
    submissions = requests.get(f"{api_url}/_sandbox/submissions", timeout=30).json()
    answered = [sub["job_id"] for sub in submissions if sub["image_url"] is not None]
    assert Counter(images) == Counter(answered)  # every job the API ran reached its caller
    assert len(images) == CROWD  # with no fault injected, nobody was turned away


def test_batches_hung_at_the_api_do_not_hold_up_the_next_image(sandbox, tmp_path):
    # 32 visitors' batches of 8 wait on an API that hangs (pressing Stop frees their page, but
    # jobs already sent must wait for their answer): the next image still has a worker.
    hung_jobs = 32 * 8
    data = generate_data(num_images=8, width=64, height=64, api_key="")
    with (
        running_studio(sandbox, tmp_path, api_key=KEY) as app,
        ThreadPoolExecutor(max_workers=32) as pool,
        sandbox.hold(limit=hung_jobs) as gate,  # the next job passes at once
    ):
        hung = [pool.submit(call_generate, app.url, data) for _ in range(32)]
        gate.wait_for(hung_jobs)

        single = call_generate(app.url, generate_data(width=64, height=64, api_key=""))

        assert single.ok and len(single.records) == 1
        assert gate.held == hung_jobs  # it came back while every hung job still waited
        assert not any(call.done() for call in hung)
        gate.release()
        assert all(call.result(timeout=60).ok for call in hung)  # and they end well
