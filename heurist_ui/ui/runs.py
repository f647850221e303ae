"""Batches on a page: one batch's results as they arrive, and the batches a page runs at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from ..batch import Outcome
from ..bundled import IMAGE_GONE_PNG
from ..errors import HeuristError
from ..params import GenerationParams
from .errors import user_error, warn
from .messages import ENGLISH, error_text, failures_text, progress_text, title
from .results import caption_for
from .studio import Studio

View = tuple[list[tuple[str, str]], list[dict[str, Any]]]  # (gallery, records)


@dataclass(eq=False)  # each batch is itself: compared by identity
class Batch:
    """One batch's images, records and failures so far; its messages in language."""

    count: int
    language: str = ENGLISH
    gallery: list[tuple[str, str]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.gallery) + len(self.failures)

    def add(self, outcome: Outcome) -> None:
        if outcome.image is None:
            self.failures.append(error_text(outcome.error, self.language))
        else:
            self.gallery.append((str(outcome.image.path), caption_for(outcome.image.record)))
            self.records.append(outcome.image.record)

    def view(self) -> View:
        return still_there(self.gallery), list(self.records)

    def report(self) -> None:
        """Tell the user what failed: an error if nothing arrived, else a warning."""
        if not self.failures:
            return
        summary = failures_text(self.failures, self.count, self.language)
        if not self.records:
            raise user_error(summary, title=title(self.language, "failed"))
        warn(summary)


@dataclass
class _Page:
    batches: list[Batch] = field(default_factory=list)
    running: list[Batch] = field(default_factory=list)


KEPT_IMAGES = 200  # images a page keeps on screen, newest first, until Clear


class PageBatches:
    """The batches of each page (session): running ones, and finished ones kept on screen.

    A batch started while others run joins them; finished batches stay, newest first, until
    the page clears them or closes. Everything runs on the event loop, so no lock is needed.
    """

    def __init__(self) -> None:
        self._pages: dict[str, _Page] = {}

    def start(self, session: str, batch: Batch) -> None:
        page = self._pages.setdefault(session, _Page())
        page.batches.append(batch)
        page.running.append(batch)

    def end(self, session: str, batch: Batch) -> None:
        page = self._pages.get(session)
        if page is None:  # the page closed meanwhile
            return
        page.running = [other for other in page.running if other is not batch]
        kept, shown = [], 0
        for batch in reversed(page.batches):  # the oldest beyond KEPT_IMAGES go
            if shown >= KEPT_IMAGES:
                break
            kept.append(batch)
            shown += len(batch.gallery)
        page.batches = kept[::-1]

    def view(self, session: str) -> View:
        """Every batch's results, the newest batch first."""
        page = self._pages.get(session)
        batches = page.batches[::-1] if page else []
        return (
            still_there(item for batch in batches for item in batch.gallery),
            [record for batch in batches for record in batch.records],
        )

    def clear(self, session: str) -> View:
        """Forget the page's finished batches (running ones go on); what the page shows now."""
        page = self._pages.get(session)
        if page is not None:
            page.batches = list(page.running)
            if not page.batches:
                del self._pages[session]
        return self.view(session)

    def forget(self, session: str) -> None:
        """The page closed: let its results go."""
        self._pages.pop(session, None)


async def stream_batch(
    studio: Studio,
    batch: Batch,
    jobs: Sequence[GenerationParams],
    key: str | None,
    progress: gr.Progress,
    view: Callable[[], View],
) -> AsyncIterator[View]:
    """Run jobs, adding each outcome to batch and yielding view() after each."""
    # No empty first yield: Gradio then sometimes never draws the progress bar.
    language = batch.language
    desc = progress_text(language, 0, batch.count, "image")
    progress((0, batch.count), desc=desc, unit="images")
    # This batch's files stay, whatever the storage cap, until its last view has been sent.
    with studio.runner.retention.in_use() as held:
        try:
            async for outcome in studio.runner.stream(jobs, key):
                if outcome.image is not None:
                    held.add(outcome.image.path)
                batch.add(outcome)
                desc = progress_text(language, batch.done, batch.count, "image")
                progress((batch.done, batch.count), desc=desc, unit="images")
                yield view()
        except HeuristError as error:  # refused before anything was sent
            message, heading = error_text(error, language), title(language, "nothing_sent")
            raise user_error(message, title=heading) from None


def wire_clear(demo: gr.Blocks, pages: PageBatches, gallery: Any, records: Any, clear: Any) -> None:
    """Clear empties the page's results (running batches go on); a closed page's are let go."""

    def clear_results(request: gr.Request) -> View:
        return pages.clear(request.session_hash or "")

    clear.click(
        clear_results,
        None,
        [gallery, records],
        concurrency_limit=None,  # queued, never waiting: only queued events know their page
        show_progress="hidden",
        api_visibility="private",
    )

    def let_go(request: gr.Request) -> None:
        pages.forget(request.session_hash or "")

    demo.unload(let_go)


def still_there(gallery: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The gallery, an image the storage cap has deleted since shown as "image gone" (Gradio
    fails a whole update, with no message, on a file that is not there)."""
    return [
        (path if Path(path).exists() else str(IMAGE_GONE_PNG), caption) for path, caption in gallery
    ]
