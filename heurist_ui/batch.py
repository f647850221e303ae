"""Batches: prepare a set of jobs, run them in parallel, hand back each image or error as it ends.

Plain Python, shared by every front end (the studio, the command line, the MCP tools).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .client import HeuristClient
from .errors import HeuristError, InvalidRequestError
from .logbursts import Bursts
from .params import MAX_SEED, GenerationParams, check_seed, resolve_seed
from .pngfile import check_output_dir, save_png
from .retention import Retention
from .variations import Variation, plan_variations, with_templates

log = logging.getLogger(__name__)

MAX_IMAGES = 8  # images per batch
UNEXPECTED_FAILURE = "Something went wrong on our side. Try again."
# A failed job is one line; the same failure again and again (a hung API) one more line.
failed_jobs = Bursts(log)


@dataclass(frozen=True)
class SavedImage:
    """A finished job: the PNG on disk and the record inside it."""

    path: Path
    record: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """How one job of a batch ended: an image, or the error that stopped it."""

    index: int  # the job's place in the batch
    params: GenerationParams
    image: SavedImage | None = None
    error: HeuristError | None = None


def check_count(value: Any, maximum: int = MAX_IMAGES) -> int:
    """A number of images from 1 to maximum."""
    problem = f"Images must be a whole number from 1 to {maximum}."
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidRequestError(problem) from None
    if not number.is_integer() or not 1 <= number <= maximum:
        raise InvalidRequestError(problem)
    return int(number)


def prepare_batch(
    client: HeuristClient, count: Any, prompt: Any, model_id: str, **settings: Any
) -> list[GenerationParams]:
    """Every job for these settings, validated; raises InvalidRequestError before anything is sent.

    {a|b} variations in the prompt or negative prompt each run count times, their templates
    noted in the record. A fixed seed s gives s, s+1, ... (as A1111 does) for each variation,
    so they compare like with like; -1 gives each image a random seed.
    """
    count = check_count(count)
    neg_prompt = settings.pop("neg_prompt", "")
    if isinstance(prompt, str) and isinstance(neg_prompt, str):
        variations = plan_variations(prompt, neg_prompt, count)
    else:  # not text: validation says so below
        variations = [Variation(prompt, neg_prompt)]
    jobs: list[GenerationParams] = []
    for variation in variations:
        batch = _seeded(client, count, variation.prompt, model_id, variation.neg_prompt, settings)
        jobs += [with_templates(job, prompt, neg_prompt) for job in batch]
    return jobs


def _seeded(
    client: HeuristClient,
    count: int,
    prompt: Any,
    model_id: str,
    neg_prompt: Any,
    settings: dict[str, Any],
) -> list[GenerationParams]:
    first = client.prepare(prompt, model_id, neg_prompt=neg_prompt, **settings)
    seed = settings.get("seed")
    fixed_seed = check_seed(-1 if seed is None else seed) >= 0
    if fixed_seed and first.seed + count - 1 > MAX_SEED:
        raise InvalidRequestError(
            f"With {count} images the seed must be at most {MAX_SEED - count + 1} "
            "(each image uses the next seed)."
        )
    return [first] + [
        first.with_seed(first.seed + i if fixed_seed else resolve_seed(-1)) for i in range(1, count)
    ]


def summarize_failures(failures: Sequence[str], count: int) -> str:
    """One message for the failed jobs of a batch of count: how many, and the distinct reasons."""
    distinct = list(dict.fromkeys(failures))
    if count == 1:
        return distinct[0]
    head = f"{len(failures)} of {count} images failed. "
    return head + " ".join(distinct[:3])


class JobRunner:
    """Runs jobs on one shared thread pool (they block on the network: one thread each)."""

    def __init__(
        self,
        client: HeuristClient,
        output_dir: Path,
        *,
        max_workers: int,
        max_bytes: int | None = None,
    ) -> None:
        self.client = client
        self.output_dir = Path(output_dir)
        self.retention = Retention(self.output_dir, max_bytes)
        self.workers = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="heurist-job")

    def make_image(self, params: GenerationParams, api_key: str | None) -> SavedImage:
        """One job: submit, download, save with metadata."""
        started = time.monotonic()
        result = self.client.submit(params, api_key=api_key)
        data = self.client.download(result.url)
        record = result.to_record()
        # The time the user waited for the image, the same in the page and in the PNG.
        record["elapsed_s"] = round(time.monotonic() - started, 3)
        path = save_png(data, record, self.output_dir)
        self.retention.add(path)
        return SavedImage(path, record)

    async def stream(
        self, jobs: Sequence[GenerationParams], api_key: str | None
    ) -> AsyncIterator[Outcome]:
        """Run jobs in parallel, yielding each outcome as it ends.

        Closing or cancelling the iterator drops the jobs not yet sent; those in flight finish
        on their own (a sent job may be billed, so nothing resends or waits for it).
        """
        futures = self.submit(jobs, api_key)
        # Cancelled here, not through asyncio's wrappers, whose callbacks may never run once
        # the caller's loop is gone.
        waiting = {asyncio.wrap_future(job): job for job in futures}
        try:
            while waiting:
                finished, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for job in finished:
                    yield outcome_of(job, *futures[waiting.pop(job)])
        finally:
            for job in futures:
                job.cancel()
            for wrapper, job in waiting.items():  # abandoned: their failures are still noted
                wrapper.add_done_callback(partial(_abandoned, job=futures[job]))

    def submit(
        self, jobs: Sequence[GenerationParams], api_key: str | None
    ) -> dict[Future, tuple[int, GenerationParams]]:
        """Queue every job on the pool; each future maps to (its index, its params).

        Raises HeuristError before anything is sent when images could not be saved.
        """
        check_output_dir(self.output_dir)
        return {
            self.workers.submit(self.make_image, params, api_key): (index, params)
            for index, params in enumerate(jobs)
        }

    def run(self, jobs: Sequence[GenerationParams], api_key: str | None) -> Iterator[Outcome]:
        """stream() for callers without an event loop; closing the iterator drops unsent jobs."""
        futures = self.submit(jobs, api_key)
        try:
            for job in as_completed(futures):
                yield outcome_of(job, *futures[job])
        finally:
            for job in futures:
                job.cancel()

    def close(self) -> None:
        self.workers.shutdown(wait=False, cancel_futures=True)


def outcome_of(job: asyncio.Future | Future, index: int, params: GenerationParams) -> Outcome:
    """How a finished job ended; an unexpected exception is logged and reported plainly."""
    try:
        image = job.result()
    except HeuristError as error:
        failed_jobs.note(f"A job failed: {error}")
        return Outcome(index, params, error=error)
    except Exception:
        log.exception("A job failed unexpectedly")
        return Outcome(index, params, error=HeuristError(UNEXPECTED_FAILURE))
    return Outcome(index, params, image=image)


def _abandoned(wrapper: asyncio.Future, job: tuple[int, GenerationParams]) -> None:
    """How an abandoned job ended, noted (else asyncio logs a traceback: never retrieved)."""
    if not wrapper.cancelled():
        outcome_of(wrapper, *job)
