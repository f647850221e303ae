"""batch: jobs prepared together, run in parallel over the sandbox, each outcome as it ends."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest
from PIL import Image

from heurist_ui.batch import (
    MAX_IMAGES,
    JobRunner,
    check_count,
    failed_jobs,
    prepare_batch,
    summarize_failures,
)
from heurist_ui.errors import InvalidRequestError
from heurist_ui.params import MAX_SEED
from heurist_ui.pngfile import read_png_metadata


@pytest.fixture
def runner(client, tmp_path):
    runner = JobRunner(client, tmp_path / "out", max_workers=8)
    yield runner
    runner.close()


def test_prepare_batch_gives_consecutive_seeds_for_a_fixed_seed(client):
    jobs = prepare_batch(client, 3, "a cat", "SDXL", seed=100)
    assert [job.seed for job in jobs] == [100, 101, 102]


def test_prepare_batch_gives_each_image_its_own_random_seed(client):
    jobs = prepare_batch(client, 4, "a cat", "SDXL", seed=-1)
    assert all(job.seed >= 0 for job in jobs)
    assert len({job.seed for job in jobs}) == 4


@pytest.mark.parametrize("count", [0, 9, 2.5, "many", None])
def test_prepare_batch_refuses_a_bad_count(client, sandbox, count):
    with pytest.raises(InvalidRequestError, match=f"from 1 to {MAX_IMAGES}"):
        prepare_batch(client, count, "a cat", "SDXL")
    assert sandbox.submissions == []


def test_prepare_batch_refuses_seeds_past_the_range(client):
    with pytest.raises(InvalidRequestError, match="seed must be at most"):
        prepare_batch(client, 2, "a cat", "SDXL", seed=MAX_SEED)


def test_check_count_accepts_whole_numbers_in_range():
    assert check_count(3) == 3
    assert check_count("8") == 8
    assert check_count(2.0) == 2


def test_run_yields_every_image_with_its_record_saved_alike(client, runner, sandbox):
    jobs = prepare_batch(client, 3, "a lighthouse", "SDXL", width=512, height=512)
    outcomes = list(runner.run(jobs, None))
    assert sorted(outcome.index for outcome in outcomes) == [0, 1, 2]
    assert all(outcome.error is None for outcome in outcomes)
    for outcome in outcomes:
        _, embedded = read_png_metadata(outcome.image.path)
        # One figure for the time, in the page (the record) and in the file.
        assert embedded["elapsed_s"] == outcome.image.record["elapsed_s"]
        assert embedded["seed"] == outcome.params.seed == outcome.image.record["seed"]
    assert len(sandbox.submissions) == 3


@pytest.mark.parametrize(
    ("image_format", "suffix", "pillow_format"),
    [("png", ".png", "PNG"), ("jpeg", ".jpg", "JPEG"), ("webp", ".webp", "WEBP")],
)
def test_run_saves_each_answer_in_its_own_format(
    client, runner, sandbox, image_format, suffix, pillow_format
):
    sandbox.image_format = image_format
    jobs = prepare_batch(client, 2, "a lighthouse", "SDXL", width=256, height=192)
    for outcome in runner.run(jobs, None):
        path = outcome.image.path
        assert path.suffix == suffix
        with Image.open(path) as image:
            assert (image.format, image.size) == (pillow_format, (256, 192))
        text, embedded = read_png_metadata(path)
        assert text.startswith("a lighthouse\n")
        assert embedded == outcome.image.record


def test_run_reports_a_failed_job_and_keeps_the_others(client, runner, sandbox):
    sandbox.add_fault("status", status=500)
    jobs = prepare_batch(client, 3, "a lighthouse", "SDXL", width=512, height=512)
    outcomes = list(runner.run(jobs, None))
    failed = [outcome for outcome in outcomes if outcome.error is not None]
    assert len(failed) == 1 and "(500)" in str(failed[0].error)
    assert sum(outcome.image is not None for outcome in outcomes) == 2


def test_run_uses_the_key_it_is_given(client, runner, sandbox):
    jobs = prepare_batch(client, 1, "a cat", "SDXL", width=512, height=512)
    (outcome,) = runner.run(jobs, "no-credits")
    assert "(402)" in str(outcome.error)


def test_closing_the_iterator_drops_the_jobs_not_yet_sent(client, sandbox, tmp_path):
    gate = sandbox.hold()
    gate.release(1)  # the first job goes through; the second is held at the API
    one_at_a_time = JobRunner(client, tmp_path / "out", max_workers=1)
    try:
        jobs = prepare_batch(client, 4, "a cat", "SDXL", width=512, height=512)
        outcomes = one_at_a_time.run(jobs, None)
        assert next(outcomes).index == 0
        gate.wait_for(1)  # the worker has sent the second
        outcomes.close()
        gate.release()
        one_at_a_time.workers.shutdown(wait=True)  # the job in flight finishes; no others
    finally:
        one_at_a_time.close()
    assert len(sandbox.submissions) == 2  # the two sent: never the third and fourth


def test_stream_yields_outcomes_as_they_end_and_cancels_on_close(client, sandbox, tmp_path):
    gate = sandbox.hold()
    gate.release(1)  # the first job goes through; the second is held at the API
    one_at_a_time = JobRunner(client, tmp_path / "out", max_workers=1)
    jobs = prepare_batch(client, 3, "a cat", "SDXL", width=512, height=512)

    async def first_then_stop() -> int:
        stream = one_at_a_time.stream(jobs, None)
        first = await anext(stream)
        await asyncio.to_thread(gate.wait_for, 1)  # the worker has sent the second
        await stream.aclose()
        return first.index

    try:
        assert asyncio.run(first_then_stop()) == 0
        gate.release()
        one_at_a_time.workers.shutdown(wait=True)
    finally:
        one_at_a_time.close()
    assert len(sandbox.submissions) == 2  # never the third


def test_summarize_failures_counts_and_dedupes():
    message = summarize_failures(["A (500).", "A (500).", "B (402)."], 4)
    assert message == "3 of 4 images failed. A (500). B (402)."
    assert summarize_failures(["Only one."], 1) == "Only one."


def failure_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "heurist_ui.batch"]


def test_a_burst_of_identical_failures_is_one_line_and_a_count(client, runner, sandbox, caplog):
    failed_jobs.flush()  # nothing left over from another test...
    caplog.set_level(logging.INFO)
    caplog.clear()  # ...nor its summary line, which that flush may have just written
    sandbox.add_fault("status", status=500, times=16, body="miners are asleep")
    jobs = prepare_batch(client, 8, "a cat", "SDXL") + prepare_batch(client, 8, "a dog", "SDXL")
    outcomes = list(runner.run(jobs, None))
    assert all(outcome.error is not None for outcome in outcomes)
    failed_jobs.flush()
    lines = failure_lines(caplog)
    assert len(lines) == 2, lines
    assert lines[0].startswith("A job failed: Heurist failed on its side (500)")
    assert lines[1].startswith("... and 15 more like it in the last ")
    assert lines[1].endswith(lines[0])
    assert not any(record.exc_info for record in caplog.records)


def test_jobs_abandoned_mid_batch_leave_no_traceback(client, runner, sandbox, caplog):
    failed_jobs.flush()
    caplog.set_level(logging.INFO)
    caplog.clear()
    sandbox.add_fault("status", status=500, times=8)
    jobs = prepare_batch(client, 8, "a cat", "SDXL")

    async def first_then_leave() -> None:
        steps = runner.stream(jobs, None)
        await steps.__anext__()
        await steps.aclose()  # the visitor left: the other jobs end unseen
        runner.workers.shutdown(wait=True)  # every job has ended now
        for _ in range(5):  # their results reach the loop, then the callbacks run
            await asyncio.sleep(0)

    asyncio.run(first_then_leave())
    gc.collect()  # an exception never retrieved is logged when its future is collected
    failed_jobs.flush()
    assert not [r for r in caplog.records if r.name == "asyncio"]
    assert not any(record.exc_info for record in caplog.records)
    lines = failure_lines(caplog)
    ran = len(sandbox.submissions)  # jobs not yet started when it left were never sent
    assert lines[0].startswith("A job failed") and f" {ran - 1} more like it" in lines[1]
