"""The video figures: a video task's overhead over the sandbox's own time, and how busy the
studio keeps the CPU with 100 video tasks polled at once ÷ with the 100-caller image crowd,
side by side.

In `python -m bench` the sandbox runs its tasks for VIDEO_TASK_SECONDS (`--task-seconds`) and
the app polls them as it does Heurist's, every DEFAULT_POLL_INTERVAL. `python -m bench.video`
measures the one-task overhead on its own.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.calls import _final_event, _submit
from bench.crowds import crowd_walls, set_image_format
from bench.figures import SMALL, Row, progress
from bench.procs import BenchError, Proc, Procs, cpu_seconds, local_session, start_sandbox
from heurist_ui.batch import JobRunner
from heurist_ui.client import HeuristClient
from heurist_ui.config import load_settings
from heurist_ui.video import HUNYUAN, MOCHI_SETTINGS
from heurist_ui.workflow import DEFAULT_POLL_INTERVAL

VIDEO_TASK_SECONDS = (3.0, 6.0)  # the sandbox's waiting, then running: a few polls a task
OVERHEAD_POLL = 0.02  # the one-task figure polls this often: the clock adds at most this
CPU_GOAL = 1.0  # × the image crowd's CPU
OVERHEAD_GOAL = 0.15  # seconds, as for one image
VIDEO_CALL_TIMEOUT = 120.0


def video_data(prompt: str) -> list:
    """The inputs of /video in order: prompt, model, Mochi's settings (unused), the key."""
    return [prompt, HUNYUAN.label, *(s.default for s in MOCHI_SETTINGS), ""]


def video_together(app_url: str, tasks: int) -> float:
    """`tasks` /video calls released at once; the wall time; BenchError unless all finished."""
    barrier = threading.Barrier(tasks, timeout=30)

    def one(n: int) -> str:
        with local_session() as session:
            barrier.wait()
            event_id = _submit(session, app_url, video_data(f"a fox, take {n}"), "video")
            event, data = _final_event(session, f"{app_url}/gradio_api/call/video/{event_id}")
        line = data[0] if event == "complete" and isinstance(data, list) and data else ""
        if not str(line).startswith("Finished"):
            raise BenchError(f"/video ended with {event}: {str(data)[:300]}")
        return str(line)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=tasks, thread_name_prefix="bench-video") as pool:
        list(pool.map(one, range(tasks), timeout=VIDEO_CALL_TIMEOUT + 30))
    return time.monotonic() - started


def measure_video_cpu(app: Proc, sandbox: Proc, tasks: int, rounds: int) -> Row:
    """The app's CPU seconds for `tasks` video tasks at once ÷ for as many image callers."""
    progress(f"{tasks} video tasks at once")
    video_together(app.url, 1)  # not counted: the app's first video imports PyAV
    set_image_format(sandbox.url, "jpeg")  # as the crowd figures answer
    video_cpu, image_cpu, video_walls, image_walls = [], [], [], []
    try:
        for round_number in range(rounds):
            pair = ["image", "video"] if round_number % 2 == 0 else ["video", "image"]
            for kind in pair:
                before = cpu_seconds(app.pid)
                if kind == "video":
                    video_walls.append(video_together(app.url, tasks))
                    video_cpu.append(cpu_seconds(app.pid) - before)
                else:
                    image_walls.append(crowd_walls(app.url, tasks)[0])
                    image_cpu.append(cpu_seconds(app.pid) - before)
    finally:
        set_image_format(sandbox.url, "placeholder")
    video, image = statistics.median(video_cpu), statistics.median(image_cpu)
    video_wall, image_wall = statistics.median(video_walls), statistics.median(image_walls)
    waiting, running = VIDEO_TASK_SECONDS
    # "The studio's CPU": how busy it keeps the cores while the tasks run (CPU-s ÷ wall), as a
    # crowd of as many one-image callers does; the CPU-seconds themselves are shown beside it.
    level = (video / video_wall) / (image / image_wall)
    absolute = (
        f"studio CPU {video / video_wall:.2f} cores busy ({video:.2f} CPU-s over "
        f"{video_wall:.1f} s) for {tasks} Hunyuan tasks at once (each {waiting:g} s waiting + "
        f"{running:g} s running in the stand-in, polled every {DEFAULT_POLL_INTERVAL:g} s, MP4 "
        f"fetched and saved with its record) ÷ {image / image_wall:.2f} cores ({image:.2f} CPU-s "
        f"over {image_wall:.1f} s) for {tasks} one-image callers ({SMALL}², JPEG answers); per "
        f"task a video takes {video / image:.2f}× an image's CPU-s; median of {rounds}, alternating"
    )
    return Row(f"video {tasks} CPU", level, "×", absolute, CPU_GOAL, "the image crowd")


def measure_video_overhead(
    sandbox_url: str,
    runs: int,
    folder: Path,
    task_seconds: tuple[float, float] = VIDEO_TASK_SECONDS,
) -> Row:
    """One task end to end minus the sandbox's own time (task_seconds), on the job runner."""
    progress("video overhead")
    settings = load_settings(
        api_key="bench#key",
        base_url=sandbox_url,
        workflow_url=sandbox_url,
        models_url=f"{sandbox_url}/models.json",
        output_dir=folder,
        cache_dir=folder / "cache",
        env_file=None,
    )
    client = HeuristClient(settings=settings)
    runner = JobRunner(client, folder, max_workers=2, poll_interval=OVERHEAD_POLL)
    own = sum(task_seconds)
    try:
        runner.run_job(HUNYUAN.prepare("warm-up"), None)  # not counted: imports PyAV
        overheads = []
        for n in range(runs):
            started = time.monotonic()
            runner.run_job(HUNYUAN.prepare(f"a fox {n}"), None)
            overheads.append(time.monotonic() - started - own)
    finally:
        runner.close()
        client.close()
    ours = statistics.median(overheads)
    absolute = (
        f"one Hunyuan task end to end − the stand-in's {own:g} s (creating it, polling every "
        f"{OVERHEAD_POLL:g} s, fetching the MP4, writing its record in, saving); the job "
        f"runner in the bench's process; median of {runs}, max {max(overheads):.3f} s"
    )
    return Row("video overhead", ours, "s", absolute, OVERHEAD_GOAL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.video")
    parser.add_argument("--single", type=int, default=5, help="tasks run one after another")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="heurist-bench-") as workdir:
        procs = Procs(Path(workdir))
        try:
            sandbox = start_sandbox(procs, 1.0, task_seconds=VIDEO_TASK_SECONDS)
            row = measure_video_overhead(sandbox.url, args.single, Path(workdir) / "out")
        finally:
            procs.stop_all()
    print(f"{row.figure}: {row.shown_value} ({row.absolute})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
