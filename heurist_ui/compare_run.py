"""Running a compare grid: every cell through the one job runner, each as it ends, then the grid.

Plain Python for every front end (the page's Compare tab and /compare use it): the front end
plans the grid (plan.plan_grid_request), admits it, and shows each GridStep.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from PIL import Image

from .batch import JobRunner, SavedImage
from .compare import GridPlan, cell_thumbnail, save_grid
from .errors import HeuristError

log = logging.getLogger(__name__)

Place = tuple[int, int]  # (row, column)


class EveryCellFailed(HeuristError):
    """No cell of the grid arrived; the message is the first cell's error."""


class GridNotSaved(HeuristError):
    """Every cell ran, but the grid and its ZIP could not be written."""


GRID_NOT_SAVED = (
    "Every cell arrived (they are shown), but the grid and its ZIP could not be saved on this "
    "server. Download the cells one by one, or ask the studio's owner to check its disk."
)


@dataclass(frozen=True)
class GridStep:
    """A grid as it runs: the cells that arrived, the ones that failed; at the end its files."""

    plan: GridPlan
    images: Mapping[Place, SavedImage]
    errors: Mapping[Place, str]
    grid_path: Path | None = None  # the labelled grid, once saved
    zip_path: Path | None = None  # the grid and every cell, once saved

    @property
    def done(self) -> int:
        return len(self.images) + len(self.errors)

    @property
    def total(self) -> int:
        return len(self.plan.cells)

    def gallery(self) -> list[tuple[str, str]]:
        """The cells that arrived, in grid order, each with its caption."""
        labels = self.plan.column_labels
        return [
            (str(self.images[(c.row, c.column)].path), f"{c.model} · {labels[c.column]}")
            for c in self.plan.cells
            if (c.row, c.column) in self.images
        ]

    def records(self) -> list[dict[str, Any]]:
        """One record per cell so far, row-major: the image's record plus row and column, or
        the cell's settings and its error."""
        records = []
        for cell in self.plan.cells:
            place = (cell.row, cell.column)
            if place in self.images:
                record = dict(self.images[place].record)
            elif place in self.errors:
                record = {**cell.record(), "error": self.errors[place]}
            else:
                continue
            records.append({**record, "row": cell.row, "column": cell.column})
        return records


async def run_grid(
    runner: JobRunner, plan: GridPlan, api_key: str | None
) -> AsyncIterator[GridStep]:
    """Run every cell at once; a step after each cell ends, then one with the grid's files.

    Raises HeuristError before anything is sent when results could not be saved,
    EveryCellFailed when no cell arrived, and GridNotSaved (after a step with every cell)
    when the grid could not be written. The cells stay on disk, whatever the storage cap,
    until they are zipped; each arrived cell's thumbnail for the grid is made in a thread
    while the others still run. Closing the iterator drops the cells not yet sent.
    """
    images: dict[Place, SavedImage] = {}
    errors: dict[Place, str] = {}
    thumbnails: dict[Place, asyncio.Future[Image.Image]] = {}
    with runner.retention.in_use() as held:
        async for outcome in runner.stream([cell.params for cell in plan.cells], api_key):
            cell = plan.cells[outcome.index]
            place = (cell.row, cell.column)
            if outcome.image is None:
                errors[place] = str(outcome.error)
            else:
                held.add(outcome.image.path)
                images[place] = outcome.image
                thumbnails[place] = asyncio.ensure_future(
                    asyncio.to_thread(cell_thumbnail, plan, outcome.image.path)
                )
            yield _step(plan, images, errors)
        if not images:
            raise EveryCellFailed(next(iter(errors.values())))
        made = {place: await task for place, task in thumbnails.items()}
        # Drawing, encoding and zipping take a tenth of a second or more: not on the event loop.
        try:
            grid_path, zip_path = await asyncio.to_thread(
                save_grid, plan, images, errors, runner.output_dir, made
            )
        except OSError:  # a full disk, say: the cells are there, the grid is not
            log.warning("A compare grid could not be saved", exc_info=True)
            raise GridNotSaved(GRID_NOT_SAVED) from None
        held.update((grid_path, zip_path))
        runner.retention.add(grid_path)
        runner.retention.add(zip_path)
    yield _step(plan, images, errors, grid_path, zip_path)


def _step(plan: GridPlan, images: dict, errors: dict, *paths: Path) -> GridStep:
    """A snapshot: later cells do not change a step already handed out."""
    return GridStep(plan, MappingProxyType(dict(images)), MappingProxyType(dict(errors)), *paths)
