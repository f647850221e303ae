"""Load: 200 jobs from 20 concurrent clients, with 10% transient failures injected.

Every call must come back to its own caller with an image or an error; every job the API ran
must be an image some caller got; no job may be lost or counted twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from test_reliability_support import (
    Outcome,
    call_generate,
    gallery_paths,
    generate_data,
)
from ui_helpers import running_studio

from heurist_ui.sandbox import Sandbox

CLIENTS = 20
CALLS_PER_CLIENT = 10
FAIL_RATE = 0.1
KEY = "load-user#load-key"


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
