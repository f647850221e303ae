"""Batches on a page: one batch's results as they arrive, and the batches a page runs at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from ..batch import Outcome, summarize_failures
from ..errors import HeuristError
from ..params import GenerationParams
from .errors import user_error
from .results import caption_for
from .studio import Studio

View = tuple[list[tuple[str, str]], list[dict[str, Any]]]  # (gallery, records)


@dataclass
class Batch:
    """One batch's images, records and failures so far."""

    count: int
    gallery: list[tuple[str, str]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.gallery) + len(self.failures)

    def add(self, outcome: Outcome) -> None:
        if outcome.image is None:
            self.failures.append(str(outcome.error))
        else:
            self.gallery.append((str(outcome.image.path), caption_for(outcome.image.record)))
            self.records.append(outcome.image.record)

    def view(self) -> View:
        return list(self.gallery), list(self.records)

    def report(self) -> None:
        """Tell the user what failed: an error if nothing arrived, else a warning."""
        if self.failures and not self.records:
            raise user_error(
                summarize_failures(self.failures, self.count), title="Generation failed"
            )
        if self.failures:
            gr.Warning(summarize_failures(self.failures, self.count))


@dataclass
class _Page:
    batches: list[Batch] = field(default_factory=list)
    running: int = 0


class PageBatches:
    """The batches each page (session) has running: one started meanwhile joins the others.

    A batch started when none runs replaces what the page showed. Everything runs on the event
    loop, so no lock is needed.
    """

    def __init__(self) -> None:
        self._pages: dict[str, _Page] = {}

    def start(self, session: str, batch: Batch) -> None:
        page = self._pages.setdefault(session, _Page())
        page.batches.append(batch)
        page.running += 1

    def end(self, session: str) -> None:
        page = self._pages[session]
        page.running -= 1
        if page.running == 0:
            del self._pages[session]

    def view(self, session: str) -> View:
        """Every running batch's results, in the order the batches started."""
        batches = self._pages[session].batches
        return (
            [item for batch in batches for item in batch.gallery],
            [record for batch in batches for record in batch.records],
        )


async def stream_batch(
    studio: Studio,
    batch: Batch,
    jobs: Sequence[GenerationParams],
    key: str | None,
    progress: gr.Progress,
    view: Callable[[], View],
) -> AsyncIterator[View]:
    """Run jobs, adding each outcome to batch and yielding view() after each."""
    # No empty first yield to clear the gallery: Gradio then sometimes never draws the
    # progress bar. The first image replaces the old ones.
    progress((0, batch.count), desc=counted(0, batch.count, "image"), unit="images")
    try:
        async for outcome in studio.runner.stream(jobs, key):
            batch.add(outcome)
            desc = counted(batch.done, batch.count, "image")
            progress((batch.done, batch.count), desc=desc, unit="images")
            yield view()
    except HeuristError as error:  # refused before anything was sent
        raise user_error(str(error), title="Nothing was sent") from None


def counted(done: int, total: int, noun: str) -> str:
    """Progress in the words of what is counted: '2 of 4 images', '1 of 1 image'."""
    return f"{done} of {total} {noun}{'' if total == 1 else 's'}"
