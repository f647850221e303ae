"""bench.video: the video figures of `python -m bench` run against real subprocesses."""

from __future__ import annotations

import pytest

from bench.procs import Procs, app_env, spawn_app, start_sandbox, wait_until_serving
from bench.video import CPU_GOAL, measure_video_cpu, measure_video_overhead

pytestmark = pytest.mark.load


def test_the_video_figures_measure_the_app_beside_the_image_crowd(tmp_path):
    procs = Procs(tmp_path)
    try:
        sandbox = start_sandbox(procs, 0.05)  # tasks finish at once: one poll each
        env = app_env(tmp_path, sandbox.url, f"{sandbox.url}/models.json")
        assert env["HEURIST_WORKFLOW_URL"] == sandbox.url  # never Heurist's own host
        app = spawn_app(procs, env)
        wait_until_serving(app)

        cpu = measure_video_cpu(app, sandbox, tasks=3, rounds=1)
        overhead = measure_video_overhead(sandbox.url, 1, tmp_path / "video", (0.0, 0.0))
    finally:
        procs.stop_all()

    assert cpu.figure == "video 3 CPU" and cpu.goal == CPU_GOAL and cpu.value > 0
    assert "3 Hunyuan tasks" in cpu.absolute and "3 one-image callers" in cpu.absolute
    assert overhead.figure == "video overhead" and overhead.value > 0
    assert not procs.started
