"""`python -m heurist_ui video` as a subprocess against the sandbox: files, progress, exit codes."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import run_cli as run_any_cli
from waiting import LIMIT, wait_until

from heurist_ui.video import read_video_record


def run_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    """`python -m heurist_ui video ARGS`, polling fast (test_cli's run_cli checks the output)."""
    return run_any_cli(env, "video", *args, "--poll", "0.05")


def test_hunyuan_saves_an_mp4_and_prints_its_path_and_price(cli_env, sandbox):
    result = run_cli(cli_env, "a red fox in snow")

    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.suffix == ".mp4"
    assert read_video_record(path)["prompt"] == "a red fox in snow"
    assert "25 credits" in result.stderr
    assert "Finished" in result.stderr


def test_mochi_takes_its_flags(cli_env, sandbox):
    result = run_cli(cli_env, "waves", "--model", "mochi", "--length", "16", "--seed", "5")

    assert result.returncode == 0, result.stderr
    sent = sandbox.workflow.endpoint_calls("task_create")[0]["parameters"]
    assert (sent["length"], sent["seed"]) == (16, 5)
    assert "no price for Mochi" in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["x", "--model", "mochi", "--length", "500"], "Length"),
        (["x", "--width", "512"], "takes only a prompt"),
    ],
)
def test_bad_settings_exit_2_and_send_nothing(cli_env, sandbox, args, words):
    result = run_cli(cli_env, *args)

    assert result.returncode == 2
    assert words in result.stderr
    assert sandbox.workflow.calls == []


def test_a_failed_task_exits_1_with_the_reason(cli_env, sandbox):
    sandbox.workflow.add_fault("failed", msg="no miner available")

    result = run_cli(cli_env, "a fox")

    assert result.returncode == 1
    assert "no miner available" in result.stderr


def test_ctrl_c_cancels_the_task_and_exits_130(cli_env, sandbox):
    sandbox.workflow.hold = True
    process = subprocess.Popen(
        [sys.executable, "-m", "heurist_ui", "video", "a slow fox", "--poll", "0.05"],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: any(task.queries for task in sandbox.workflow.tasks), "a poll")
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=LIMIT)
    finally:
        process.kill()

    assert process.returncode == 130
    assert "canceled" in err
    assert len(sandbox.workflow.endpoint_calls("task_cancel")) == 1
    assert sandbox.workflow.tasks[0].canceled
