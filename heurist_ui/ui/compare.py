"""The Compare tab: models in rows, one setting's values in columns, every cell a parallel job."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing, suppress
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..compare import AXES, MAX_MODELS, lora_rows
from ..compare_run import EveryCellFailed, GridNotSaved, GridStep, run_grid
from ..errors import HeuristError, InvalidRequestError
from ..fields import BY_NAME
from ..plan import Plan, plan_grid_request
from ..prompt_help import apply_style
from . import controls
from .errors import user_error, warn
from .form import Form, settings_restorer
from .markup import as_text
from .mcp_tools import hide_from_mcp
from .messages import (
    ENGLISH,
    counted,
    error_text,
    language_of,
    no_key,
    price_text,
    progress_text,
    say,
    title,
)
from .results import record_markdown
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
    take: gr.Button  # the generator's settings, on asking
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
            take = gr.Button(words("compare.from_generator"), size="sm", elem_id="compare-take")
            neg_prompt = gr.Textbox(
                label=setting_label(BY_NAME["neg_prompt"]), value=start.defaults.neg_prompt or ""
            )
            models = gr.Dropdown(
                row_choices(catalog),
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
        take,
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


def row_choices(catalog) -> list[tuple[str, str]]:
    """The models a grid takes as rows: the catalogue's image models, then the FLUX LoRAs."""
    choices = dict((value, label) for label, value in controls.model_choices(catalog))
    choices.update((value, label) for label, value in lora_rows() if value not in choices)
    return [(label, value) for value, label in choices.items()]


def wire(studio: Studio, panel: ComparePanel, api_key: gr.Textbox, form: Form, tabs) -> Any:
    """Cost as the grid changes; Compare streams cells in; a cell's settings go to the form.

    Returns the Compare run (its records go to the history)."""
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
    taken = [form.model_id, form.width, form.height, form.num_iterations, form.guidance_scale]

    generators = [panel.models, form.prompt, form.neg_prompt, *taken, form.seed, form.style]
    panel.take.click(
        controls.in_language(
            lambda language, *values: from_generator(studio.catalogs, *values, language),
            len(generators),
        ),
        generators,
        [panel.prompt, panel.neg_prompt, panel.models, *panel.inputs[5:]],
        **INSTANT,
    )
    panel.cells.select(select_cell, panel.records, [panel.details, panel.selected], **INSTANT)
    panel.reuse.click(
        settings_restorer(studio.catalogs),
        panel.selected,
        form.restorable,
        concurrency_limit=None,
        show_progress="hidden",
        **PRIVATE,
    ).then(fn=lambda: gr.Tabs(selected="generate"), outputs=tabs, **INSTANT)
    return run


def from_generator(
    catalogs,
    rows: Any,
    prompt: Any,
    neg_prompt: Any,
    model_id: Any,
    width: Any,
    height: Any,
    steps: Any,
    guidance: Any,
    seed: Any,
    style: Any,
    language: str = ENGLISH,
) -> tuple:
    """The generator's prompts (as its style sends them) and settings for Compare, its model
    the first row, the other rows kept; a model that cannot be a row is said so in language."""
    prompt, neg_prompt = str(prompt or ""), str(neg_prompt or "")
    # Every row that takes a negative prompt gets the style's; a style this server does not
    # know leaves the words as typed.
    with suppress(InvalidRequestError):
        prompt, neg_prompt = apply_style(style, prompt, neg_prompt)
    rows = [rows] if isinstance(rows, str) else list(rows or [])
    if model_id in {value for _, value in row_choices(catalogs.current)}:
        models = gr.update(value=[model_id, *(r for r in rows if r != model_id)][:MAX_MODELS])
    else:
        quoted = repr(str(model_id)[:60])
        warn(say(language, "compare.not_a_row", model=quoted))
        models = gr.update()
    return prompt, neg_prompt, models, width, height, steps, guidance, seed


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


def cost_line(studio: Studio, panel: ComparePanel) -> controls.CostLine:
    """The grid's cost line (grid_cost); empty until the grid changes, as before."""

    def price(language: str, *inputs: Any) -> str:
        return grid_cost(studio, *inputs, language=language)

    return controls.CostLine([*panel.inputs, panel.triggers], panel.cost, price, on_load=False)


def grid_cost(studio: Studio, *inputs: Any, language: str = ENGLISH) -> str:
    """The whole grid's credits before Compare, with each row's figure (in language)."""
    try:
        plan = grid_plan(studio, *inputs[:10], triggers=inputs[10])
    except HeuristError as error:
        return say(language, "cost.not_runnable", problem=as_text(error_text(error, language)))
    grid = plan.grid
    rows = grid.row_prices()
    per_row = " · ".join(
        f"{as_text(label)}: {price_text(language, price)}"
        for label, price in zip(grid.row_labels, rows, strict=True)
    )
    return say(
        language,
        "cost.grid",
        total=price_text(language, plan.price),
        summary=counted(language, "cell", len(plan.jobs)),
        rows=len(rows),
        columns=len(grid.values),
        per_row=per_row,
        prices=say(language, "cost.prices"),
        credits=controls.format_credits(plan.credits),
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
    steps = run_page_grid(studio, inputs, api_key, False, progress, request, ENGLISH)
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
        language = language_of(request)
        steps = run_page_grid(studio, inputs, api_key, triggers, progress, request, language)
        async for step in steps:
            yield step

    return compare_in_page


async def run_page_grid(
    studio: Studio,
    inputs: Any,
    api_key: Any,
    triggers: Any,
    progress: gr.Progress,
    request: gr.Request | None = None,
    language: str = ENGLISH,
) -> AsyncIterator[tuple]:
    """Plan and admit the grid, then show compare_run's steps: cells as they come, the grid last.

    Its progress and refusals in language."""
    key = (api_key.strip() or None) if isinstance(api_key, str) else None
    if key is None and not studio.client.has_key:
        raise user_error(no_key(language), title=title(language, "no_key"))
    try:
        plan = grid_plan(studio, *inputs, triggers=triggers)
    except HeuristError as error:
        raise user_error(error_text(error, language), title=title(language, "grid")) from None
    studio.admit(plan, key, request)
    total = len(plan.jobs)
    progress((0, total), desc=progress_text(language, 0, total, "cell"), unit="cells")
    shown, last = time.monotonic(), None
    try:
        async with aclosing(run_grid(studio.runner, plan.grid, key)) as steps:
            async for step in steps:
                last = step
                if step.zip_path is not None:
                    break
                desc = progress_text(language, step.done, total, "cell")
                progress((step.done, total), desc=desc, unit="cells")
                # Cells finishing together are shown together: each update sends every cell.
                if step.done < total and time.monotonic() - shown >= STREAM_EVERY:
                    shown = time.monotonic()
                    yield _shown(step)
    except EveryCellFailed as error:
        heading = title(language, "every_cell_failed")
        raise user_error(error_text(error, language), title=heading) from None
    except GridNotSaved as error:  # the cells are shown, and no server path
        yield _shown(last)
        raise user_error(str(error), title="Grid not saved") from None
    except HeuristError as error:  # refused before anything was sent
        heading = title(language, "nothing_sent")
        raise user_error(error_text(error, language), title=heading) from None
    download = gr.update(value=str(last.zip_path), visible=True)
    yield str(last.grid_path), last.gallery(), last.records(), download


def _shown(step: GridStep | None) -> tuple:
    """The cells so far; the grid and the download button as they were."""
    if step is None:
        return gr.skip(), [], [], gr.skip()
    return gr.skip(), step.gallery(), step.records(), gr.skip()


def select_cell(records: Any, event: gr.SelectData) -> tuple:
    """The selected cell's record (the gallery lists the cells that arrived, in grid order)."""
    arrived = [r for r in (records or []) if isinstance(r, dict) and "error" not in r]
    index = event.index if isinstance(event.index, int) else -1
    if not 0 <= index < len(arrived):
        return gr.update(visible=False), None
    return gr.update(value=record_markdown(arrived[index]), visible=True), arrived[index]
