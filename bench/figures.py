"""The five figures, each measured against running subprocesses and returned as table rows."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.calls import Call, compare, generate, generate_many, generate_together
from bench.procs import (
    HangingServer,
    Proc,
    Procs,
    app_env,
    cpu_seconds,
    local_session,
    rss_bytes,
    spawn_app,
    spawn_bare_app,
    wait_until_serving,
)

SMALL, LARGE = 512, 1024
CROWD_CLIENTS = 20
MEMORY_BATCH = 8
MEMORY_THREADS = 4
SETTLE_SECONDS = 1.0  # after start-up or load, before reading memory
MIB = 1024 * 1024


@dataclass(frozen=True)
class Row:
    """One line of the results table; lower is better, and at most `goal` passes."""

    figure: str
    value: float
    unit: str  # "×" for a ratio, "s" for seconds
    absolute: str
    goal: float
    reference: str = ""

    @property
    def passed(self) -> bool:
        return self.value <= self.goal

    @property
    def shown_value(self) -> str:
        if self.unit == "×":
            return f"{self.value:.2f}×"
        if self.unit == "s":
            return f"{self.value:.3f} s"
        if self.unit == "MB":
            return f"{self.value:.2f} MB"
        return f"{self.value:g} {self.unit}"

    @property
    def shown_goal(self) -> str:
        unit = "" if self.unit == "×" else f" {self.unit}"
        goal = f"≤ {self.goal:.1f}{unit}" if self.unit == "MB" else f"≤ {self.goal:g}{unit}"
        return f"{goal} ({self.reference})" if self.reference else goal


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def warm_up(app_url: str) -> None:
    """One call of each kind measured later: the first call pays for lazy imports and caches."""
    generate(app_url, size=SMALL, count=4)
    generate(app_url, size=LARGE, count=1)
    compare(app_url, size=SMALL, models=2, values=2)


def measure_batch(app_url: str, repeats: int) -> Row:
    """Wall time of 4 images in one call ÷ 1 image, medians of interleaved runs."""
    one, four = [], []
    for _ in range(repeats):
        one.append(generate(app_url, size=SMALL, count=1).seconds)
        four.append(generate(app_url, size=SMALL, count=4).seconds)
    t1, t4 = statistics.median(one), statistics.median(four)
    absolute = f"4 images {t4:.2f} s ÷ 1 image {t1:.2f} s ({SMALL}², median of {repeats} each)"
    return Row("batch", t4 / t1, "×", absolute, 1.2)


def measure_grid(app_url: str, repeats: int) -> Row:
    """Wall time of a 4×4 compare grid (16 jobs) ÷ one image, medians of interleaved runs."""
    one, grid = [], []
    for _ in range(repeats):
        one.append(generate(app_url, size=SMALL, count=1).seconds)
        grid.append(compare(app_url, size=SMALL).seconds)
    t1, t16 = statistics.median(one), statistics.median(grid)
    absolute = f"4×4 grid {t16:.2f} s ÷ 1 image {t1:.2f} s ({SMALL}², median of {repeats} each)"
    return Row("compare grid", t16 / t1, "×", absolute, 1.3)


def crowd_wall(app_url: str) -> tuple[float, list[Call]]:
    """One crowd: wall time from the first POST to the last answer, and its calls."""
    calls = generate_together(app_url, clients=CROWD_CLIENTS, size=SMALL)
    return max(c.ended for c in calls) - min(c.started for c in calls), calls


def start_floor_app(procs: Procs, latency: float) -> Proc:
    """A bare Gradio app whose /generate only sleeps L: what the crowd costs without our code."""
    proc = spawn_bare_app(procs, latency)
    wait_until_serving(proc)
    generate(proc.url, size=SMALL, count=1)  # warm-up
    return proc


def measure_crowd(
    app_url: str, floor_url: str, sandbox_url: str, latency: float, rounds: int
) -> Row:
    """20 clients at once, 1 image each: wall time from the first POST to the last answer ÷ L.

    Rounds alternate with the same crowd on the bare app at floor_url, so both meet the same
    machine.
    """
    walls, floors, calls = [], [], []
    for _ in range(rounds):
        floors.append(crowd_wall(floor_url)[0])
        wall, crowd = crowd_wall(app_url)
        walls.append(wall)
        calls += crowd
    wall, floor = statistics.median(walls), statistics.median(floors)
    before, api, after = _phases(calls, api_times(sandbox_url))
    absolute = (
        f"wall {wall:.2f} s for {CROWD_CLIENTS} clients, L = {latency:g} s, median of {rounds}; "
        f"per call p50: POST to API {before:.2f} s, API {api:.2f} s, API to answer {after:.2f} s; "
        f"bare Gradio app sleeping L: {floor:.2f} s"
    )
    return Row("crowd", wall / latency, "×", absolute, 1.5, "Heurist's demo: 10.8")


@dataclass(frozen=True)
class Served:
    """When the sandbox received a job and answered it, on the machine's monotonic clock."""

    received: float
    answered: float

    @property
    def seconds(self) -> float:
        return self.answered - self.received


def api_times(sandbox_url: str) -> dict[str, Served]:
    """job_id → the sandbox's own timing of that job (its latency plus drawing the image)."""
    with local_session() as session:
        response = session.get(f"{sandbox_url}/_sandbox/submissions", timeout=10)
        response.raise_for_status()
        return {
            s["job_id"]: Served(s["received_at"], s["answered_at"])
            for s in response.json()
            if s["job_id"]
        }


def _phases(calls: list[Call], served: dict[str, Served]) -> tuple[float, float, float]:
    """Medians of: POST to the API receiving the job, the API's time, the API's answer to ours."""
    jobs = [(call, served[call.job_ids[0]]) for call in calls]
    return (
        statistics.median(job.received - call.started for call, job in jobs),
        statistics.median(job.seconds for _, job in jobs),
        statistics.median(call.ended - job.answered for call, job in jobs),
    )


def measure_overhead(app_url: str, sandbox_url: str, latency: float, repeats: int) -> list[Row]:
    """One image end to end minus the API's own time, per size; sizes interleaved."""
    calls: dict[int, list[Call]] = {SMALL: [], LARGE: []}
    for _ in range(repeats):
        for size, done in calls.items():
            done.append(generate(app_url, size=size, count=1))
    served = api_times(sandbox_url)
    return [_overhead_row(size, done, served, latency) for size, done in calls.items()]


def _overhead_row(size: int, calls: list[Call], served: dict[str, Served], latency: float) -> Row:
    total = statistics.median(c.seconds for c in calls)
    api = statistics.median(served[c.job_ids[0]].seconds for c in calls)
    ours = statistics.median(c.seconds - served[c.job_ids[0]].seconds for c in calls)
    absolute = (
        f"end to end {total:.3f} s − API {api:.3f} s (L {latency:g} s + sandbox render "
        f"{api - latency:.3f} s); end to end − L = {total - latency:.3f} s; median of {len(calls)}"
    )
    return Row(f"overhead {size}²", ours, "s", absolute, 0.15)


def measure_startup(procs: Procs, sandbox_url: str, repeats: int) -> Row:
    """app.py with a catalogue URL that hangs, to its first page ÷ a bare Gradio app's."""
    app: list[tuple[float, float]] = []
    bare: list[tuple[float, float]] = []
    with HangingServer() as dead:
        env = app_env(procs.workdir, sandbox_url, dead.url)
        starters: list[tuple[Callable[[], Proc], list[tuple[float, float]]]] = [
            (lambda: spawn_app(procs, env), app),
            (lambda: spawn_bare_app(procs), bare),
        ]
        for round_number in range(repeats):
            order = starters if round_number % 2 == 0 else starters[::-1]
            for spawn, times in order:
                times.append(_time_startup(procs, spawn()))
    app_wall, bare_wall = (statistics.median(wall for wall, _ in runs) for runs in (app, bare))
    app_cpu, bare_cpu = (statistics.median(cpu for _, cpu in runs) for runs in (app, bare))
    absolute = (
        f"app.py {app_wall:.2f} s ÷ bare Blocks {bare_wall:.2f} s (CPU {app_cpu:.2f} s vs "
        f"{bare_cpu:.2f} s; catalogue URL hanging; median of {repeats} each, interleaved)"
    )
    return Row("start-up", app_wall / bare_wall, "×", absolute, 1.5)


def _time_startup(procs: Procs, proc: Proc) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from the spawn to the first page served; then stops it."""
    try:
        wall = wait_until_serving(proc)
        return wall, cpu_seconds(proc.pid)
    finally:
        procs.stop(proc)


def measure_memory(procs: Procs, sandbox_url: str, latency: float, images: int) -> Row:
    """RSS of a fresh app (with children) after `images` images at latency 0 ÷ after start-up."""
    env = app_env(procs.workdir, sandbox_url, f"{sandbox_url}/models.json")
    calls = max(1, images // MEMORY_BATCH)
    proc = spawn_app(procs, env)
    try:
        wait_until_serving(proc)
        time.sleep(SETTLE_SECONDS)
        before = rss_bytes(proc.pid)
        set_latency(sandbox_url, 0.0)
        try:
            generate_many(
                proc.url, calls=calls, threads=MEMORY_THREADS, size=SMALL, count=MEMORY_BATCH
            )
        finally:
            set_latency(sandbox_url, latency)
        time.sleep(SETTLE_SECONDS)
        after = rss_bytes(proc.pid)
    finally:
        procs.stop(proc)
    absolute = (
        f"{after / MIB:.0f} MiB after {calls * MEMORY_BATCH} images ({SMALL}², {calls} calls of "
        f"{MEMORY_BATCH} from {MEMORY_THREADS} threads) ÷ {before / MIB:.0f} MiB after start-up; "
        f"{(after - before) / calls / 1024:.0f} KiB kept per call"
    )
    return Row("memory", after / before, "×", absolute, 1.5)


def set_latency(sandbox_url: str, seconds: float) -> None:
    """Change the sandbox's latency while it runs."""
    with local_session() as session:
        response = session.post(
            f"{sandbox_url}/_sandbox/latency", json={"seconds": seconds}, timeout=10
        )
        response.raise_for_status()
