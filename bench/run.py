"""The benchmark's command line: start the processes, measure, print and write the table."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import requests

from bench.crowds import (
    measure_big_crowds,
    measure_fairness,
    measure_format_overhead,
    measure_huge_crowd,
    measure_soak,
)
from bench.figures import (
    Row,
    measure_batch,
    measure_crowd,
    measure_grid,
    measure_memory,
    measure_overhead,
    measure_startup,
    progress,
    start_floor_app,
    warm_up,
)
from bench.hostile import measure_hostile
from bench.noise import CpuMeter
from bench.page import measure_page
from bench.procs import BenchError, Procs, app_env, spawn_app, start_sandbox, wait_until_serving
from bench.report import (
    QUICK_RESULTS_PATH,
    RESULTS_PATH,
    machine,
    markdown,
    text_table,
    write_results,
)
from bench.video import VIDEO_TASK_SECONDS, measure_video_cpu, measure_video_overhead

DEFAULT_LATENCY = 1.0
# A call that fails, a process that will not start or answer: the run stops, cleanly.
MEASUREMENT_ERRORS = (
    BenchError,
    requests.RequestException,
    TimeoutError,
    threading.BrokenBarrierError,
)


@dataclass(frozen=True)
class Plan:
    """How many times, and how big, each figure is measured."""

    batch_runs: int
    crowd_rounds: int
    overhead_runs: int
    startup_runs: int
    memory_images: int
    big_crowds: tuple[int, ...]
    huge_crowd: int
    soak_images: int
    soak_disk_at: int
    soak_memory_from: int
    video_tasks: int  # at once, beside as many image callers

    @classmethod
    def for_run(cls, quick: bool) -> Plan:
        if quick:
            return cls(
                batch_runs=2,
                crowd_rounds=1,
                overhead_runs=2,
                startup_runs=1,
                memory_images=48,
                big_crowds=(100,),
                huge_crowd=200,
                soak_images=400,
                soak_disk_at=300,
                soak_memory_from=100,
                video_tasks=30,
            )
        return cls(
            batch_runs=5,
            crowd_rounds=3,
            overhead_runs=7,
            startup_runs=3,
            memory_images=200,
            big_crowds=(100, 300),
            huge_crowd=1000,
            soak_images=5000,
            soak_disk_at=3000,
            soak_memory_from=500,
            video_tasks=100,
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Measure the studio against its performance goals."
    )
    parser.add_argument(
        "--latency", type=float, default=DEFAULT_LATENCY, help="the sandbox API's seconds per job"
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke test)")
    parser.add_argument(
        "--results",
        type=Path,
        help=f"Markdown to write ({RESULTS_PATH.name}; with --quick, {QUICK_RESULTS_PATH.name})",
    )
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    if not 0 < args.latency <= 30:
        parser.error("--latency must be more than 0 and at most 30 seconds")
    if args.results is None:  # smoke figures never overwrite the committed ones
        args.results = QUICK_RESULTS_PATH if args.quick else RESULTS_PATH
    return args


def measure_all(procs: Procs, latency: float, plan: Plan) -> list[Row]:
    progress(f"starting the sandbox (L = {latency:g} s)")
    sandbox = start_sandbox(procs, latency, task_seconds=VIDEO_TASK_SECONDS)
    progress("starting the app")
    app = spawn_app(procs, app_env(procs.workdir, sandbox.url, f"{sandbox.url}/models.json"))
    wait_until_serving(app)
    warm_up(app.url)
    progress("batch")
    rows = [measure_batch(app.url, plan.batch_runs)]
    progress("compare grid")
    rows.append(measure_grid(app.url, plan.batch_runs))
    progress("crowd")
    floor = start_floor_app(procs, latency)
    rows.append(measure_crowd(app.url, floor.url, sandbox.url, latency, plan.crowd_rounds))
    rows += measure_big_crowds(
        app.url, floor.url, sandbox, latency, plan.big_crowds, plan.crowd_rounds
    )
    procs.stop(floor)
    rows.append(measure_huge_crowd(app.url, latency, plan.huge_crowd))
    rows.append(measure_fairness(app.url, latency, plan.crowd_rounds))
    rows.append(measure_hostile(app.url, latency, plan.crowd_rounds))
    progress("overhead")
    rows += measure_overhead(app.url, sandbox.url, latency, plan.overhead_runs)
    rows += measure_format_overhead(app.url, sandbox.url, latency, plan.overhead_runs)
    progress("video")
    rows.append(measure_video_cpu(app, sandbox, plan.video_tasks, plan.crowd_rounds))
    runs = min(plan.overhead_runs, 3)  # each waits the stand-in's task seconds
    rows.append(measure_video_overhead(sandbox.url, runs, procs.workdir / "video"))
    procs.stop(app)
    progress("start-up")
    rows.append(measure_startup(procs, sandbox.url, plan.startup_runs))
    progress("page")
    rows += measure_page(procs, sandbox.url, loads=max(3, plan.startup_runs * 2), memory_loads=20)
    progress("memory")
    rows.append(measure_memory(procs, sandbox.url, latency, plan.memory_images))
    rows += measure_soak(
        procs,
        sandbox.url,
        latency,
        plan.soak_images,
        plan.soak_disk_at,
        plan.soak_memory_from,
    )
    return rows


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl+C does


def command_line(args: argparse.Namespace) -> str:
    parts = ["python -m bench"]
    if args.latency != DEFAULT_LATENCY:
        parts.append(f"--latency {args.latency:g}")
    if args.quick:
        parts.append("--quick")
    return " ".join(parts)


def measure(latency: float, quick: bool) -> tuple[list[Row], str, bool]:
    """The rows, and how much CPU other processes took meanwhile (and whether that is too much)."""
    meter = CpuMeter.start()
    with tempfile.TemporaryDirectory(prefix="heurist-bench-") as workdir:
        procs = Procs(Path(workdir))
        try:
            rows = measure_all(procs, latency, Plan.for_run(quick))
        finally:
            procs.stop_all()
    noise, noisy = meter.describe(procs.cpu_seconds)
    return rows, noise, noisy


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started in the background
    started = time.monotonic()
    info = machine()
    try:
        rows, noise, noisy = measure(args.latency, args.quick)
    except KeyboardInterrupt:
        print("Interrupted: every process started was stopped.", file=sys.stderr)
        return 130
    except MEASUREMENT_ERRORS as error:
        print(f"Benchmark failed ({type(error).__name__}): {error}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - started
    info["Other processes' CPU during the run"] = noise
    print(text_table(rows))
    print(f"\n{len(rows)} figures in {seconds:.0f} s; {sum(r.passed for r in rows)} pass.")
    print(f"Other processes' CPU during the run: {noise}.")
    if noisy:
        print("Warning: the machine was busy with other work; rerun when it is idle.")
    if not args.no_write:
        text = markdown(
            rows,
            info,
            command=command_line(args),
            seconds=seconds,
            quick=args.quick,
            noisy=noisy,
        )
        print(f"Written to {write_results(text, args.results)}")
    return 0
