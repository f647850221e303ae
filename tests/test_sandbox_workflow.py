"""The sandbox's workflow API: task_create, task_result_query, task_cancel, outputs, faults."""

from __future__ import annotations

import io

import av
import pytest
import requests
from PIL import Image

from heurist_ui.sandbox import Sandbox

TIMEOUT = (2, 10)
USER, SECRET = "user-1", "secret-key-123456"


@pytest.fixture
def sandbox():
    with Sandbox(valid_keys=[f"{USER}#{SECRET}"]) as sb:
        yield sb


def create(sandbox, workflow_id="1", task_type="txt2vid", api_key=SECRET, **parameters):
    body = {
        "consumer_id": USER,
        "api_key": api_key,
        "task_type": task_type,
        "workflow_id": workflow_id,
        "task_details": {"parameters": {"prompt": "a red fox", **parameters}},
        "job_id": "sdk-workflow-0123456789",
    }
    return requests.post(f"{sandbox.url}/task_create", json=body, timeout=TIMEOUT)


def query(sandbox, task_id, api_key=SECRET):
    body = {"task_id": task_id, "api_key": api_key}
    return requests.post(f"{sandbox.url}/task_result_query", json=body, timeout=TIMEOUT).json()


def test_a_held_task_steps_from_waiting_to_running_to_finished(sandbox):
    sandbox.workflow.hold = True
    task_id = create(sandbox).json()["task_id"]

    first = query(sandbox, task_id)
    sandbox.workflow.advance()
    second = query(sandbox, task_id)
    sandbox.workflow.advance()
    third = query(sandbox, task_id)

    assert (first["status"], first["queue_position"]) == ("waiting", 1)
    assert second["status"] == "running"
    assert third["status"] == "finished"
    assert third["result"].startswith(sandbox.url)


def test_queue_positions_count_the_tasks_ahead(sandbox):
    sandbox.workflow.hold = True
    create(sandbox)
    second = create(sandbox).json()["task_id"]

    assert query(sandbox, second)["queue_position"] == 2


def test_workflow_1_gives_an_h264_mp4(sandbox):
    task_id = create(sandbox).json()["task_id"]
    answer = requests.get(query(sandbox, task_id)["result"], timeout=TIMEOUT)

    assert answer.headers["Content-Type"] == "video/mp4"
    with av.open(io.BytesIO(answer.content)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert sum(1 for _ in container.decode(video=0)) >= 2


def test_workflow_2_gives_an_animated_webp(sandbox):
    task_id = create(sandbox, "2", width=512, height=256, length=16).json()["task_id"]
    answer = requests.get(query(sandbox, task_id)["result"], timeout=TIMEOUT)

    image = Image.open(io.BytesIO(answer.content))
    assert image.format == "WEBP"
    assert image.n_frames > 1
    assert image.size == (128, 64)


def test_workflow_3_gives_a_jpeg_of_the_asked_size(sandbox):
    task_id = create(sandbox, "3", "txt2img", lora_name="heuristlogo", width=640, height=512)
    answer = requests.get(query(sandbox, task_id.json()["task_id"])["result"], timeout=TIMEOUT)

    image = Image.open(io.BytesIO(answer.content))
    assert (image.format, image.size) == ("JPEG", (640, 512))


@pytest.mark.parametrize(
    ("api_key", "status"), [("wrong-secret", 401), ("", 401), ("no-credits", 402)]
)
def test_bad_keys_and_no_credits_create_nothing(api_key, status):
    keys = None if api_key == "no-credits" else [f"{USER}#{SECRET}"]
    with Sandbox(valid_keys=keys) as sandbox:
        answer = create(sandbox, api_key=api_key)

        assert answer.status_code == status
        assert sandbox.workflow.tasks == []


def test_a_query_with_another_key_is_refused(sandbox):
    task_id = create(sandbox).json()["task_id"]

    answer = requests.post(
        f"{sandbox.url}/task_result_query",
        json={"task_id": task_id, "api_key": "other"},
        timeout=TIMEOUT,
    )

    assert answer.status_code == 401


def test_cancel_makes_the_task_canceled_for_good(sandbox):
    sandbox.workflow.hold = True
    task_id = create(sandbox).json()["task_id"]

    answer = requests.post(
        f"{sandbox.url}/task_cancel", json={"task_id": task_id, "api_key": SECRET}, timeout=TIMEOUT
    )
    sandbox.workflow.advance()

    assert answer.json()["task_id"] == task_id
    assert query(sandbox, task_id)["status"] == "canceled"
    assert [call["task_id"] for call in sandbox.workflow.endpoint_calls("task_cancel")] == [task_id]


def test_faults_failed_stuck_and_result(sandbox):
    sandbox.workflow.add_fault("failed", msg="out of memory")
    sandbox.workflow.add_fault("stuck")
    sandbox.workflow.add_fault("result", result="file:///etc/passwd")
    failed, stuck, odd = (create(sandbox).json()["task_id"] for _ in range(3))

    assert query(sandbox, failed)["status"] == "failed"
    assert query(sandbox, failed)["msg"] == "out of memory"
    assert query(sandbox, stuck)["status"] == "running"
    assert query(sandbox, odd)["result"] == "file:///etc/passwd"


def test_a_broken_answer_still_creates_the_task(sandbox):
    sandbox.workflow.add_fault("broken", body="<html>oops")

    answer = create(sandbox)

    assert answer.text == "<html>oops"
    assert len(sandbox.workflow.tasks) == 1


def test_a_status_fault_creates_nothing(sandbox):
    sandbox.workflow.add_fault("status", status=503, body="busy")

    assert create(sandbox).status_code == 503
    assert sandbox.workflow.tasks == []


def test_no_key_is_stored(sandbox):
    create(sandbox)

    assert SECRET not in repr(sandbox.workflow.calls) + repr(sandbox.workflow.tasks)


@pytest.mark.parametrize(
    "change",
    [{"workflow_id": "9"}, {"task_type": "upscaler"}, {"task_details": {"parameters": {}}}],
)
def test_bad_task_bodies_are_400(sandbox, change):
    body = {
        "consumer_id": USER,
        "api_key": SECRET,
        "task_type": "txt2vid",
        "workflow_id": "1",
        "task_details": {"parameters": {"prompt": "x"}},
        **change,
    }

    answer = requests.post(f"{sandbox.url}/task_create", json=body, timeout=TIMEOUT)

    assert answer.status_code == 400
    assert sandbox.workflow.tasks == []
