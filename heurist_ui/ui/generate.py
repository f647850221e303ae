"""The generator: the form, Generate and Stop, and the handler that streams a batch."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr

from ..errors import HeuristError
from ..fields import BY_NAME
from ..generator_models import STRENGTH
from ..params import SETTING_FIELDS
from ..plan import Plan, plan_images
from ..prompt_help import NO_STYLE
from . import controls, prompt_help
from .errors import user_error
from .form import SAVE_FORM_JS, Form, form_notes, restore_form_js
from .mcp_tools import hide_from_mcp
from .messages import ENGLISH, error_text, language_of, no_key, title
from .results import Results
from .runs import Batch, PageBatches, View, stream_batch
from .studio import Studio, bind
from .words import setting_label, words

PRIVATE = {"api_visibility": "private"}
PLANNED = (*SETTING_FIELDS, STRENGTH.name)  # what plan_images takes of the form
# The cost line is filled as the page is built; this marks the form restored and bounded.
FORM_LOADED_JS = "() => { document.body.dataset.formLoaded = 'yes'; }"
INSTANT = {"queue": False, "show_progress": "hidden", **PRIVATE}
# Queued but never waiting: gr.Info and gr.Warning reach the page only from the queue.
NOTIFYING = {"concurrency_limit": None, "show_progress": "hidden", **PRIVATE}


@dataclass(frozen=True)
class Generator:
    """The generator's form and the controls around it."""

    form: Form
    lora_row: gr.Row
    lora_help: gr.Markdown
    insert: gr.Button
    refresh: gr.Button
    aspect: gr.Radio
    swap: gr.Button
    dice: gr.Button
    cost: gr.Markdown
    generate: gr.Button
    stop: gr.Button
    help: prompt_help.PromptHelp
    link: gr.Button


def cost_line(studio: Studio, panel: Generator) -> controls.CostLine:
    """The generator's cost line: the plan Generate would run, priced (controls.cost_line)."""
    form = panel.form
    priced = [
        form.model_id,
        form.width,
        form.height,
        form.num_iterations,
        form.num_images,
        form.prompt,
        form.neg_prompt,
        form.style,
    ]

    def price(language: str, *values: Any) -> str:
        return controls.cost_line(studio.catalogs, *values, language=language)

    return controls.CostLine(priced, panel.cost, price)


@dataclass(frozen=True)
class Top:
    """What a user aims at first, together at the top: prompt, Generate and Stop, the cost."""

    prompt: gr.Textbox
    enhance: gr.Button
    restore: gr.Button
    generate: gr.Button
    stop: gr.Button
    cost: gr.Markdown


def render_top() -> Top:
    """The prompt with ✨ Enhance, then Generate and Stop, then the cost line."""
    prompt = gr.Textbox(
        label=setting_label(BY_NAME["prompt"]),
        lines=3,
        max_lines=8,
        placeholder=words("prompt.placeholder"),
        elem_id="prompt",
        autofocus=True,
    )
    enhance, restore = prompt_help.render_enhance_buttons()
    with gr.Row(elem_id="run-row"):
        generate = gr.Button(words("generate"), variant="primary", scale=3, elem_id="generate-btn")
        stop = gr.Button(words("stop"), variant="stop", scale=1, min_width=80, elem_id="stop-btn")
    cost = gr.Markdown(elem_id="cost-line")
    return Top(prompt, enhance, restore, generate, stop, cost)


def render(studio: Studio, top: Top) -> Generator:
    """The other settings, below the top: model, then groups that fold away; what appears
    and disappears (LoRA help, the styled prompt, examples) comes last in its group."""
    catalog = studio.catalog
    start = catalog.default_model()
    model, refresh = controls.model_picker(catalog, start)
    with gr.Accordion(words("group.size"), open=True, elem_id="size-group"):
        width, height, aspect, swap = controls.size_controls(catalog, start)
        steps, guidance = controls.sampling_controls(start)
        strength = controls.strength_slider(start)
        with gr.Row():
            seed, dice = controls.seed_control()
            count = controls.setting_slider("num_images", 1, scale=4)
    with gr.Accordion(words("group.prompt"), open=True, elem_id="prompt-group"):
        style, sent = prompt_help.render_style()
        neg_prompt = gr.Textbox(
            label=setting_label(BY_NAME["neg_prompt"]),
            lines=2,
            value=start.defaults.neg_prompt or "",
            visible=start.takes_negative_prompt,
        )
        with gr.Row(visible=start.is_lora) as lora_row:
            lora_help = gr.Markdown()
            insert = gr.Button(words("insert_triggers"), size="sm", scale=0)
        sent.render()
        examples = prompt_help.render_examples(start)
    llm, levels, must_include = prompt_help.render_enhance_settings(catalog)
    link = gr.Button(words("link_settings"), size="sm")
    form = Form(
        top.prompt, neg_prompt, model, width, height, steps, guidance, seed, count, style, strength
    )
    help_ = prompt_help.PromptHelp(
        top.enhance, top.restore, llm, levels, must_include, gr.State(None), examples, sent
    )
    return Generator(
        form,
        lora_row,
        lora_help,
        insert,
        refresh,
        aspect,
        swap,
        dice,
        top.cost,
        top.generate,
        top.stop,
        help_,
        link,
    )


def wire_form(demo: gr.Blocks, studio: Studio, panel: Generator) -> None:
    """The form's own events: model changes, size helpers, and keeping it across reloads."""
    form, catalogs = panel.form, studio.catalogs
    # The cost line is filled and repriced by controls.wire_cost_lines (cost_line; build()).
    helps = [panel.lora_row, panel.lora_help]
    # Picking a model sets its recommended values, in one update; any other change of the
    # model (a restore, a reload) only shows or hides what the model calls for.
    form.model_id.input(
        partial(controls.model_picked, catalogs),
        form.model_id,
        [*form.recommended, form.neg_prompt, *helps],
        **INSTANT,
    )
    form.model_id.change(
        partial(controls.model_shown, catalogs),
        form.model_id,
        [form.neg_prompt, *helps, form.guidance_scale, form.strength_model],
        **INSTANT,
    )
    form.num_iterations.change(
        controls.steps_note, form.num_iterations, form.num_iterations, **INSTANT
    )
    bounds = (
        partial(controls.model_bounds, catalogs),
        [form.model_id, form.width, form.height],
        [form.width, form.height],
    )
    # Kept in this browser, restored before the model's bounds are applied to it.
    gr.on(
        [field.change for field in form.saved],
        fn=None,
        inputs=form.saved,
        js=SAVE_FORM_JS,
        **PRIVATE,
    )
    demo.load(
        fn=None,
        inputs=form.saved,
        outputs=form.saved,
        js=restore_form_js(studio.catalog),
        **PRIVATE,
    ).then(*bounds, **INSTANT).then(fn=None, js=FORM_LOADED_JS, **PRIVATE)
    # The list may have been refreshed since this page was built.
    demo.load(partial(controls.current_models, catalogs), None, form.model_id, **INSTANT)
    panel.insert.click(
        partial(controls.insert_trigger, catalogs),
        [form.prompt, form.model_id],
        form.prompt,
        **INSTANT,
    )
    controls.wire_size(catalogs, form.model_id, form.width, form.height, panel.aspect, panel.swap)
    panel.dice.click(fn=None, outputs=form.seed, js="() => -1", **PRIVATE)

    def refresh(model_id: Any, request: gr.Request = None) -> Any:  # type: ignore[assignment]
        return controls.refresh_models(catalogs, model_id, language_of(request))

    panel.refresh.click(refresh, form.model_id, form.model_id, **NOTIFYING)


def wire_run(
    studio: Studio, panel: Generator, api_key: gr.Textbox, results: Results, pages: PageBatches
) -> Any:
    """Generate (button, or Enter in the prompt) runs a batch, joining any still running; Stop
    ends them all. /generate, for API callers, runs one batch per call. Returns the event that
    ends a page's batch, to chain on."""
    form = panel.form
    inputs = [*form.settings, form.num_images, api_key, form.strength_model]
    outputs = [results.gallery, results.records]
    limits = {"concurrency_limit": studio.concurrency, "concurrency_id": "generate"}
    run = gr.on(
        [panel.generate.click, form.prompt.submit],
        page_handler(studio, pages),
        [*inputs, form.style, panel.help.enhanced],
        outputs,
        trigger_mode="multiple",  # a second Generate starts a second batch at once
        show_progress="full",
        **limits,
        **PRIVATE,
    )
    panel.stop.click(fn=None, cancels=[run], **PRIVATE)

    def page_view(request: gr.Request) -> View:
        return pages.view(getattr(request, "session_hash", None) or "")

    # Two batches ending at once send their last views in either order (Gradio postprocesses
    # them in threads), so the page could keep the older one: when a batch ends, show every
    # batch as it is now. Queued, never waiting: only queued events know their page.
    shown = run.then(page_view, None, outputs, **NOTIFYING)
    gr.Button(visible=False).click(
        hide_from_mcp(bind(generate_images, studio)),  # agents get generate_images instead
        inputs,
        outputs,
        api_name="generate",
        api_description="Generate images; returns the gallery and one record per image. "
        "model_id 'flux-lora:<lora>' runs a FLUX LoRA (strength_model 0-1; no negative "
        "prompt or guidance).",
        **limits,
    )
    return shown


def plan_batch(
    studio: Studio,
    api_key: Any,
    num_images: Any,
    request: Any = None,
    language: str = ENGLISH,
    **request_settings: Any,
) -> tuple[Plan, str | None]:
    """(plan, key) for a batch, or a gr.Error that says what to fix (in language); nothing
    is sent."""
    key = (api_key.strip() or None) if isinstance(api_key, str) else None
    if key is None and not studio.client.has_key:
        raise user_error(no_key(language), title=title(language, "no_key"))
    try:
        plan = plan_images(studio.catalog, num_images, **request_settings)
    except HeuristError as error:
        heading = title(language, "settings")
        raise user_error(error_text(error, language), title=heading) from None
    studio.admit(plan, key, request)
    return plan, key


async def generate_images(
    studio: Studio,
    prompt: str,
    neg_prompt: str,
    model_id: str,
    width: float,
    height: float,
    num_iterations: float,
    guidance_scale: float,
    seed: float,
    num_images: float,
    api_key: str | None = None,
    strength_model: float | None = None,
    request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's injection idiom)
) -> AsyncIterator[View]:
    """Generate num_images images as parallel jobs, streaming each into the gallery."""
    settings = {name: value for name, value in locals().items() if name in PLANNED}
    plan, key = plan_batch(studio, api_key, num_images, request, **settings)
    batch = Batch(len(plan.jobs))
    async for view in stream_batch(studio, batch, plan.jobs, key, progress, batch.view):
        yield view
    batch.report()


def page_handler(studio: Studio, pages: PageBatches) -> Callable[..., AsyncIterator[View]]:
    """The page's Generate: generate_images, with batches of one page shown together."""

    async def generate_in_page(
        prompt: str,
        neg_prompt: str,
        model_id: str,
        width: float,
        height: float,
        num_iterations: float,
        guidance_scale: float,
        seed: float,
        num_images: float,
        api_key: str,
        strength_model: float | None = None,
        style: str = NO_STYLE,
        enhanced: Any = None,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's injection idiom)
    ) -> AsyncIterator[View]:
        settings = {name: value for name, value in locals().items() if name in PLANNED}
        notes = help_notes(prompt, style, enhanced, neg_prompt, num_images)
        language = language_of(request)
        plan, key = plan_batch(
            studio, api_key, num_images, request, language, style=style, notes=notes, **settings
        )
        batch = Batch(len(plan.jobs), language=language)
        session = getattr(request, "session_hash", None) or ""
        pages.start(session, batch)
        try:
            view = partial(pages.view, session)
            async for shown in stream_batch(studio, batch, plan.jobs, key, progress, view):
                yield shown
        finally:
            pages.end(session, batch)
        batch.report()

    return generate_in_page


def help_notes(
    prompt: Any, style: Any, enhanced: Any, neg_prompt: Any = "", images: Any = 1
) -> dict[str, str]:
    """What the record should say of the form and the prompt help used: the style, the
    prompts as typed, the image count (form_notes), the enhancement."""
    notes = form_notes(prompt, neg_prompt, style, images)
    if isinstance(enhanced, dict) and str(prompt or "").strip() == enhanced.get("prompt"):
        notes["enhanced_from"] = str(enhanced.get("description", ""))
        notes["enhancer"] = str(enhanced.get("llm", ""))
    return notes
