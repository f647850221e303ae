"""`python -m bench.video`: a video task's overhead over the sandbox's own time, and the CPU
that 100 video tasks polled at once cost the studio's process.

The sandbox runs in its own process (`--task-seconds WAITING RUNNING`), so the CPU measured
here is the client's alone: the runner's threads, polling, downloading and saving MP4s.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from heurist_ui.batch import JobRunner
from heurist_ui.client import HeuristClient
from heurist_ui.config import load_settings
from heurist_ui.video import HUNYUAN

WAITING, RUNNING = 0.5, 1.0  # the sandbox's own time per task
SANDBOX = (sys.executable, "-m", "heurist_ui.sandbox")


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_sandbox(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [*SANDBOX, "--port", str(port), "--task-seconds", str(WAITING), str(RUNNING)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/models.json", timeout=1)
            return process
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the sandbox did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.video")
    parser.add_argument("--single", type=int, default=5, help="tasks run one after another")
    parser.add_argument("--crowd", type=int, default=100, help="tasks run at once")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between polls")
    args = parser.parse_args(argv)
    port = _port()
    sandbox = _start_sandbox(port)
    url = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = load_settings(
                api_key="bench#key",
                base_url=url,
                workflow_url=url,
                models_url=f"{url}/models.json",
                output_dir=Path(folder),
                cache_dir=Path(folder) / "cache",
                env_file=None,
            )
            client = HeuristClient(settings=settings)
            runner = JobRunner(
                client, Path(folder), max_workers=args.crowd, poll_interval=args.poll
            )
            own = WAITING + RUNNING
            # Warm-up, not counted: the first finished task imports PyAV on both sides.
            runner.run_job(HUNYUAN.prepare("warm-up"), None)
            overheads = []
            for _ in range(args.single):
                started = time.monotonic()
                runner.run_job(HUNYUAN.prepare("a fox"), None)
                overheads.append(time.monotonic() - started - own)
            print(
                f"one task: sandbox {own:.2f} s, overhead median "
                f"{statistics.median(overheads):.3f} s, max {max(overheads):.3f} s "
                f"(polling every {args.poll:g} s: at most one interval is waiting on the clock)"
            )
            jobs = [HUNYUAN.prepare(f"fox {i}") for i in range(args.crowd)]
            cpu, started = time.process_time(), time.monotonic()
            outcomes = list(runner.run(jobs, None))
            wall, used = time.monotonic() - started, time.process_time() - cpu
            failed = sum(outcome.error is not None for outcome in outcomes)
            print(
                f"{args.crowd} tasks at once: wall {wall:.2f} s, studio CPU {used:.2f} s "
                f"({used / wall * 100:.0f}% of one core), {failed} failed"
            )
            runner.close()
            client.close()
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
