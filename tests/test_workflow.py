"""Workflow kinds (video, FLUX LoRA) on the job runner, against the sandbox's workflow API."""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import replace

import av
import pytest
from PIL import Image

from heurist_ui.batch import JobRunner
from heurist_ui.errors import (
    APITimeoutError,
    AuthenticationError,
    ImageDownloadError,
    InsufficientCreditsError,
    InvalidRequestError,
    UnexpectedResponseError,
)
from heurist_ui.flux_lora import FLUX_LORA_KINDS, LORAS, flux_lora
from heurist_ui.jobkinds import kind_of
from heurist_ui.pngfile import read_png_metadata
from heurist_ui.retention import Retention
from heurist_ui.video import HUNYUAN, MOCHI, poster_frame, read_video_record
from heurist_ui.workflow import TaskCanceledError, TaskFailedError, split_key

POLL = 0.02  # seconds between polls: small, so tests run fast; nothing asserts on timing


@pytest.fixture
def runner(client, tmp_path):
    runner = JobRunner(client, tmp_path / "out", max_workers=4, poll_interval=POLL)
    yield runner
    runner.close()


def stepping(sandbox, seen):
    """An on_status that records each status and then moves held tasks one step on."""

    def on_status(status):
        seen.append(status)
        sandbox.workflow.advance()

    return on_status


def test_hunyuan_sends_the_documented_body_and_saves_an_mp4_with_its_record(
    sandbox, runner, api_key
):
    sandbox.workflow.hold = True
    seen = []

    saved = runner.run_job(HUNYUAN.prepare("a red fox"), None, stepping(sandbox, seen))

    create = sandbox.workflow.endpoint_calls("task_create")
    assert len(create) == 1
    assert create[0]["fields"] == sorted(
        [
            "consumer_id",
            "api_key",
            "task_type",
            "task_details",
            "job_id",
            "workflow_id",
            "timeout_seconds",
        ]
    )
    assert create[0]["workflow_id"] == "1"
    assert create[0]["parameters"] == {"prompt": "a red fox"}
    assert [s.status for s in seen] == ["waiting", "running", "finished"]
    assert seen[0].queue_position == 1
    assert saved.path.suffix == ".mp4"
    with av.open(str(saved.path)) as container:  # what ffprobe would show: the comment tag
        assert container.streams.video[0].codec_context.name == "h264"
        assert '"prompt": "a red fox"' in container.metadata["comment"]
    record = read_video_record(saved.path)
    assert record["kind"] == "hunyuan"
    assert record["credits"] == 25.0
    assert record["task_id"] == create[0]["task_id"]
    assert api_key.split("#")[1] not in saved.path.read_bytes().decode("latin-1")


def test_mochi_sends_its_settings_and_saves_an_animated_webp_with_xmp(sandbox, runner):
    job = MOCHI.prepare("waves", width=512, height=256, length=16, seed=7, fps=12)

    saved = runner.run_job(job, None)

    sent = sandbox.workflow.endpoint_calls("task_create")[0]["parameters"]
    assert sent == {
        "prompt": "waves",
        "width": 512,
        "height": 256,
        "length": 16,
        "steps": 50,
        "seed": 7,
        "fps": 12,
        "quality": 80,
    }
    assert saved.path.suffix == ".webp"
    assert Image.open(saved.path).n_frames > 1
    assert read_png_metadata(saved.path)[1]["seed"] == 7
    assert read_video_record(saved.path)["kind"] == "mochi"
    assert job.credits is None
    assert "no price" in MOCHI.price_note
    assert poster_frame(saved.path).startswith(b"\x89PNG")


def test_a_flux_lora_image_is_a_jpeg_with_its_record(sandbox, runner):
    job = flux_lora("heuristlogo").prepare("a logo", width=640, height=512, noise_seed=3)

    saved = runner.run_job(job, None)

    sent = sandbox.workflow.endpoint_calls("task_create")[0]
    assert sent["workflow_id"] == "3"
    assert sent["parameters"]["lora_name"] == "heuristlogo"
    assert sent["parameters"]["steps"] == 15
    assert Image.open(saved.path).size == (640, 512)
    assert saved.path.suffix == ".jpg"
    assert read_png_metadata(saved.path)[1]["noise_seed"] == 3
    assert job.credits == pytest.approx(0.5 * 640 * 512 / 1024**2 * 15 / 20)
    assert len(FLUX_LORA_KINDS) == len(LORAS) == 15


def test_a_random_seed_is_made_concrete_before_sending():
    job = MOCHI.prepare("waves", seed=-1)

    assert 0 <= job.values["seed"] < 2**32


@pytest.mark.parametrize(
    ("kind", "values", "named"),
    [
        (MOCHI, {"length": 200}, "Length"),
        (MOCHI, {"width": 100}, "Width"),
        (MOCHI, {"steps": 2.5}, "Steps"),
        (HUNYUAN, {"width": 512}, "takes only a prompt"),
        (FLUX_LORA_KINDS["wsb"], {"width": 700}, "multiple of 64"),
        (FLUX_LORA_KINDS["wsb"], {"strength_model": 1.5}, "LoRA strength"),
    ],
)
def test_settings_out_of_bounds_are_refused_before_sending(kind, values, named):
    with pytest.raises(InvalidRequestError, match=named):
        kind.prepare("a prompt", **values)


def test_stop_cancels_the_task_on_heurists_side(sandbox, runner):
    sandbox.workflow.hold = True
    cancel = threading.Event()

    with pytest.raises(TaskCanceledError):
        runner.run_job(HUNYUAN.prepare("a fox"), None, lambda status: cancel.set(), cancel)

    task_id = sandbox.workflow.tasks[0].task_id
    assert [c["task_id"] for c in sandbox.workflow.endpoint_calls("task_cancel")] == [task_id]
    assert sandbox.workflow.tasks[0].canceled


def test_a_failed_task_says_so_with_heurists_message(sandbox, runner):
    sandbox.workflow.add_fault("failed", msg="CUDA out of memory")

    with pytest.raises(TaskFailedError, match="CUDA out of memory"):
        runner.run_job(HUNYUAN.prepare("a fox"), None)


def test_a_stuck_task_times_out_and_is_canceled(sandbox, client, tmp_path):
    sandbox.workflow.add_fault("stuck")
    runner = JobRunner(client, tmp_path, max_workers=1, poll_interval=POLL)
    runner.workflow.task_timeout = 0.2
    try:
        with pytest.raises(APITimeoutError, match="canceled"):
            runner.run_job(HUNYUAN.prepare("a fox"), None)
    finally:
        runner.close()

    assert len(sandbox.workflow.endpoint_calls("task_cancel")) == 1


def test_a_task_canceled_elsewhere_is_final(sandbox, runner):
    sandbox.workflow.hold = True

    def cancel_on_heurist(status):
        sandbox.workflow.tasks[0].canceled = True

    with pytest.raises(TaskCanceledError, match="Heurist's side"):
        runner.run_job(HUNYUAN.prepare("a fox"), None, cancel_on_heurist)


def test_a_broken_create_answer_never_creates_a_second_task(sandbox, runner):
    sandbox.workflow.add_fault("broken", body="<html>502</html>")

    with pytest.raises(UnexpectedResponseError, match="not created again"):
        runner.run_job(HUNYUAN.prepare("a fox"), None)

    assert len(sandbox.workflow.endpoint_calls("task_create")) == 1


@pytest.mark.parametrize(
    ("key", "error"),
    [("user#no-credits", InsufficientCreditsError)],
)
def test_no_credits_is_the_same_error_as_for_images(sandbox, runner, key, error):
    with pytest.raises(error, match="credits"):
        runner.run_job(HUNYUAN.prepare("a fox"), key)


def test_a_bad_key_is_the_same_error_as_for_images(client, tmp_path):
    from heurist_ui.sandbox import Sandbox

    with Sandbox(valid_keys=["good#key-123456"]) as strict:
        client.settings = replace(client.settings, workflow_url=strict.url)
        runner = JobRunner(client, tmp_path, max_workers=1, poll_interval=POLL)
        try:
            with pytest.raises(AuthenticationError, match="rejected"):
                runner.run_job(HUNYUAN.prepare("a fox"), "user#wrong-key-123")
        finally:
            runner.close()


def test_an_unsafe_result_link_is_refused(sandbox, runner):
    sandbox.workflow.add_fault("result", result="file:///etc/passwd")

    with pytest.raises(ImageDownloadError):
        runner.run_job(HUNYUAN.prepare("a fox"), None)


def test_the_key_never_reaches_the_logs(sandbox, runner, api_key, caplog):
    caplog.set_level(logging.DEBUG)
    sandbox.workflow.add_fault("failed", msg=f"bad key {api_key}")

    with pytest.raises(TaskFailedError) as caught:
        runner.run_job(HUNYUAN.prepare("a fox"), None)

    secret = split_key(api_key)[1]
    assert secret not in caplog.text
    assert secret not in str(caught.value)


def test_one_runner_runs_images_and_videos_in_one_batch(sandbox, runner, client):
    image = client.prepare("a cat", "SDXL", width=512, height=512)
    seen = []

    outcomes = list(
        runner.run([image, HUNYUAN.prepare("a dog")], None, lambda i, s: seen.append(i))
    )

    assert sorted(o.index for o in outcomes if o.image is not None) == [0, 1]
    assert {o.image.path.suffix for o in outcomes} == {".png", ".mp4"}
    assert kind_of(image).name == "image"
    assert seen and set(seen) == {1}


def test_the_storage_cap_counts_videos(sandbox, runner, tmp_path):
    first = runner.run_job(HUNYUAN.prepare("one"), None).path
    second = runner.run_job(HUNYUAN.prepare("two"), None).path
    cap = second.stat().st_size + first.stat().st_size // 2

    Retention(tmp_path / "out", cap, grace=0)  # no grace: the cap applies at once

    assert not first.exists()
    assert second.exists()


def test_poster_frame_of_an_mp4(sandbox, runner):
    saved = runner.run_job(HUNYUAN.prepare("one"), None)

    frame = Image.open(io.BytesIO(poster_frame(saved.path)))

    assert frame.size == (212, 120)
