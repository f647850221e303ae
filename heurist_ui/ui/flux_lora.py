"""The FLUX LoRA tab: one of the workflow's named LoRAs, its settings, live cost, progress, image.

The controls come from flux_lora.FLUX_LORA_SETTINGS; the LoRAs are offered as their own
entries ("FLUX LoRA · heuristlogo"). A tab of its own, beside Video, while the generator's
model list belongs to the image plan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..cost import Price
from ..errors import HeuristError
from ..flux_lora import FLUX_LORA_KINDS, FLUX_LORA_SETTINGS
from ..plan import plan_workflow
from ..workflow import TaskCanceledError, TaskStatus
from . import controls
from .errors import user_error
from .links import LinkTarget
from .mcp_tools import hide_from_mcp
from .messages import (
    ENGLISH,
    error_text,
    language_of,
    no_key,
    price_note,
    price_text,
    say,
    task_text,
    title,
)
from .studio import Studio, bind
from .video import control, follow
from .words import words
from .workflow_links import FLUX_LORA_LINKS

FLUX_LORA_TAB = FLUX_LORA_LINKS.tab  # the tab's id, and its name in links

PRIVATE = {"api_visibility": "private"}
INSTANT = {"queue": False, "show_progress": "hidden", **PRIVATE}
LORAS = {kind.label: kind for kind in FLUX_LORA_KINDS.values()}
NAMES = [setting.name for setting in FLUX_LORA_SETTINGS]


@dataclass(frozen=True)
class FluxLoraPanel:
    prompt: gr.Textbox
    lora: gr.Dropdown
    settings: tuple[gr.components.Component, ...]
    cost: gr.Markdown
    generate: gr.Button
    stop: gr.Button
    progress: gr.Textbox
    image: gr.Image
    record: gr.JSON
    link_button: gr.Button
    link: gr.Textbox

    @property
    def restorable(self) -> list[Any]:
        """What a link sets: the prompt, the LoRA, each setting."""
        return [self.prompt, self.lora, *self.settings]


def render(studio: Studio) -> FluxLoraPanel:
    """The tab's components (the caller puts them in a gr.Tab)."""
    first = next(iter(LORAS))
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=320):
            prompt = gr.Textbox(
                label=words("lora.prompt"), lines=3, placeholder=words("lora.prompt.placeholder")
            )
            lora = gr.Dropdown(list(LORAS), value=first, label=words("lora.model"))
            settings = tuple(control(setting) for setting in FLUX_LORA_SETTINGS)
            cost = gr.Markdown(elem_id="lora-cost")  # filled by priced
            with gr.Row():
                generate = gr.Button(words("lora.generate"), variant="primary", elem_id="lora-go")
                stop = gr.Button(words("stop"), variant="stop", elem_id="lora-stop")
            progress = gr.Textbox(
                label=words("progress"), interactive=False, elem_id="lora-progress"
            )
            link_button = gr.Button(words("link_settings"), size="sm")
            link = gr.Textbox(
                label=words("link"), visible=False, buttons=["copy"], elem_id="lora-link"
            )
        with gr.Column(scale=6, min_width=320):
            image = gr.Image(label=words("lora.image"), interactive=False, elem_id="lora-image")
            record = gr.JSON(label=words("record"))
    return FluxLoraPanel(
        prompt, lora, settings, cost, generate, stop, progress, image, record, link_button, link
    )


def cost_line(lora: str, *values: Any, language: str = ENGLISH) -> str:
    """The credits-page price of these settings, or what is wrong with them (in language)."""
    kind = LORAS.get(lora)
    if kind is None:
        return say(language, "cost.choose_lora")
    try:
        job = kind.prepare("price", **dict(zip(NAMES, values, strict=False)))
    except HeuristError as error:
        return say(language, "cost.unpriced", problem=error_text(error, language))
    price = price_text(language, Price(job.credits or 0))
    return say(language, "cost.price", price=price, note=price_note(language, kind.price_note))


def priced(panel: FluxLoraPanel) -> controls.CostLine:
    """The tab's cost line (cost_line), as its LoRA and settings change."""

    def price(language: str, lora: Any, *values: Any) -> str:
        return cost_line(lora, *values, language=language)

    return controls.CostLine([panel.lora, *panel.settings], panel.cost, price)


async def generate_flux_lora_image(
    studio: Studio, prompt: str, lora: str, *rest: Any
) -> AsyncIterator:
    """Run one FLUX-LoRA task: (progress, image, record) as it goes.

    rest is one value per FLUX_LORA_SETTINGS row, then the API key, then Gradio's request.
    """
    values = dict(zip(NAMES, rest[: len(NAMES)], strict=True))
    key = (str(rest[len(NAMES)] or "").strip() or None) if len(rest) > len(NAMES) else None
    request = rest[len(NAMES) + 1] if len(rest) > len(NAMES) + 1 else None
    language = language_of(request)  # English for a script or an agent
    if key is None and not studio.client.has_key:
        raise user_error(no_key(language), title=title(language, "no_key"))
    kind = LORAS.get(lora) if isinstance(lora, str) else None
    if kind is None:
        raise user_error(say(language, "choose_lora"), title=title(language, "settings"))
    try:
        plan = plan_workflow(kind, prompt, **values)
    except HeuristError as error:
        heading = title(language, "settings")
        raise user_error(error_text(error, language), title=heading) from None
    studio.admit(plan, key, request)
    job = plan.jobs[0]
    yield say(language, "task.creating"), None, None
    outcome = None
    async for step in follow(studio, job, key, language, failed="image_failed"):
        if isinstance(step, TaskStatus):
            yield task_text(language, step), None, None
        else:
            outcome = step
    if outcome.error is not None:
        if isinstance(outcome.error, TaskCanceledError):
            yield str(outcome.error), None, None
            return
        heading = title(language, "image_failed")
        raise user_error(error_text(outcome.error, language), title=heading)
    saved = outcome.image
    line = say(language, "task.saved", seconds=saved.record["elapsed_s"], file=saved.path.name)
    yield line, str(saved.path), saved.record


def _signature() -> Any:
    import inspect

    fixed = list(inspect.signature(generate_flux_lora_image).parameters.values())[:3]
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    named = [inspect.Parameter(name, kind, annotation=float) for name in NAMES]
    key = inspect.Parameter("api_key", kind, annotation=str)
    request = inspect.Parameter("request", kind, default=None, annotation=gr.Request)
    return inspect.Signature([*fixed, *named, key, request])


generate_flux_lora_image.__signature__ = _signature()  # type: ignore[attr-defined]


def wire(studio: Studio, panel: FluxLoraPanel, api_key: gr.Textbox) -> None:
    """Cost as the settings change; Generate runs, Stop cancels the task; 🔗 copies a link."""
    run = panel.generate.click(
        hide_from_mcp(bind(generate_flux_lora_image, studio)),
        [panel.prompt, panel.lora, *panel.settings, api_key],
        [panel.progress, panel.image, panel.record],
        api_name="flux_lora",
        api_description="Generate one image with FLUX and a named LoRA (lora is its label, "
        "e.g. 'FLUX LoRA · heuristlogo'). (progress, image, record).",
        concurrency_limit=studio.concurrency,
        concurrency_id="generate",
    )
    panel.stop.click(fn=None, cancels=[run], **PRIVATE)
    panel.link_button.click(
        fn=None,
        inputs=panel.restorable,
        outputs=panel.link,
        js=FLUX_LORA_LINKS.link_js(),
        **PRIVATE,
    ).then(fn=lambda: gr.update(visible=True), outputs=panel.link, **INSTANT)


def link_target(panel: FluxLoraPanel) -> LinkTarget:
    """What a FLUX-LoRA link (?tab=flux-lora&...) fills when the page opens: the form."""
    defaults = [component.value for component in panel.restorable]
    return LinkTarget(
        panel.restorable,
        lambda query, language: FLUX_LORA_LINKS.link_values(query, defaults, language),
    )
