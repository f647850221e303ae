"""The Compare tab: models in rows, one setting's values in columns, every cell a parallel job."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr

from ..compare import AXES, GridPlan, cell_thumbnail, save_grid
from ..cost import Price, estimate_price
from ..errors import HeuristError
from ..fields import BY_NAME
from ..plan import Plan, plan_grid_request
from . import controls
from .errors import user_error
from .form import Form, apply_settings
from .key import NO_KEY_MESSAGE
from .markup import as_text
from .mcp_tools import hide_from_mcp
from .results import record_markdown
from .runs import counted
from .studio import Studio, bind
from .words import setting_label, words

log = logging.getLogger(__name__)

PRIVATE = {"api_visibility": "private"}
# /compare's inputs before the key, in order.
GRID_INPUTS = (
    "prompt",
    "neg_prompt",
    "model_ids",
    "axis",
    "values",
    "width",
    "height",
    "num_iterations",
    "guidance_scale",
    "seed",
)
GRID_NOT_SAVED = (
    "Every cell arrived (they are shown), but the grid and its ZIP could not be saved on this "
    "server. Download the cells one by one, or ask the studio's owner to check its disk."
)
STREAM_EVERY = 0.25  # seconds between updates of the cells while a grid runs
INSTANT = {"queue": False, "show_progress": "hidden", **PRIVATE}
AXIS_HINTS = {
    "seed": "compare.hint.seed",  # keys of ui/words.py
    "steps": "compare.hint.steps",
    "guidance": "compare.hint.guidance",
    "prompt": "compare.hint.prompt",
}


@dataclass(frozen=True)
class ComparePanel:
    prompt: gr.Textbox
    neg_prompt: gr.Textbox
    models: gr.Dropdown
    axis: gr.Radio
    values: gr.Textbox
    width: gr.Slider
    height: gr.Slider
    steps: gr.Slider
    guidance: gr.Slider
    seed: gr.Number
    triggers: gr.Checkbox
    cost: gr.Markdown
    run: gr.Button
    stop: gr.Button
    grid: gr.Image
    cells: gr.Gallery
    records: gr.JSON
    details: gr.Markdown
    selected: gr.State
    reuse: gr.Button
    download: gr.DownloadButton

    @property
    def inputs(self) -> list[Any]:
        """/compare's inputs, in its documented order (the key follows)."""
        return [
            self.prompt,
            self.neg_prompt,
            self.models,
            self.axis,
            self.values,
            self.width,
            self.height,
            self.steps,
            self.guidance,
            self.seed,
        ]


def render(studio: Studio) -> ComparePanel:
    catalog = studio.catalog
    start = catalog.default_model()
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=320):
            prompt = gr.Textbox(
                label=setting_label(BY_NAME["prompt"]), lines=2, elem_id="compare-prompt"
            )
            neg_prompt = gr.Textbox(
                label=setting_label(BY_NAME["neg_prompt"]), value=start.defaults.neg_prompt or ""
            )
            models = gr.Dropdown(
                controls.model_choices(catalog),
                value=[start.name],
                multiselect=True,
                label=words("compare.models"),
                elem_id="compare-models",
            )
            with gr.Row():
                axis = gr.Radio(
                    [(words(f"compare.axis.{axis}"), axis) for axis in AXES],
                    value="seed",
                    label=words("compare.columns"),
                )
                values = gr.Textbox(
                    label=words("compare.values"), value="1, 2", info=words(AXIS_HINTS["seed"])
                )
            width, height, *_ = controls.size_controls(catalog, start, presets=False)
            steps, guidance = controls.sampling_controls(start)
            seed = controls.raw_input(
                gr.Number(
                    -1,
                    label=setting_label(BY_NAME["seed"]),
                    precision=0,
                    info=words("compare.seed.info"),
                )
            )
            triggers = gr.Checkbox(label=words("compare.triggers"))
            cost = gr.Markdown(elem_id="compare-cost")
            with gr.Row():
                run = gr.Button(words("tab.compare"), variant="primary", scale=3)
                stop = gr.Button(words("stop"), variant="stop", scale=1)
        with gr.Column(scale=6, min_width=320):
            grid = gr.Image(
                label=words("compare.grid"), type="filepath", interactive=False, elem_id="grid"
            )
            cells = gr.Gallery(
                label=words("compare.cells"),
                columns=3,
                interactive=False,
                elem_id="cells",
                buttons=["download", "fullscreen"],
            )
            records = gr.JSON(visible=False, label=words("records"))
            details = gr.Markdown(visible=False)
            with gr.Row():
                reuse = gr.Button(words("reuse_all"), size="sm")
                download = gr.DownloadButton(words("compare.download"), size="sm", visible=False)
    return ComparePanel(
        prompt,
        neg_prompt,
        models,
        axis,
        values,
        width,
        height,
        steps,
        guidance,
        seed,
        triggers,
        cost,
        run,
        stop,
        grid,
        cells,
        records,
        details,
        gr.State(None),
        reuse,
        download,
    )


def wire(studio: Studio, panel: ComparePanel, api_key: gr.Textbox, form: Form, tabs) -> Any:
    """Cost as the grid changes; Compare streams cells in; a cell's settings go to the form.

    Returns the Compare run (its records go to the history)."""
    priced = [*panel.inputs, panel.triggers]
    gr.on(
        [field.change for field in priced],
        partial(grid_cost, studio),
        priced,
        panel.cost,
        **INSTANT,
    )
    panel.axis.change(
        lambda axis: gr.update(info=words(AXIS_HINTS.get(axis, "compare.hint.seed"))),
        panel.axis,
        panel.values,
        **INSTANT,
    )
    outputs = [panel.grid, panel.cells, panel.records]
    run = panel.run.click(
        page_handler(studio),
        [*panel.inputs, api_key, panel.triggers],
        [*outputs, panel.download],
        concurrency_limit=studio.concurrency,
        concurrency_id="generate",
        **PRIVATE,
    )
    panel.stop.click(fn=None, cancels=[run], **PRIVATE)
    gr.Button(visible=False).click(
        hide_from_mcp(bind(compare, studio)),
        [*panel.inputs, api_key],
        outputs,
        api_name="compare",
        concurrency_limit=studio.concurrency,
        concurrency_id="generate",
        api_description="Compare models and settings: one job per cell; (grid, cells, records).",
    )
    panel.cells.select(select_cell, panel.records, [panel.details, panel.selected], **INSTANT)
    panel.reuse.click(
        partial(apply_settings, studio.catalogs),
        panel.selected,
        form.restorable,
        concurrency_limit=None,
        show_progress="hidden",
        **PRIVATE,
    ).then(fn=lambda: gr.Tabs(selected="generate"), outputs=tabs, **INSTANT)
    return run


def grid_plan(
    studio: Studio,
    prompt,
    neg_prompt,
    models,
    axis,
    values,
    width,
    height,
    steps,
    guidance,
    seed,
    triggers=False,
) -> Plan:
    return plan_grid_request(
        studio.catalog,
        prompt=prompt,
        neg_prompt=neg_prompt,
        model_ids=models,
        axis=axis,
        values=values,
        width=width,
        height=height,
        num_iterations=steps,
        guidance_scale=guidance,
        seed=seed,
        add_triggers=bool(triggers),
    )


def grid_cost(studio: Studio, *inputs: Any) -> str:
    """The whole grid's credits before Compare, with each row's figure."""
    try:
        plan = grid_plan(studio, *inputs[:10], triggers=inputs[10])
    except HeuristError as error:
        return f"Cost: **not runnable**: {as_text(str(error))}"
    grid = plan.grid
    rows = [0.0] * len(grid.row_labels)
    for cell in grid.cells:
        p = cell.params
        rows[cell.row] += estimate_price(p.model_type, p.width, p.height, p.num_iterations).credits
    per_row = " · ".join(
        f"{as_text(label)}: {Price(credits)}"
        for label, credits in zip(grid.row_labels, rows, strict=True)
    )
    return (
        f"**≈ {plan.price}** for {plan.summary} ({len(rows)} × {len(grid.values)})  \n"
        f"{per_row}  \n<small>{controls.PRICE_NOTE}; {controls.format_credits(plan.credits)} "
        "in the seed document's standard unit.</small>"
    )


async def compare(
    studio: Studio,
    prompt: str,
    neg_prompt: str,
    model_ids: list[str],
    axis: str,
    values: str,
    width: float,
    height: float,
    num_iterations: float,
    guidance_scale: float,
    seed: float,
    api_key: str | None = None,
    request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's idiom)
) -> AsyncIterator[tuple]:
    """Compare models and settings: every cell one job, all at once; (grid, cells, records)."""
    given = locals()
    inputs = tuple(given[name] for name in GRID_INPUTS)
    steps = run_grid(studio, inputs, api_key, False, progress, request)
    async for grid, cells, records, _ in steps:
        yield grid, cells, records


def page_handler(studio: Studio) -> Callable[..., AsyncIterator[tuple]]:
    async def compare_in_page(
        prompt: str,
        neg_prompt: str,
        model_ids: list[str],
        axis: str,
        values: str,
        width: float,
        height: float,
        num_iterations: float,
        guidance_scale: float,
        seed: float,
        api_key: str,
        triggers: bool,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's injection idiom)
    ) -> AsyncIterator[tuple]:
        given = locals()
        inputs = tuple(given[name] for name in GRID_INPUTS)
        async for step in run_grid(studio, inputs, api_key, triggers, progress, request):
            yield step

    return compare_in_page


async def run_grid(
    studio: Studio,
    inputs: Any,
    api_key: Any,
    triggers: Any,
    progress: gr.Progress,
    request: gr.Request | None = None,
) -> AsyncIterator[tuple]:
    """Plan, run every cell at once, stream the cells; the grid and its ZIP at the end."""
    key = (api_key.strip() or None) if isinstance(api_key, str) else None
    if key is None and not studio.client.has_key:
        raise user_error(NO_KEY_MESSAGE, title="No API key")
    try:
        plan = grid_plan(studio, *inputs, triggers=triggers)
    except HeuristError as error:
        raise user_error(str(error), title="Check the grid") from None
    studio.admit(plan, key, request)
    grid = plan.grid
    images, errors, thumbnails = {}, {}, {}
    total = len(plan.jobs)
    progress((0, total), desc=counted(0, total, "cell"), unit="cells")
    shown = time.monotonic()
    # The cells stay on disk, whatever the storage cap, until they are zipped.
    with studio.runner.retention.in_use() as held:
        try:
            cells = _stream_cells(studio, grid, key, images, errors, thumbnails, progress, held)
            async for step in cells:
                if time.monotonic() - shown >= STREAM_EVERY:
                    shown = time.monotonic()
                    yield step
        except HeuristError as error:  # refused before anything was sent
            raise user_error(str(error), title="Nothing was sent") from None
        if not images:
            raise user_error(next(iter(errors.values())), title="Every cell failed")
        made = {place: await task for place, task in thumbnails.items()}
        # Drawing, encoding and zipping take a tenth of a second or more: not on the event loop.
        try:
            grid_path, zip_path = await asyncio.to_thread(
                save_grid, grid, images, errors, studio.runner.output_dir, made
            )
        except OSError:  # a full disk, say: the cells are shown, and no server path
            log.warning("A compare grid could not be saved", exc_info=True)
            yield gr.skip(), _gallery(grid, images), _records(grid, images, errors), gr.skip()
            raise user_error(GRID_NOT_SAVED, title="Grid not saved") from None
        held.update((grid_path, zip_path))
        studio.runner.retention.add(grid_path)
        studio.runner.retention.add(zip_path)
    download = gr.update(value=str(zip_path), visible=True)
    yield str(grid_path), _gallery(grid, images), _records(grid, images, errors), download


async def _stream_cells(
    studio: Studio,
    plan: GridPlan,
    key: str | None,
    images: dict,
    errors: dict,
    thumbnails: dict,
    progress: gr.Progress,
    held: set,
) -> AsyncIterator[tuple]:
    """Run the cells, filling images and errors; after each, the update showing the cells.

    Each image's thumbnail for the grid is made in a thread as it arrives, while the other
    cells are still running.
    """
    total = len(plan.cells)
    async for outcome in studio.runner.stream([cell.params for cell in plan.cells], key):
        cell = plan.cells[outcome.index]
        if outcome.image is None:
            errors[(cell.row, cell.column)] = str(outcome.error)
        else:
            held.add(outcome.image.path)
            images[(cell.row, cell.column)] = outcome.image
            thumbnails[(cell.row, cell.column)] = asyncio.ensure_future(
                asyncio.to_thread(cell_thumbnail, plan, outcome.image.path)
            )
        done = len(images) + len(errors)
        progress((done, total), desc=counted(done, total, "cell"), unit="cells")
        # Cells finishing together are shown together (the caller throttles): each update
        # sends every cell again.
        if done < total:
            yield gr.skip(), _gallery(plan, images), _records(plan, images, errors), gr.skip()


def _gallery(plan: GridPlan, images: dict) -> list[tuple[str, str]]:
    return [
        (
            str(images[(c.row, c.column)].path),
            f"{c.params.model_id} · {plan.axis} {plan.values[c.column]}",
        )
        for c in plan.cells
        if (c.row, c.column) in images
    ]


def _records(plan: GridPlan, images: dict, errors: dict) -> list[dict[str, Any]]:
    """One record per cell, row-major: /generate's record plus row and column, or the error."""
    records = []
    for cell in plan.cells:
        place = (cell.row, cell.column)
        if place in images:
            record = dict(images[place].record)
        elif place in errors:
            record = {**cell.params.settings(), "error": errors[place]}
        else:
            continue
        records.append({**record, "row": cell.row, "column": cell.column})
    return records


def select_cell(records: Any, event: gr.SelectData) -> tuple:
    """The selected cell's record (the gallery lists the cells that arrived, in grid order)."""
    arrived = [r for r in (records or []) if isinstance(r, dict) and "error" not in r]
    index = event.index if isinstance(event.index, int) else -1
    if not 0 <= index < len(arrived):
        return gr.update(visible=False), None
    return gr.update(value=record_markdown(arrived[index]), visible=True), arrived[index]
