"""`python -m heurist_ui video "prompt" --model hunyuan|mochi [settings]`: one video task.

The flags come from the kinds' settings tables (video.MOCHI_SETTINGS); a flag the chosen model
does not take is refused before anything is sent. Progress (waiting with the queue position,
running, elapsed) goes to stderr, the saved file's path to stdout. Ctrl+C cancels the task on
Heurist's side (task_cancel) and exits 130.
"""

from __future__ import annotations

import argparse
import sys
import threading
from concurrent.futures import wait
from pathlib import Path
from typing import Any

from .batch import JobRunner, outcome_of
from .client import HeuristClient, check_key
from .cost import Price
from .ctrl_c import as_completed, interrupt_after
from .errors import HeuristError
from .video import MOCHI_SETTINGS, VIDEO_KINDS
from .workflow import DEFAULT_POLL_INTERVAL, TaskStatus

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `video` subcommand, its flags derived from the settings tables."""
    video = commands.add_parser("video", parents=[common], help="generate a video")
    video.add_argument("prompt", help="what the video shows")
    video.add_argument("--model", choices=sorted(VIDEO_KINDS), default="hunyuan")
    for setting in MOCHI_SETTINGS:
        video.add_argument(
            setting.flag,
            dest=setting.name,
            type=float,
            default=None,
            help=f"mochi: {setting.help} ({setting.minimum:g}-{setting.maximum:g}, "
            f"default {setting.default:g})",
        )
    video.add_argument("--out", type=Path, help="folder for the video (HEURIST_OUTPUT_DIR)")
    video.add_argument(
        "--poll", type=float, default=DEFAULT_POLL_INTERVAL, help="seconds between status checks"
    )


def run(client: HeuristClient, args: argparse.Namespace, usage_error: type[Exception]) -> int:
    """Run one video task; the exit code."""
    if not client.has_key:
        raise usage_error(
            "no Heurist API key. Set HEURIST_API_KEY=<user_id>#<api_key> in the environment or "
            "a .env file (or try --sandbox for an offline demo)."
        )
    check_key(client.settings.api_key)
    kind = VIDEO_KINDS[args.model]
    values = {s.name: getattr(args, s.name) for s in MOCHI_SETTINGS}
    try:
        job = kind.prepare(args.prompt, **values)
    except HeuristError as error:
        raise usage_error(str(error)) from None
    credits = job.credits
    price = f"{Price(credits)}" if credits is not None else kind.price_note
    _say(f"{kind.label}: {price}. Creating the task…")
    runner = JobRunner(client, client.settings.output_dir, max_workers=1, poll_interval=args.poll)
    cancel = threading.Event()
    last: list[str] = []

    def heard(_: int, status: TaskStatus) -> None:
        line = status.describe()
        if not last or line.split(" · ")[0] != last[-1].split(" · ")[0]:
            _say(line)
        last.append(line)

    future = None
    try:
        with interrupt_after():
            (future,) = runner.submit([job], None, on_status=heard, cancel=cancel)
        for _ in as_completed([future]):
            pass
    except KeyboardInterrupt:
        cancel.set()
        _say("Stopping: canceling the task on Heurist's side…")
        if future is not None:
            wait([future], timeout=30)
        runner.close()
        _say("Stopped; the task was canceled.")
        return EXIT_INTERRUPTED
    outcome = outcome_of(future, 0, job)
    runner.close()
    if outcome.image is None:
        _say(f"heurist_ui: {outcome.error}")
        return EXIT_FAILED
    print(outcome.image.path, flush=True)
    _say(f"Done in {outcome.image.record['elapsed_s']:.0f} s.")
    return EXIT_OK


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
