"""Compare grids: models in rows, one setting's values in columns, every cell its own job.

Plain Python for any front end: plan_grid checks and plans every cell before anything is sent,
draw_grid draws the labelled grid with Pillow (compare_run.py runs a grid). A row is an image
model of the catalogue, or a FLUX LoRA (`flux-lora:<lora>`), whose cells are workflow jobs.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from .batch import SavedImage
from .catalog import ModelCatalog
from .cost import Price, estimate_credits, estimate_price
from .download import IMAGE_FORMATS
from .errors import InvalidRequestError
from .fields import SETTINGS
from .flux_lora import FLUX_LORA_KINDS, flux_lora
from .jobkinds import Setting, WorkflowJob, WorkflowKind
from .params import MAX_PROMPT_CHARS, SIZE_STEP, GenerationParams, check_seed, prepare, resolve_seed
from .pngfile import save_png

AXES = ("seed", "steps", "guidance", "prompt")  # named as in links (fields.SETTINGS' query)
AXIS_SETTINGS = {s.query: s.name for s in SETTINGS if s.query in AXES}
MAX_MODELS = 8
MAX_VALUES = 6
MAX_CELLS = 48
CELL_SIDE = 320  # pixels, the longest side of each image in the grid
LABEL_WIDTH = 220
HEADER_HEIGHT = 64
GAP = 6
LORA_ROW_PREFIX = "flux-lora:"  # a FLUX-LoRA row's value: flux-lora:<lora>, its kind's name
# The grid's settings by the name a workflow kind gives them (the grid's seed is its noise_seed).
WORKFLOW_NAMES = {"num_iterations": "steps", "seed": "noise_seed"}


@dataclass(frozen=True)
class Cell:
    """One job of the grid: its place and its validated parameters (a LoRA row's: a WorkflowJob)."""

    row: int
    column: int
    params: GenerationParams | WorkflowJob

    @property
    def model(self) -> str:
        """The model, as its records name it."""
        p = self.params
        return p.model_id if isinstance(p, GenerationParams) else p.kind.label

    @property
    def size(self) -> tuple[int, int]:
        p = self.params
        if isinstance(p, GenerationParams):
            return p.width, p.height
        return int(p.values["width"]), int(p.values["height"])

    def setting(self, name: str) -> Any:
        """A grid setting (GenerationParams' name) of this cell; None where its kind has none."""
        p = self.params
        if isinstance(p, GenerationParams):
            return getattr(p, name)
        if name == "prompt":
            return p.prompt
        return p.values.get(WORKFLOW_NAMES.get(name, name))

    def credits(self) -> float:
        """The cell's estimate in the seed document's standard unit (a LoRA's: its page price)."""
        p = self.params
        if isinstance(p, GenerationParams):
            return estimate_credits(p.model_type, p.width, p.height, p.num_iterations)
        return p.credits or 0.0

    def page_credits(self) -> float:
        """The cell at Heurist's current credits-page prices."""
        p = self.params
        if isinstance(p, GenerationParams):
            return estimate_price(p.model_type, p.width, p.height, p.num_iterations).credits
        return p.credits or 0.0

    def record(self) -> dict[str, Any]:
        """What a record says of the cell before it runs: its settings as its kind names them."""
        p = self.params
        return p.settings() if isinstance(p, GenerationParams) else p.record()


@dataclass(frozen=True)
class GridPlan:
    """Every cell of a grid, with the labels of its rows and columns."""

    axis: str
    values: tuple[str, ...]
    row_labels: tuple[str, ...]
    cells: tuple[Cell, ...]  # row-major

    @property
    def column_labels(self) -> tuple[str, ...]:
        return tuple(f"{self.axis} {value}" for value in self.values)

    def row_credits(self) -> list[float]:
        """The estimated credits of each row (a FLUX row costs four times an SDXL row)."""
        totals = [0.0] * len(self.row_labels)
        for cell in self.cells:
            totals[cell.row] += cell.credits()
        return totals

    def row_prices(self) -> list[Price]:
        """Each row at Heurist's current credits-page prices."""
        totals = [0.0] * len(self.row_labels)
        for cell in self.cells:
            totals[cell.row] += cell.page_credits()
        return [Price(credits) for credits in totals]

    def page_price(self) -> Price:
        """The whole grid at Heurist's current credits-page prices."""
        return Price(sum(c.page_credits() for c in self.cells))


def parse_values(axis: str, text: Any) -> list[str]:
    """The column values typed by the user: `1, 2, 3`, or one prompt a line."""
    if axis not in AXES:
        raise InvalidRequestError(f"The axis must be one of {', '.join(AXES)}, not {axis!r}.")
    raw = str(text or "")
    if len(raw) > MAX_VALUES * (MAX_PROMPT_CHARS + 1):  # before any work on it
        raise InvalidRequestError(
            f"The {axis} values are too long ({len(raw)} characters; at most {MAX_VALUES} "
            f"values of {MAX_PROMPT_CHARS})."
        )
    parts = raw.splitlines() if axis == "prompt" else raw.replace("\n", ",").split(",")
    values = [part.strip() for part in parts if part.strip()]
    if not values:
        hint = "one prompt a line" if axis == "prompt" else "numbers separated by commas, e.g. 1, 2"
        raise InvalidRequestError(f"Type the {axis} values to compare ({hint}).")
    if len(values) > MAX_VALUES:
        raise InvalidRequestError(f"At most {MAX_VALUES} {axis} values, not {len(values)}.")
    if axis != "prompt":
        for value in values:
            try:
                number = float(value)
            except ValueError:
                raise InvalidRequestError(
                    f"The {axis} value {value[:30]!r} is not a number. Type numbers separated "
                    "by commas, e.g. 1, 2, 3."
                ) from None
            if axis != "guidance" and not number.is_integer():
                raise InvalidRequestError(f"The {axis} value {value!r} must be a whole number.")
    normal = [str(float(v)) for v in values] if axis != "prompt" else values
    duplicates = sorted({v for v, n in zip(values, normal, strict=True) if normal.count(n) > 1})
    if duplicates:
        raise InvalidRequestError(
            f"The {axis} values repeat ({', '.join(duplicates)}): each column must differ."
        )
    return values


def plan_grid(
    catalog: ModelCatalog,
    *,
    prompt: Any,
    neg_prompt: Any,
    model_ids: Any,
    axis: str,
    values: Any,
    width: Any,
    height: Any,
    num_iterations: Any,
    guidance_scale: Any,
    seed: Any,
    add_triggers: bool = False,
) -> GridPlan:
    """Every cell checked against its model; raises InvalidRequestError before anything is sent."""
    models = _models(catalog, model_ids)
    columns = parse_values(axis, values)
    if len(models) * len(columns) > MAX_CELLS:
        raise InvalidRequestError(
            f"{len(models)} models × {len(columns)} values is {len(models) * len(columns)} "
            f"cells; at most {MAX_CELLS}."
        )
    workflow_rows = [model.label for model in models if isinstance(model, WorkflowKind)]
    if workflow_rows and axis == "guidance":
        raise InvalidRequestError(
            f"{workflow_rows[0]} takes no guidance scale, so its cells would all be the same. "
            "Compare seeds, steps or prompts, or remove the FLUX LoRA rows."
        )
    grid_seed = resolve_seed(check_seed(-1 if seed in (None, "") else seed))  # one for the grid
    cells, labels = [], []
    for row, model in enumerate(models):
        if isinstance(model, WorkflowKind):
            size, scaled = _fit_workflow(model, width, height)
            name = model.label
        else:
            size, scaled = _fit(model, width, height)
            name = model.name
        labels.append(name if not scaled else f"{name} (scaled to {size[0]}x{size[1]})")
        for column, value in enumerate(columns):
            settings: dict[str, Any] = {
                "prompt": prompt,
                "neg_prompt": neg_prompt,
                "width": size[0],
                "height": size[1],
                "num_iterations": num_iterations,
                "guidance_scale": guidance_scale,
                "seed": grid_seed,
                AXIS_SETTINGS[axis]: value,
            }
            if isinstance(model, WorkflowKind):
                cells.append(Cell(row, column, _workflow_job(model, settings)))
                continue
            if add_triggers and model.autofill:
                settings["prompt"] = _with_trigger(str(settings["prompt"] or ""), model.autofill)
            params = prepare(catalog, settings.pop("prompt"), model.name, **settings)
            cells.append(Cell(row, column, params))
    return GridPlan(axis, tuple(columns), tuple(labels), tuple(cells))


def _models(catalog: ModelCatalog, model_ids: Any) -> list:
    names = [model_ids] if isinstance(model_ids, str) else list(model_ids or [])
    names = [str(name).strip() for name in names if str(name).strip()]
    if not names:
        raise InvalidRequestError("Pick at least one model to compare.")
    if len(names) > MAX_MODELS:
        raise InvalidRequestError(f"At most {MAX_MODELS} models, not {len(names)}.")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidRequestError(f"Each model once, please: {', '.join(repeated)} repeats.")
    return [
        flux_lora(name[len(LORA_ROW_PREFIX) :])
        if name.startswith(LORA_ROW_PREFIX)
        else catalog.get(name)
        for name in names
    ]


def lora_rows() -> list[tuple[str, str]]:
    """The FLUX LoRAs a grid takes as rows: (label, value) pairs, value flux-lora:<lora>."""
    return [(kind.label, kind.name) for kind in FLUX_LORA_KINDS.values()]


def _workflow_job(kind: WorkflowKind, settings: dict[str, Any]) -> WorkflowJob:
    """A LoRA cell: the grid's prompt, size, steps and seed (the kind has no negative prompt)."""
    takes = {setting.name for setting in kind.settings}
    values = {WORKFLOW_NAMES.get(name, name): value for name, value in settings.items()}
    return kind.prepare(
        values.pop("prompt"), **{name: v for name, v in values.items() if name in takes}
    )


def _positive(width: Any, height: Any) -> tuple[float, float] | None:
    """(width, height) as finite positive numbers, or None for validation to explain."""
    try:
        w, h = float(width), float(height)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(w) and math.isfinite(h)) or w <= 0 or h <= 0:
        return None
    return w, h


def _fit(model: Any, width: Any, height: Any) -> tuple[tuple[Any, Any], bool]:
    """The size for this model's row: scaled down, keeping the aspect, if above its maximum."""
    d, size = model.defaults, _positive(width, height)
    if size is None:
        return (width, height), False  # validation explains
    w, h = size
    factor = min(1.0, d.max_width / w, d.max_height / h)
    if factor >= 1.0:
        return (width, height), False
    fitted = (int(w * factor) // SIZE_STEP * SIZE_STEP, int(h * factor) // SIZE_STEP * SIZE_STEP)
    return fitted, True


def _fit_workflow(kind: WorkflowKind, width: Any, height: Any) -> tuple[tuple[Any, Any], bool]:
    """A LoRA row's size: within its kind's bounds, in multiples of its step, keeping the aspect."""
    bounds = {setting.name: setting for setting in kind.settings}
    across, down = bounds["width"], bounds["height"]
    size = _positive(width, height)
    if size is None:
        return (width, height), False  # validation explains
    w, h = size
    factor = max(1.0, across.minimum / w, down.minimum / h)
    factor = min(factor, across.maximum / w, down.maximum / h)
    fitted = (_snap(w * factor, across), _snap(h * factor, down))
    return fitted, fitted != (w, h)


def _snap(value: float, setting: Setting) -> int:
    step = setting.multiple
    return int(min(setting.maximum, max(setting.minimum, round(value / step) * step)))


def _with_trigger(prompt: str, trigger: str) -> str:
    if trigger.lower() in prompt.lower():
        return prompt
    return f"{trigger}, {prompt}" if prompt.strip() else trigger


def cell_thumbnail(plan: GridPlan, path: str | Path) -> Image.Image:
    """A cell's image at its size in the grid (made as each cell arrives, off the event loop)."""
    with Image.open(path, formats=IMAGE_FORMATS) as image:
        image.thumbnail(_cell_size(plan))
        return image.convert("RGB")


def draw_grid(
    plan: GridPlan,
    results: Mapping[tuple[int, int], str | Path | Image.Image],
    errors: Mapping[tuple[int, int], str],
) -> Image.Image:
    """The labelled grid: each cell's image (a path, or its cell_thumbnail), or its error."""
    rows, columns = len(plan.row_labels), len(plan.values)
    cell_w, cell_h = _cell_size(plan)
    grid = Image.new(
        "RGB",
        (LABEL_WIDTH + columns * (cell_w + GAP), HEADER_HEIGHT + rows * (cell_h + GAP)),
        "white",
    )
    draw = ImageDraw.Draw(grid)
    label_font, small_font = ImageFont.load_default(size=20), ImageFont.load_default(size=15)
    for column, label in enumerate(plan.column_labels):
        x = LABEL_WIDTH + column * (cell_w + GAP)
        _text(draw, (x + 6, 8), _short(label, cell_w, 20), label_font, width=cell_w - 12)
    for row, label in enumerate(plan.row_labels):
        y = HEADER_HEIGHT + row * (cell_h + GAP)
        _text(draw, (8, y + 8), label, label_font, width=LABEL_WIDTH - 16)
        for column in range(columns):
            box = (LABEL_WIDTH + column * (cell_w + GAP), y)
            if (row, column) in results:
                result = results[(row, column)]
                thumbnail = result if isinstance(result, Image.Image) else None
                grid.paste(thumbnail or cell_thumbnail(plan, result), box)
            else:
                message = errors.get((row, column), "not generated")
                draw.rectangle((*box, box[0] + cell_w, box[1] + cell_h), fill="#fee2e2")
                _text(
                    draw,
                    (box[0] + 10, box[1] + 10),
                    f"Failed: {message}",
                    small_font,
                    width=cell_w - 20,
                    fill="#991b1b",
                )
    return grid


def _cell_size(plan: GridPlan) -> tuple[int, int]:
    """A box every image fits in, keeping its aspect: as wide as the widest, tall as the tallest."""
    ratios = [c.size[0] / c.size[1] for c in plan.cells]
    widest, tallest = max(ratios), min(ratios)
    width = CELL_SIDE if widest >= 1 else int(CELL_SIDE * widest)
    height = CELL_SIDE if tallest <= 1 else int(CELL_SIDE / tallest)
    return width, height


def _short(text: str, width: int, size: int) -> str:
    limit = max(8, width // (size // 2))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    text: str,
    font: Any,
    *,
    width: int,
    fill: str = "black",
) -> None:
    characters = max(8, width // 9)
    lines = textwrap.wrap(text, characters)[:8]
    draw.multiline_text(xy, "\n".join(lines), font=font, fill=fill, spacing=4)


def grid_record(plan: GridPlan, cells: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the grid's PNG says about it: the shared settings, the axis and every cell."""
    images = [c for c in plan.cells if isinstance(c.params, GenerationParams)]
    first = (images or plan.cells)[0]  # an image model's cell, which has every setting
    shared = ("seed", "width", "height", "num_iterations", "guidance_scale")
    return {
        "prompt": first.params.prompt if plan.axis != "prompt" else "(compare grid of prompts)",
        "neg_prompt": first.setting("neg_prompt") or "",
        "model_id": ", ".join(dict.fromkeys(c.model for c in plan.cells)),
        **{name: first.setting(name) for name in shared if first.setting(name) is not None},
        "job_id": "grid",
        "grid": {
            "axis": plan.axis,
            "values": list(plan.values),
            "rows": list(plan.row_labels),
            "cells": [
                {k: cell.get(k) for k in ("row", "column", "job_id", "seed", "error") if k in cell}
                for cell in cells
            ],
        },
    }


def save_grid(
    plan: GridPlan,
    images: Mapping[tuple[int, int], SavedImage],
    errors: Mapping[tuple[int, int], str],
    output_dir: str | Path,
    thumbnails: Mapping[tuple[int, int], Image.Image] | None = None,
) -> tuple[Path, Path]:
    """The grid as a PNG that describes it, and a ZIP of it with every cell, in grid order.

    thumbnails, made with cell_thumbnail as the cells arrived, spare decoding them again.
    """
    thumbnails = thumbnails or {}
    results = {place: thumbnails.get(place) or image.path for place, image in images.items()}
    grid = draw_grid(plan, results, errors)
    buffer = io.BytesIO()
    grid.save(buffer, format="PNG", compress_level=1)  # a fifth of level 6's time, a bit larger
    cells = [
        {
            "row": c.row,
            "column": c.column,
            **_cell_note(images.get((c.row, c.column)), errors.get((c.row, c.column))),
        }
        for c in plan.cells
    ]
    grid_path = save_png(buffer.getvalue(), grid_record(plan, cells), output_dir)
    zip_path = grid_path.with_suffix(".zip")
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.write(grid_path, "00_grid.png")
        for cell in plan.cells:
            image = images.get((cell.row, cell.column))
            if image is not None:
                archive.write(image.path, _zip_name(plan, cell, image.path.suffix))
    return grid_path, zip_path


def _cell_note(image: SavedImage | None, error: str | None) -> dict[str, Any]:
    if image is None:
        return {"error": error or "not generated"}
    return {"job_id": image.record.get("job_id"), "seed": image.record.get("seed")}


def _zip_name(plan: GridPlan, cell: Cell, suffix: str) -> str:
    value = re.sub(r"[^A-Za-z0-9.-]+", "-", plan.values[cell.column])[:40].strip("-")
    model = re.sub(r"[^A-Za-z0-9.-]+", "-", cell.model)[:40].strip("-")
    return f"r{cell.row + 1:02d}c{cell.column + 1:02d}_{model}_{plan.axis}-{value}{suffix}"
