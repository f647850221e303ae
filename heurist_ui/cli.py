"""The command line: `python -m heurist_ui generate|video|models|cost`, on the studio's core.

Exit codes: 0 all done; 1 some jobs failed; 2 bad usage, invalid settings or no key (nothing
sent); 130 stopped with Ctrl+C.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from . import cli_video
from .batch import JobRunner, Outcome, outcome_of, summarize_failures
from .client import HeuristClient, check_key
from .config import Settings, load_settings, sandbox_settings
from .cost import Price
from .ctrl_c import as_completed, interrupt_after
from .errors import HeuristError
from .fields import COUNT, SETTINGS
from .generator_models import LORA_MODELS, STRENGTH, job_settings, with_loras
from .params import GenerationParams
from .plan import Plan, plan_images

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_CONCURRENCY = 8
MAX_PROBLEMS_SHOWN = 20  # lines of a prompts file named, of those with a problem
SOURCES = {
    "remote": "Heurist's model list",
    "cache": "the last saved copy of Heurist's model list (it was unreachable)",
    "bundled": "the built-in model list (Heurist's was unreachable)",
}


class UsageError(Exception):
    """Something to fix before anything is sent: exit code 2."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m heurist_ui",
        description="Generate images with Heurist from the command line.",
        epilog="The key comes from HEURIST_API_KEY (or AUTH_KEY) in the environment or .env.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--sandbox", action="store_true", help="use a local stand-in API")
    common.add_argument("--env-file", default=".env", help="settings file to read (.env)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser("generate", parents=[common], help="generate images")
    _request_flags(generate)
    generate.add_argument("--out", type=Path, help="folder for the images (HEURIST_OUTPUT_DIR)")
    generate.add_argument(
        "--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="jobs at once (8)"
    )

    cli_video.add_parser(commands, common)

    commands.add_parser("models", parents=[common], help="list the image models")

    cost = commands.add_parser(
        "cost", parents=[common], help="estimate the credits of a generate run, sending nothing"
    )
    _request_flags(cost)
    args = parser.parse_args(argv)
    if args.command in ("generate", "cost") and None not in (args.prompt, args.prompts):
        parser.error("give a prompt, or --prompts FILE (not both)")
    if args.command == "generate":
        if args.prompt is None and args.prompts is None:
            parser.error("give a prompt, or --prompts FILE (not both)")
        if args.concurrency < 1:
            parser.error("--concurrency must be at least 1")
    return args


def _request_flags(parser: argparse.ArgumentParser) -> None:
    """The prompt (or a file of them), every setting of fields.SETTINGS, and the count."""
    parser.add_argument("prompt", nargs="?", help=SETTINGS[0].help)
    parser.add_argument("--prompts", type=Path, help="a file of prompts, one per line")
    for setting in SETTINGS[1:]:
        default = FLAG_DEFAULTS.get(setting.name)
        parser.add_argument(
            setting.flag,
            dest=setting.name,
            metavar=setting.flag.lstrip("-").replace("-", "_").upper(),
            type=str if setting.kind in ("text", "model") else float,
            default=default,
            help=f"{setting.help} ({'the model' + chr(39) + 's' if default is None else default})",
        )
    parser.add_argument(
        "-n", COUNT.flag, dest=COUNT.name, type=int, default=1, help=f"{COUNT.help} (1)"
    )
    parser.add_argument(
        STRENGTH.flag,
        dest=STRENGTH.name,
        metavar=STRENGTH.name.upper(),
        type=float,
        help=f"for a FLUX LoRA model (--model flux-lora:<lora>): {STRENGTH.help}, "
        f"{STRENGTH.minimum:g} to {STRENGTH.maximum:g} ({STRENGTH.default:g})",
    )


# What a flag left out means: the model's recommended value, except for these.
FLAG_DEFAULTS = {"model_id": "SDXL", "seed": -1}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with settings_for(args) as settings, HeuristClient(settings=settings) as client:
            if args.command == "models":
                return list_models(client, sys.stdout)
            if args.command == "cost":
                return show_cost(client, args, sys.stdout)
            if args.command == "video":
                return cli_video.run(client, args, UsageError)
            return generate(client, args)
    except UsageError as error:
        print(f"heurist_ui: {error}", file=sys.stderr)
        return EXIT_USAGE
    except HeuristError as error:
        print(f"heurist_ui: {error}", file=sys.stderr)
        return EXIT_USAGE if error.status_code is None else EXIT_FAILED


@contextmanager
def settings_for(args: argparse.Namespace) -> Iterator[Settings]:
    """The settings (argument > environment > .env), pointed at a sandbox with --sandbox."""
    settings = load_settings(env_file=args.env_file)
    if getattr(args, "out", None) is not None:
        settings = replace(settings, output_dir=args.out)
    if not args.sandbox:
        yield settings
        return
    from .sandbox import Sandbox

    with Sandbox(port=0) as sandbox:
        yield sandbox_settings(
            settings,
            base_url=sandbox.url,
            models_url=sandbox.models_url,
            llm_base_url=sandbox.llm_base_url,
            workflow_url=sandbox.url,
        )


def list_models(client: HeuristClient, out: TextIO) -> int:
    catalog = client.catalog
    rows = [("MODEL", "KIND", "DEFAULT SIZE", "MAX SIZE", "STEPS")]
    for model in with_loras(catalog):
        d = model.defaults
        size, biggest = f"{d.width}×{d.height}", f"{d.max_width}×{d.max_height}"
        rows.append((model.name, model.kind, size, biggest, str(d.num_iterations)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(),
            file=out,
        )
    print(
        f"({len(catalog)} image models, from {SOURCES[catalog.source]}; then "
        f"{len(LORA_MODELS)} FLUX LoRAs of Heurist's workflow API)",
        file=sys.stderr,
    )
    return EXIT_OK


def show_cost(client: HeuristClient, args: argparse.Namespace, out: TextIO) -> int:
    """The price of the generate run these arguments describe: the same plan, nothing sent."""
    plans = plan(client, args)
    jobs = [job for request in plans for job in request.jobs]
    first, credits = job_settings(jobs[0]), sum(request.credits for request in plans)
    model = with_loras(client.catalog).get(args.model_id)
    what = plans[0].summary if len(plans) == 1 else f"{len(jobs)} images from {len(plans)} lines"
    page = Price(sum(request.price.credits for request in plans))
    print(
        f"{model.name} ({model.kind}), {first['width']}×{first['height']}, "
        f"{first['num_iterations']} steps: {credits / len(jobs):.3f} credits per image, "
        f"{credits:.3f} credits for {what}. "
        f"At Heurist's current prices: {page}.",
        file=out,
    )
    return EXIT_OK


def plan(client: HeuristClient, args: argparse.Namespace) -> list[Plan]:
    """The plan of each prompt of the run (a line, a plan), before anything is sent."""
    settings = {s.name: getattr(args, s.name) for s in SETTINGS[3:]}
    settings[STRENGTH.name] = getattr(args, STRENGTH.name)
    negative = args.neg_prompt
    if negative is None and (model := client.catalog.find(args.model_id)) is not None:
        negative = model.defaults.neg_prompt or ""
    plans: list[Plan] = []
    problems: list[str] = []
    for where, line in read_prompts(args):
        try:
            plans.append(
                plan_images(
                    client.catalog,
                    args.num_images,
                    line,
                    args.model_id,
                    neg_prompt=negative,
                    **settings,
                )
            )
        except HeuristError as error:
            problems.append(f"{where}: {error}" if where else str(error))
    if problems:
        raise UsageError(_problems(problems))
    return plans


def read_prompts(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(where, prompt) pairs: the prompt argument, or each non-blank, non-# line of the file."""
    if args.prompts is None:
        return [("", "-" if args.prompt is None else args.prompt)]  # cost needs no prompt
    try:
        text = args.prompts.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise UsageError(f"cannot read {args.prompts}: {reason}.") from None
    prompts = []
    # Only \n ends a line (\r\n too): str.splitlines would also split on U+2028, form feeds,
    # \x1c-\x1e and \x85, and run one line of the file as several prompts.
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r").strip()
        if not line or line.startswith("#"):
            continue
        prompts.append((f"{args.prompts.name} line {number}", line))
    if not prompts:
        raise UsageError(f"{args.prompts} has no prompts (one per line; # starts a comment).")
    return prompts


def _problems(problems: list[str]) -> str:
    """Every problem of a prompts file, one a line (the first MAX_PROBLEMS_SHOWN)."""
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    tail = [f"... and {more} more problem{'s' if more != 1 else ''}."] if more else []
    fix = "Nothing was sent: fix these lines, then run again."
    return "\n".join([*shown, *tail, fix]) if len(problems) > 1 else shown[0]


def generate(client: HeuristClient, args: argparse.Namespace) -> int:
    if not client.has_key:
        raise UsageError(
            "no Heurist API key. Set HEURIST_API_KEY=<user_id>#<api_key> in the environment or "
            "a .env file (or try --sandbox for an offline demo)."
        )
    check_key(client.settings.api_key)
    jobs = [job for request in plan(client, args) for job in request.jobs]
    runner = JobRunner(client, client.settings.output_dir, max_workers=args.concurrency)
    report = Report(len(jobs), sys.stdout, sys.stderr)
    pending: dict[Future, Any] = {}
    try:
        with interrupt_after():
            pending = runner.submit(jobs, None)
        report.drain(pending)
    except KeyboardInterrupt:
        return stop(runner, pending, report)
    finally:
        report.close()
    return report.finish()


def stop(runner: JobRunner, pending: dict[Future, Any], report: Report) -> int:
    """After Ctrl+C: drop the unsent jobs, wait for those already sent (they may be billed)."""
    dropped = sum(job.cancel() for job in pending)
    sent = [job for job in pending if not job.cancelled() and not job.done()]
    report.say(
        f"Stopping: {dropped} job{'s' if dropped != 1 else ''} not sent. Waiting for the "
        f"{len(sent)} already sent (they may be billed); Ctrl+C again to quit at once."
    )
    try:
        report.drain({job: pending[job] for job in sent})
    except KeyboardInterrupt:
        report.say(f"Quit. {report.summary()}")
        report.close()
        os._exit(EXIT_INTERRUPTED)  # jobs still at the API cannot be waited for any more
    runner.close()
    report.say(f"Stopped. {report.summary()}")
    return EXIT_INTERRUPTED


class Report:
    """Where each image went, a progress bar on a terminal, and the summary at the end."""

    def __init__(self, total: int, out: TextIO, err: TextIO) -> None:
        self.total, self.out, self.err = total, out, err
        self.saved: list[Path] = []
        self.failures: list[str] = []
        self.bar = _progress_bar(total, err)

    def drain(self, pending: dict[Future, tuple[int, GenerationParams]]) -> None:
        for job in as_completed(pending):
            self.add(outcome_of(job, *pending[job]))

    def add(self, outcome: Outcome) -> None:
        if outcome.image is not None:
            self.saved.append(outcome.image.path)
            print(outcome.image.path, file=self.out, flush=True)
        else:
            self.failures.append(str(outcome.error))
        if self.bar is not None:
            self.bar.update(1)

    def say(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=self.err)
        else:
            print(line, file=self.err, flush=True)

    def summary(self) -> str:
        folders = sorted({str(path.parent) for path in self.saved})
        where = f" in {', '.join(folders)}" if folders else ""
        return f"{len(self.saved)} of {self.total} images saved{where}."

    def finish(self) -> int:
        if self.failures:
            self.say(f"{summarize_failures(self.failures, self.total)} {self.summary()}")
            return EXIT_FAILED
        self.say(self.summary())
        return EXIT_OK

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _progress_bar(total: int, err: TextIO) -> Any:
    """A tqdm bar on a terminal; None (plain lines) when err is a file or a pipe."""
    if not err.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="image", file=err, dynamic_ncols=True)
