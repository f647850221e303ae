"""Batches: prepare a set of jobs, run them in parallel, hand back each image or error as it ends.

Plain Python, shared by every front end (the studio, the command line, the MCP tools).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .client import HeuristClient
from .download import download_image
from .errors import HeuristError
from .fields import MAX_IMAGES
from .jobkinds import kind_of
from .logbursts import Bursts
from .params import GenerationParams, check_count
from .pngfile import check_output_dir, save_png
from .retention import GRACE_SECONDS, Retention
from .workflow import DEFAULT_POLL_INTERVAL, TaskStatus, WorkflowClient

log = logging.getLogger(__name__)

__all__ = ["MAX_IMAGES", "JobRunner", "Outcome", "SavedImage", "check_count", "prepare_batch"]

MAX_RESULT_BYTES = 256 * 1024 * 1024  # a video's download limit (an image's is download.py's)
UNEXPECTED_FAILURE = "Something went wrong on our side. Try again."
# A failed job is one line; the same failure again and again (a hung API) one more line.
failed_jobs = Bursts(log)


@dataclass(frozen=True)
class SavedImage:
    """A finished job: the file on disk (PNG, JPEG, MP4, WebP) and its record."""

    path: Path
    record: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """How one job of a batch ended: an image, or the error that stopped it."""

    index: int  # the job's place in the batch
    params: GenerationParams  # or a WorkflowJob, for other kinds of job
    image: SavedImage | None = None
    error: HeuristError | None = None


def prepare_batch(
    client: HeuristClient, count: Any, prompt: Any, model_id: str, **settings: Any
) -> list[GenerationParams]:
    """Every job for these settings, validated (plan.plan_images' jobs); nothing is sent."""
    from .plan import plan_images  # plan builds on compare, which builds on this module

    return list(plan_images(client.catalog, count, prompt, model_id, **settings).jobs)


def summarize_failures(failures: Sequence[str], count: int) -> str:
    """One message for the failed jobs of a batch of count: how many, and the distinct reasons."""
    distinct = list(dict.fromkeys(failures))
    if count == 1:
        return distinct[0]
    head = f"{len(failures)} of {count} images failed. "
    return head + " ".join(distinct[:3])


StatusCallback = Callable[[int, TaskStatus], None]  # (the job's index, its task's status)


class JobRunner:
    """Runs jobs of every kind on one shared thread pool (they block on the network).

    A job's kind (jobkinds.kind_of) says how it runs: a GenerationParams is a still image, a
    WorkflowJob a workflow task (video, FLUX LoRA) polled until its output is ready.
    """

    def __init__(
        self,
        client: HeuristClient,
        output_dir: Path,
        *,
        max_workers: int,
        max_bytes: int | None = None,
        grace: float = GRACE_SECONDS,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        self.client = client
        self.output_dir = Path(output_dir)
        self.retention = Retention(self.output_dir, max_bytes, grace=grace)
        self.workers = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="heurist-job")
        self.workflow = WorkflowClient(client, poll_interval=poll_interval)

    def run_job(
        self,
        job: Any,
        api_key: str | None,
        on_status: Callable[[TaskStatus], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> SavedImage:
        """One job of any kind, run in the calling thread."""
        return kind_of(job).run(job, api_key, self, on_status, cancel)

    def download(self, url: str, verify: Callable[[bytes, str], None] | None = None) -> bytes:
        """A result's bytes from the image or the workflow host, checked by verify."""
        hosts = {urlparse(self.client.base_url).hostname, urlparse(self.workflow.base_url).hostname}
        return download_image(
            self.client.session,
            url,
            allowed_hosts=hosts - {None},
            deadline=self.client.download_deadline,
            max_bytes=MAX_RESULT_BYTES,
            verify=verify,
        )

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
        self,
        jobs: Sequence[GenerationParams],
        api_key: str | None,
        on_status: StatusCallback | None = None,
    ) -> AsyncIterator[Outcome]:
        """Run jobs in parallel, yielding each outcome as it ends.

        Closing or cancelling the iterator drops the jobs not yet sent; images in flight
        finish on their own (a sent job may be billed, so nothing resends or waits for it);
        workflow tasks in flight are canceled on Heurist's side.
        """
        cancel = threading.Event()
        futures = self.submit(jobs, api_key, on_status=on_status, cancel=cancel)
        # Cancelled here, not through asyncio's wrappers, whose callbacks may never run once
        # the caller's loop is gone.
        waiting = {asyncio.wrap_future(job): job for job in futures}
        try:
            while waiting:
                finished, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for job in finished:
                    yield outcome_of(job, *futures[waiting.pop(job)])
        finally:
            cancel.set()
            for job in futures:
                job.cancel()
            for wrapper, job in waiting.items():  # abandoned: their failures are still noted
                wrapper.add_done_callback(partial(_abandoned, job=futures[job]))

    def submit(
        self,
        jobs: Sequence[GenerationParams],
        api_key: str | None,
        *,
        on_status: StatusCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> dict[Future, tuple[int, GenerationParams]]:
        """Queue every job on the pool; each future maps to (its index, its params).

        on_status hears workflow tasks' statuses; setting cancel cancels tasks in flight.
        Raises HeuristError before anything is sent when results could not be saved.
        """
        check_output_dir(self.output_dir)
        return {
            self.workers.submit(
                self.run_job, params, api_key, _for_job(on_status, index), cancel
            ): (index, params)
            for index, params in enumerate(jobs)
        }

    def run(
        self,
        jobs: Sequence[GenerationParams],
        api_key: str | None,
        on_status: StatusCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Outcome]:
        """stream() for callers without an event loop; closing the iterator drops unsent jobs
        and cancels workflow tasks in flight (as setting cancel does)."""
        cancel = cancel or threading.Event()
        futures = self.submit(jobs, api_key, on_status=on_status, cancel=cancel)
        try:
            for job in as_completed(futures):
                yield outcome_of(job, *futures[job])
        finally:
            cancel.set()
            for job in futures:
                job.cancel()

    def close(self) -> None:
        self.workers.shutdown(wait=False, cancel_futures=True)


def _for_job(on_status: StatusCallback | None, index: int) -> Callable[[TaskStatus], None] | None:
    if on_status is None:
        return None
    return lambda status: on_status(index, status)


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
