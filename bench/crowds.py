"""The public-Space figures: big crowds, fairness, a long soak, and real-sized images.

Each crowd is measured beside the bare app (bench/bare_app.py, an async handler that only
awaits L, with no concurrency limit): the floor for a server that only waits.
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.calls import Call, _final_event, _submit, generate, generate_data, generate_together
from bench.figures import LARGE, MIB, SMALL, Row, api_times, progress, set_latency
from bench.procs import (
    BenchError,
    Proc,
    Procs,
    app_env,
    cpu_seconds,
    local_session,
    rss_bytes,
    spawn_app,
    wait_until_serving,
)

CROWD_GOAL = 1.25  # × the floor's wall time
FAIR_CLIENTS = 20
FAIR_GOAL = 1.5  # × the ordinary callers' wall time without the greedy one
GREEDY_BATCH = 8
SOAK_CAP_MB = 50
SOAK_BATCH = 8
SOAK_THREADS = 4
MEMORY_SOAK_GOAL = 1.1
# Real answers: a 1024² PNG of about 1.5 MB, a JPEG of about 300 KB, a WebP.
FORMATS = (("png", "PNG 1.5 MB"), ("jpeg", "JPEG 300 KB"), ("webp", "WebP 160 KB"))


def crowd_walls(url: str, clients: int) -> tuple[float, list[Call]]:
    calls = generate_together(url, clients=clients, size=SMALL)
    return max(c.ended for c in calls) - min(c.started for c in calls), calls


def measure_big_crowds(
    app_url: str, floor_url: str, sandbox: Proc, latency: float, sizes: tuple[int, ...], rounds: int
) -> list[Row]:
    """Per crowd size: the studio's wall time ÷ the bare app's, in alternate rounds.

    The sandbox answers with JPEGs here: it draws one in 3 ms where its placeholder PNG takes
    7 ms, and on these two shared cores every millisecond the stand-in spends is one the
    studio waits for, which a real API, on machines of its own, would not take.
    """
    set_image_format(sandbox.url, "jpeg")
    generate(app_url, size=SMALL, count=1)  # the sandbox makes its grain once a size
    rows = []
    try:
        for clients in sizes:
            progress(f"crowd of {clients}")
            walls, floors, stand_in = [], [], []
            for round_number in range(rounds):
                pair = [(floor_url, floors), (app_url, walls)]
                for url, times in pair if round_number % 2 == 0 else pair[::-1]:
                    before = cpu_seconds(sandbox.pid)
                    times.append(crowd_walls(url, clients)[0])
                    if url == app_url:
                        stand_in.append(cpu_seconds(sandbox.pid) - before)
            wall, floor = statistics.median(walls), statistics.median(floors)
            absolute = (
                f"studio {wall:.2f} s ÷ bare app {floor:.2f} s for {clients} callers at once, "
                f"1 image of {SMALL}² each (JPEG answers; the stand-in API took "
                f"{statistics.median(stand_in):.1f} CPU-s of the 2 cores), L = {latency:g} s; "
                f"median of {rounds}, alternating"
            )
            rows.append(Row(f"crowd {clients}", wall / floor, "×", absolute, CROWD_GOAL))
    finally:
        set_image_format(sandbox.url, "placeholder")
    return rows


@dataclass
class Tally:
    images: int = 0
    messages: int = 0  # ended with a clear error message
    lost: int = 0  # hung, failed without a message, or answered wrongly


def measure_huge_crowd(app_url: str, latency: float, clients: int) -> Row:
    """`clients` callers at once: each must end with its image or a clear message."""
    progress(f"crowd of {clients}")
    barrier = threading.Barrier(clients, timeout=60)
    tally, lock = Tally(), threading.Lock()
    problems: list[str] = []

    def one_client() -> float:
        with local_session() as session:
            barrier.wait()
            started = time.monotonic()
            outcome, detail = call_outcome(session, app_url)
            with lock:
                setattr(tally, outcome, getattr(tally, outcome) + 1)
                if outcome == "lost":
                    problems.append(detail)
            return time.monotonic() - started

    with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="bench-crowd") as pool:
        seconds = list(pool.map(lambda _: one_client(), range(clients)))
    shown = f"; first problem: {problems[0]}" if problems else ""
    absolute = (
        f"{clients} callers at once, L = {latency:g} s: {tally.images} got their image, "
        f"{tally.messages} a clear message, {tally.lost} lost; slowest call {max(seconds):.1f} s"
        f"{shown}"
    )
    return Row(f"crowd {clients}: lost", tally.lost, "calls", absolute, 0)


def call_outcome(session: requests.Session, app_url: str) -> tuple[str, str]:
    """("images" | "messages" | "lost", detail) for one one-image /generate call."""
    try:
        event_id = _submit(session, app_url, generate_data(SMALL, 1))
        event, data = _final_event(session, f"{app_url}/gradio_api/call/generate/{event_id}")
    except (BenchError, requests.RequestException) as error:
        return "lost", f"{type(error).__name__}: {str(error)[:200]}"
    if event == "complete" and isinstance(data, list) and len(data) > 1 and len(data[1]) == 1:
        return "images", ""
    if event == "error" and isinstance(data, dict) and str(data.get("error") or "").strip():
        return "messages", str(data["error"])[:200]
    return "lost", f"{event}: {str(data)[:200]}"


def measure_fairness(app_url: str, latency: float, rounds: int) -> Row:
    """20 one-image callers, alone and beside a caller looping batches of 8: wall ratio."""
    progress("fairness")
    alone, beside, greedy_images = [], [], 0
    for _ in range(rounds):
        alone.append(crowd_walls(app_url, FAIR_CLIENTS)[0])
        stop = threading.Event()
        made: list[int] = []

        def greedy(stop: threading.Event = stop, made: list[int] = made) -> None:
            with local_session() as session:
                while not stop.is_set():
                    generate(app_url, size=SMALL, count=GREEDY_BATCH, session=session)
                    made.append(GREEDY_BATCH)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-greedy") as pool:
            running = pool.submit(greedy)
            time.sleep(latency / 2)  # its first batch is under way
            beside.append(crowd_walls(app_url, FAIR_CLIENTS)[0])
            stop.set()
            running.result(timeout=120)
        greedy_images += sum(made)
    wall_alone, wall_beside = statistics.median(alone), statistics.median(beside)
    absolute = (
        f"{FAIR_CLIENTS} one-image callers: {wall_beside:.2f} s beside a caller looping batches "
        f"of {GREEDY_BATCH} ({greedy_images} images meanwhile) ÷ {wall_alone:.2f} s alone; "
        f"L = {latency:g} s, median of {rounds}"
    )
    return Row("fairness", wall_beside / wall_alone, "×", absolute, FAIR_GOAL)


def folder_bytes(*folders: Path) -> int:
    total = 0
    for folder in folders:
        if folder.exists():
            total += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return total


def measure_soak(
    procs: Procs, sandbox_url: str, latency: float, images: int, disk_at: int, memory_from: int
) -> list[Row]:
    """A fresh app capped at 50 MB makes `images` real-sized images at latency 0.

    Disk: outputs and Gradio's cache together after `disk_at` images, against the cap plus one
    batch. Memory: resident memory after all the images ÷ after the first `memory_from`.
    """
    progress(f"soak of {images} images")
    workdir = procs.workdir / "soak"
    env = app_env(workdir, sandbox_url, f"{sandbox_url}/models.json")
    env["HEURIST_OUTPUT_MAX_MB"] = str(SOAK_CAP_MB)
    # No grace period: this measures the cap itself. With the default 15 minutes, the folder
    # holds the cap plus whatever the last 15 minutes made (thousands of images here).
    env["HEURIST_OUTPUT_GRACE_MIN"] = "0"
    env["GRADIO_TEMP_DIR"] = str(workdir / "gradio")
    folders = (workdir / "outputs", workdir / "gradio")
    proc = spawn_app(procs, env)
    batch_bytes = 0
    try:
        wait_until_serving(proc)
        set_image_format(sandbox_url, "png")
        set_latency(sandbox_url, 0.0)
        try:
            made = run_images(proc.url, memory_from)
            rss_early = rss_bytes(proc.pid)
            made += run_images(proc.url, disk_at - made)
            disk = folder_bytes(*folders)
            made += run_images(proc.url, images - made)
            rss_late = rss_bytes(proc.pid)
            disk_end = folder_bytes(*folders)
            batch_bytes = largest_batch_bytes(workdir / "outputs")
        finally:
            set_latency(sandbox_url, latency)
            set_image_format(sandbox_url, "placeholder")
    finally:
        procs.stop(proc)
    limit = SOAK_CAP_MB * MIB + batch_bytes
    disk_row = Row(
        f"disk after {disk_at}",
        disk / MIB,
        "MB",
        f"outputs + Gradio's cache after {disk_at} images of {SMALL}² (PNG, about 0.4 MB each) "
        f"with HEURIST_OUTPUT_MAX_MB={SOAK_CAP_MB} and no grace period; {disk_end / MIB:.1f} MB "
        f"after {made}; "
        f"goal: the cap + one batch ({batch_bytes / MIB:.1f} MB)",
        limit / MIB,
    )
    memory_row = Row(
        f"memory after {made}",
        rss_late / rss_early,
        "×",
        f"{rss_late / MIB:.0f} MiB after {made} images ÷ {rss_early / MIB:.0f} MiB after the "
        f"first {memory_from} (/generate, batches of {SOAK_BATCH} from {SOAK_THREADS} threads)",
        MEMORY_SOAK_GOAL,
    )
    return [disk_row, memory_row]


def run_images(app_url: str, images: int) -> int:
    """Make `images` images (rounded up to whole batches) through /generate; how many made."""
    calls = max(0, -(-images // SOAK_BATCH))

    def one(_: int) -> int:
        return len(generate(app_url, size=SMALL, count=SOAK_BATCH).records)

    with ThreadPoolExecutor(max_workers=SOAK_THREADS, thread_name_prefix="bench-soak") as pool:
        return sum(pool.map(one, range(calls)))


def largest_batch_bytes(outputs: Path) -> int:
    """The bytes of the largest SOAK_BATCH saved images: what one batch adds before trimming."""
    sizes = sorted((p.stat().st_size for p in outputs.rglob("*.png")), reverse=True)
    return sum(sizes[:SOAK_BATCH])


def measure_format_overhead(
    app_url: str, sandbox_url: str, latency: float, repeats: int
) -> list[Row]:
    """One 1024² image end to end minus the API's time, for each real image format."""
    rows = []
    for image_format, label in FORMATS:
        set_image_format(sandbox_url, image_format)
        try:
            generate(app_url, size=LARGE, count=1)  # the sandbox builds its grain once a size
            calls = [generate(app_url, size=LARGE, count=1) for _ in range(repeats)]
        finally:
            set_image_format(sandbox_url, "placeholder")
        served = api_times(sandbox_url)
        ours = statistics.median(c.seconds - served[c.job_ids[0]].seconds for c in calls)
        total = statistics.median(c.seconds for c in calls)
        absolute = (
            f"{LARGE}² {label.split()[0]}: end to end {total:.3f} s − the API's own time "
            f"(L {latency:g} s + rendering); download, checks, saving with metadata and "
            f"Gradio's handling; median of {repeats}"
        )
        rows.append(Row(f"overhead {label}", ours, "s", absolute, 0.15))
    return rows


def set_image_format(sandbox_url: str, image_format: str) -> None:
    with local_session() as session:
        response = session.post(
            f"{sandbox_url}/_sandbox/image_format", json={"format": image_format}, timeout=10
        )
        response.raise_for_status()
