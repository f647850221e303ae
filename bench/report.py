"""The results: a table for the terminal, and bench/RESULTS.md with the machine and versions."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import psutil

from bench.figures import Row
from bench.procs import REPO

RESULTS_PATH = REPO / "bench" / "RESULTS.md"
QUICK_RESULTS_PATH = REPO / "bench" / "RESULTS-quick.md"  # not committed
PACKAGES = ("gradio", "requests", "pillow", "psutil")
HEADERS = ("figure", "measured", "absolute", "goal", "result")


def cells(row: Row) -> tuple[str, ...]:
    return (
        row.figure,
        row.shown_value,
        row.absolute,
        row.shown_goal,
        "PASS" if row.passed else "MISS",
    )


def text_table(rows: Sequence[Row]) -> str:
    """The table, aligned for a terminal."""
    lines = [HEADERS, *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    rule = "  ".join("-" * width for width in widths)
    shown = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    return "\n".join([shown[0], rule, *shown[1:]])


def markdown_table(rows: Sequence[Row]) -> str:
    lines = [HEADERS, tuple("---" for _ in HEADERS), *(cells(row) for row in rows)]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def machine() -> dict[str, str]:
    """CPU, cores, RAM, OS, Python and package versions, the date, and the code measured."""
    info = {
        "CPU": _cpu_model(),
        "Cores": f"{psutil.cpu_count(logical=False)} physical, {os.cpu_count()} logical",
        "RAM": f"{psutil.virtual_memory().total / 1024**3:.1f} GiB",
        "OS": f"{_os_name()} ({platform.platform()})",
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
    }
    info.update({name: _version(name) for name in PACKAGES})
    info["Load average at start"] = " ".join(f"{load:.2f}" for load in os.getloadavg())
    info["Code"] = _code_version()
    info["Date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _code_version() -> str:
    """The commit measured, and whether the working tree differs from it (read-only git)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # git status must not even refresh the index

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=10
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not commit:
        return "unknown"
    return f"{commit} (with uncommitted changes)" if dirty else commit


def markdown(
    rows: Sequence[Row],
    info: dict[str, str],
    *,
    command: str,
    seconds: float,
    quick: bool,
    noisy: bool = False,
) -> str:
    kind = "quick smoke run: few repetitions, figures are rough" if quick else "full run"
    if noisy:
        kind += "; other processes loaded the machine meanwhile, see Machine"
    machine_lines = "\n".join(f"- **{name}**: {value}" for name, value in info.items())
    return f"""# Benchmark results

`{command}` ({kind}, {seconds:.0f} s). Lower is better; a figure passes at or below its goal.

{markdown_table(rows)}

## What is measured

The sandbox API (`python -m heurist_ui.sandbox --latency L`) and the app (`python app.py`) run
as subprocesses on 127.0.0.1; every call goes through Gradio's REST API (`POST
/gradio_api/call/generate`, then the server-sent events until `complete`) with plain `requests`
threads. Model SDXL, 20 steps, random seeds; one warm-up call of each kind is not counted.

- **batch**: one call with 4 images ÷ one call with 1 image, 512², interleaved, medians.
- **compare grid**: one `/compare` of 4 SDXL-family models × 4 seeds (16 cells, each its own
  job, the labelled grid drawn and zipped at the end) ÷ one call with 1 image; interleaved,
  medians.
- **crowd**: 20 threads released together, 1 image of 512² each: first POST to last answer ÷ L.
  Beside it: where a call's time goes (POST to the sandbox receiving the job, the sandbox, its
  answer to ours; one clock for all processes), and the same crowd, in alternate rounds, on
  `bench/bare_app.py --latency L`, a bare Gradio app whose `/generate` only sleeps L: the part of
  the figure that Gradio, the HTTP client and the machine take before our code counts. The bare
  app awaits L with no concurrency limit and no queue bound: the true floor.
- **overhead**: one image end to end minus the sandbox's own time for that job (L plus drawing
  the placeholder PNG, taken from the sandbox's submission log): what the app adds on top of the
  API, the image download, saving the PNG with its metadata and Gradio's handling included.
  The plain "end to end − L" is shown beside it.
- **crowd 100, crowd 300**: that many callers released together, 1 image of 512² each: the
  studio's wall time (first POST to last answer) ÷ the bare app's, in alternating rounds. The
  sandbox answers with JPEGs for these (3 ms to draw rather than 7 ms for its placeholder PNG):
  the stand-in shares the 2 cores, which a real API would not; its CPU time is shown.
- **crowd 1000: lost**: a thousand callers at once; each must end with its image or a clear
  message. Lost: a call that hung, failed without a message or came back wrong.
- **fairness**: 20 one-image callers at once, beside a caller looping batches of 8 ÷ alone.
- **overhead PNG / JPEG / WebP**: the overhead figure at 1024² with the sandbox answering
  real-sized images (`--image-format png|jpeg|webp`: about 1.5 MB, 300 KB and 160 KB).
- **disk after 3000, memory after 5000**: a fresh app with `HEURIST_OUTPUT_MAX_MB=50` makes
  5000 images (512² PNGs of about 0.4 MB, sandbox latency 0, batches of 8 from 4 threads).
  Disk: the outputs folder and Gradio's cache together after 3000 images, against the cap
  plus one batch. Memory: resident memory after 5000 ÷ after the first 500.
- **start-up**: spawn to the first `GET /` answered 200 (polled every 25 ms), with
  `HEURIST_MODELS_URL` pointing at a local server that accepts and never answers, ÷ the same for
  `bench/bare_app.py` (one Textbox, launched the same way); interleaved, medians.
- **memory**: resident memory (psutil RSS, children included) of a fresh app after its images
  (sandbox latency 0, batches of 8 from 4 threads) ÷ right after start-up.
- **video 100 CPU**: 100 `/video` calls (Hunyuan) released together, the sandbox running each
  task 3 s waiting then 6 s running (`--task-seconds 3 6`) and the app polling it every 3 s, as
  it polls Heurist, then fetching the MP4, writing its record in and saving it: how busy the
  app keeps the CPU meanwhile (its CPU seconds, psutil, children included, ÷ the wall time) ÷
  the same for 100 one-image `/generate` callers released together (the crowd 100 calls, JPEG
  answers); alternate rounds in the same run, medians. The CPU seconds per task are shown
  beside it. `--quick`: 30 tasks beside 30 callers.
- **video overhead**: one Hunyuan task on the studio's job runner (in the bench's own process,
  polling every 0.02 s, so the clock adds at most that): end to end minus the stand-in's 9 s;
  creating the task, polling, fetching the MP4, writing its record in and saving it.

## Machine

{machine_lines}

## Rerun

```bash
. .venv/bin/activate          # gradio, requests, pillow, psutil
python -m bench               # full run, L = 1 s: a few minutes; rewrites this file
python -m bench --quick       # smoke run, fewer repetitions; writes bench/RESULTS-quick.md
python -m bench --latency 2   # another API latency
```

Other load on the machine skews the figures: run it on an otherwise idle machine.
"""


def write_results(text: str, path: Path = RESULTS_PATH) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
