"""Shared form pieces: the model picker with its defaults, size with aspect presets, seed, cost."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import gradio as gr

from ..catalog import CatalogStore, ModelCatalog, ModelInfo
from ..cost import Price
from ..errors import HeuristError
from ..fields import BY_NAME
from ..generator_models import STRENGTH, job_settings, lora_kind, size_rule, with_loras
from ..params import MINER_MAX_STEPS, check_count
from ..plan import plan_images
from ..prompt_help import NO_STYLE
from .errors import inform
from .markup import as_text
from .messages import ENGLISH, counted, error_text, language_of, price_note, price_text, say
from .words import setting_help, setting_label, words

C = TypeVar("C", bound=gr.components.Component)

ASPECT_PRESETS = {
    "1:1": 1.0,
    "4:3": 4 / 3,
    "3:4": 3 / 4,
    "16:9": 16 / 9,
    "9:16": 9 / 16,
    "3:2": 3 / 2,
    "2:3": 2 / 3,
}


def raw_input(component: C) -> C:
    """Let the sent value reach our validation unchanged.

    Gradio's own range and type checks answer a bad value from an API caller with a generic
    error and know nothing of per-model limits; ours say what is wrong and what to send.
    (An instance override, not a subclass: Gradio writes a .pyi beside any component subclass.)
    """
    component.preprocess = _unchanged  # type: ignore[method-assign]
    # Gradio remakes a component for the session when an event updates its properties (the
    # size sliders' maxima): marked by a class, the remade one lets the value through too.
    classes = [*(component.elem_classes or []), RAW_INPUT]
    component.elem_classes = classes
    component.constructor_args["elem_classes"] = classes
    _let_marked_through(type(component))
    return component


RAW_INPUT = "raw-input"


def _unchanged(payload: Any) -> Any:
    return payload


def _let_marked_through(cls: type) -> None:
    original = cls.preprocess  # type: ignore[attr-defined]
    if getattr(original, "lets_raw_input_through", False):
        return

    def preprocess(self: Any, payload: Any) -> Any:
        return payload if RAW_INPUT in (self.elem_classes or []) else original(self, payload)

    preprocess.lets_raw_input_through = True  # type: ignore[attr-defined]
    cls.preprocess = preprocess  # type: ignore[attr-defined]


# ---- components -------------------------------------------------------------------------


def setting_slider(name: str, value: Any, *, maximum: float | None = None, **options: Any):
    """A slider for a setting of fields.py: its label, bounds and step as declared there."""
    setting = BY_NAME[name]
    low, high = setting.bounds()  # type: ignore[misc]
    return raw_input(
        gr.Slider(
            low,
            high if maximum is None else maximum,
            value=value,
            step=setting.step,
            label=setting_label(setting),
            **options,
        )
    )


def model_picker(catalog: ModelCatalog, start: ModelInfo) -> tuple[gr.Dropdown, gr.Button]:
    """The model dropdown (labelled with each model's kind) and its refresh button."""
    with gr.Row():
        model = gr.Dropdown(
            label=setting_label(BY_NAME["model_id"]),
            choices=model_choices(with_loras(catalog)),
            value=start.name,
            allow_custom_value=True,
            scale=5,
        )
        refresh = gr.Button(words("refresh"), size="sm", scale=0, min_width=100)
    return model, refresh


def size_controls(catalog: ModelCatalog, start: ModelInfo, *, presets: bool = True) -> tuple:
    """Width and height sliders, aspect presets and a swap button: (width, height, aspect, swap).

    Without presets, aspect and swap are None.
    """
    size_max = max(
        2048, *(m.defaults.max_width for m in catalog), *(m.defaults.max_height for m in catalog)
    )
    d = start.defaults
    with gr.Row():
        width = setting_slider("width", d.width, maximum=size_max)
        height = setting_slider("height", d.height, maximum=size_max)
    if not presets:
        return width, height, None, None
    with gr.Row():
        aspect = gr.Radio(list(ASPECT_PRESETS), label=words("aspect"), scale=5)
        swap = gr.Button(words("swap"), size="sm", scale=0, min_width=80)
    return width, height, aspect, swap


def sampling_controls(start: ModelInfo) -> tuple[gr.Slider, gr.Slider]:
    """Steps and guidance sliders, at the model's recommended values."""
    d = start.defaults
    with gr.Row():
        steps = setting_slider("num_iterations", d.num_iterations)
        guidance = setting_slider("guidance_scale", d.guidance_scale)
    return steps, guidance


def strength_slider(start: ModelInfo) -> gr.Slider:
    """The LoRA strength (generator_models.STRENGTH), shown only for a FLUX LoRA."""
    return raw_input(
        gr.Slider(
            STRENGTH.minimum,
            STRENGTH.maximum,
            value=STRENGTH.default,
            step=STRENGTH.step,
            label=setting_label(STRENGTH),
            info=setting_help(STRENGTH),
            visible=lora_kind(start.name) is not None,
        )
    )


def seed_control() -> tuple[gr.Number, gr.Button]:
    """The seed (-1 for random) and its 🎲 button."""
    seed = raw_input(
        gr.Number(
            label=setting_label(BY_NAME["seed"]),
            value=-1,
            precision=0,
            scale=4,
            info=words("seed.info"),
        )
    )
    dice = gr.Button(words("random"), size="sm", scale=0, min_width=100)
    return seed, dice


def wire_size(
    catalogs: CatalogStore, model: gr.Dropdown, width: gr.Slider, height: gr.Slider, aspect, swap
) -> None:
    """Aspect presets size for the model; swap exchanges width and height in the browser."""
    aspect.input(
        partial(aspect_sizes, catalogs),
        [aspect, model],
        [width, height],
        queue=False,
        show_progress="hidden",
        api_visibility="private",
    )
    swap.click(
        fn=None,
        inputs=[width, height],
        outputs=[width, height],
        js="(w, h) => [h, w]",
        api_visibility="private",
    )


@dataclass(frozen=True)
class CostLine:
    """A tab's cost line: the values it is priced from, and price(language, *values) -> text.

    on_load: also filled in the visitor's language when the page loads (it was built in
    English); one load event fills every such line.
    """

    inputs: Sequence[gr.components.Component]
    output: gr.Markdown
    price: Callable[..., str]
    on_load: bool = True


def wire_cost_lines(demo: gr.Blocks, lines: Sequence[CostLine]) -> None:
    """Each on_load line filled in English as the page is built (a usable page before any
    round trip), then by one event in the visitor's language when the page loads; each line
    repriced, in that language, as its values change."""
    instant = {"queue": False, "show_progress": "hidden", "api_visibility": "private"}
    for line in lines:
        if line.on_load:
            built = line.price(ENGLISH, *(field.value for field in line.inputs))
            line.output.value = line.output.postprocess(built)
        fn = in_language(line.price, len(line.inputs))
        gr.on(
            [field.change for field in line.inputs], fn, list(line.inputs), line.output, **instant
        )
    loaded = [line for line in lines if line.on_load]
    if not loaded:
        return

    def price_all(language: str, *values: Any) -> tuple[str, ...]:
        texts, start = [], 0
        for line in loaded:
            texts.append(line.price(language, *values[start : start + len(line.inputs)]))
            start += len(line.inputs)
        return tuple(texts)

    inputs = [field for line in loaded for field in line.inputs]
    fill = in_language(price_all, len(inputs))
    demo.load(fill, inputs, [line.output for line in loaded], **instant)


def in_language(fn: Callable[..., Any], count: int) -> Callable[..., Any]:
    """fn(language, *values) as a handler of count values: the language is the visitor's
    (messages.language_of), read from the request Gradio passes."""

    def handler(*args: Any) -> Any:
        *values, request = args
        return fn(language_of(request), *values)

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter(f"value_{index}", positional) for index in range(count)]
    parameters.append(inspect.Parameter("request", positional, default=None, annotation=gr.Request))
    handler.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    handler.__annotations__ = {"request": gr.Request}  # how Gradio knows to pass it
    return handler


# ---- handlers ---------------------------------------------------------------------------


def model_choices(catalog: ModelCatalog) -> list[tuple[str, str]]:
    return [(model.label, model.name) for model in catalog]


def generator_models(catalogs: CatalogStore) -> ModelCatalog:
    """The generator's models now: the catalogue's, then the FLUX LoRAs."""
    return with_loras(catalogs.current)


def size_update(model: ModelInfo, name: str, **update: Any) -> Any:
    """A width or height slider's update with the model's bounds and step."""
    minimum, step = size_rule(model)
    maximum = getattr(model.defaults, f"max_{name}")
    return gr.update(minimum=minimum, maximum=maximum, step=step, **update)


def format_credits(value: float) -> str:
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


def cost_line(
    catalogs: CatalogStore,
    model_id: Any,
    width: Any,
    height: Any,
    steps: Any,
    count: Any,
    prompt: Any = "",
    neg_prompt: Any = "",
    style: Any = None,
    language: str = ENGLISH,
) -> str:
    """The live estimate of the plan Generate would run, at Heurist's current prices in credits
    and dollars, per image and in all (or the refusal); the seed document's unit as a note.
    In language (messages.py)."""
    model = generator_models(catalogs).find(model_id)
    if model is None:
        return say(language, "cost.pick")
    text = prompt if isinstance(prompt, str) and prompt.strip() else "-"
    try:
        plan = plan_images(
            catalogs.current,
            count,
            text,
            model.name,
            style=style,
            neg_prompt=neg_prompt,
            width=width,
            height=height,
            num_iterations=steps,
        )
    except HeuristError as error:
        return say(language, "cost.not_runnable", problem=as_text(error_text(error, language)))
    first, images = job_settings(plan.jobs[0]), len(plan.jobs)
    styled = (
        say(language, "cost.style", style=as_text(style)) if style and style != NO_STYLE else ""
    )
    kind = lora_kind(model.name)
    note = (
        price_note(language, kind.price_note)
        if kind
        else say(language, "cost.unit", credits=format_credits(plan.credits / images))
    )
    return say(
        language,
        "cost.line",
        each=price_text(language, Price(plan.price.credits / images)),
        total=price_text(language, plan.price),
        summary=images_summary(language, images, check_count(count)),
        kind=model.kind,
        width=first["width"],
        height=first["height"],
        steps=first["num_iterations"],
        style=styled,
        prices=say(language, "cost.prices"),
        note=note,
    )


def images_summary(language: str, images: int, per_variation: int) -> str:
    """variations.describe in language: '2 images', '3 variations × 2 images = 6 images'."""
    variations = images // per_variation
    if variations <= 1:
        return counted(language, "image", images)
    return say(
        language,
        "summary.variations",
        variations=variations,
        each=counted(language, "image", per_variation),
        total=counted(language, "image", images),
    )


def steps_note(steps: Any) -> Any:
    """The Steps slider's note: above 35, say that Heurist's miners stop there."""
    try:
        above = int(steps) > MINER_MAX_STEPS
    except (TypeError, ValueError, OverflowError):
        above = False
    return gr.update(info=words("steps.note") if above else None)


def model_shown(catalogs: CatalogStore, model_id: Any) -> tuple:
    """What the model shows, never a value: negative prompt or not, its LoRA help, guidance
    or (a FLUX LoRA, whose miner takes no guidance) the LoRA strength.

    Runs on every change of the model, a restore's included: the values are the restore's.
    For (negative prompt, LoRA row, LoRA help, guidance, strength).
    """
    model = generator_models(catalogs).find(model_id)
    if model is None:
        return gr.update(), gr.update(visible=False), gr.update(), gr.update(), gr.update()
    workflow = lora_kind(model.name) is not None
    return (
        gr.update(visible=model.takes_negative_prompt),
        gr.update(visible=model.is_lora and bool(model.autofill or model.recommend)),
        gr.update(value=lora_help(model)),
        gr.update(visible=not workflow),
        gr.update(visible=workflow),
    )


def model_bounds(catalogs: CatalogStore, model_id: Any, width: Any, height: Any) -> tuple:
    """The size sliders' bounds and step for the model; a value only where it is outside them."""
    model = generator_models(catalogs).find(model_id)
    if model is None:
        return gr.update(), gr.update()
    minimum = size_rule(model)[0]

    def bound(value: Any, name: str) -> Any:
        maximum = getattr(model.defaults, f"max_{name}")
        number = _int_or(value, minimum)
        clamped = min(max(number, minimum), maximum)
        return size_update(model, name, **({"value": clamped} if clamped != number else {}))

    return bound(width, "width"), bound(height, "height")


def lora_help(model: ModelInfo) -> str:
    """Trigger words, recommended keywords and base of a LoRA, as Markdown lines."""
    lines = []
    if model.autofill:
        lines.append(f"**Trigger words:** <code>{as_text(model.autofill)}</code>")
    if model.recommend:
        lines.append(f"**Recommended keywords:** {as_text(model.recommend)}")
    if model.base:
        lines.append(f"LoRA on **{as_text(model.base)}**.")
    return "  \n".join(lines)


def model_picked(catalogs: CatalogStore, model_id: Any) -> tuple:
    """A model picked by the user: its recommended size (and bounds), steps, guidance and
    negative prompt, and what it shows; one update, so no other event races it.

    For (width, height, steps, guidance, LoRA strength, negative prompt, LoRA row, LoRA help).
    """
    model = generator_models(catalogs).find(model_id)
    if model is None:
        return (gr.update(),) * 8
    d = model.defaults
    _, lora_row, lora_text, guidance, strength = model_shown(catalogs, model_id)
    return (
        size_update(model, "width", value=d.width),
        size_update(model, "height", value=d.height),
        gr.update(value=d.num_iterations),
        gr.update(value=d.guidance_scale, **guidance),
        gr.update(value=STRENGTH.default, **strength),
        gr.update(value=d.neg_prompt or "", visible=model.takes_negative_prompt),
        lora_row,
        lora_text,
    )


def insert_trigger(catalogs: CatalogStore, prompt: str, model_id: Any) -> str:
    """The prompt with the LoRA's trigger words in front, once."""
    model = generator_models(catalogs).find(model_id)
    prompt = prompt or ""
    if model is None or not model.autofill or model.autofill.lower() in prompt.lower():
        return prompt
    return f"{model.autofill}, {prompt}" if prompt.strip() else model.autofill


def aspect_size(ratio: float, model: ModelInfo) -> tuple[int, int]:
    """A size of the given aspect ratio with about the model's default pixel count."""
    d = model.defaults
    minimum, step = size_rule(model)
    area = d.width * d.height
    width = min(math.sqrt(area * ratio), d.max_width)
    height = min(width / ratio, d.max_height)
    width = height * ratio
    return (
        max(minimum, int(width) // step * step),
        max(minimum, int(height) // step * step),
    )


def aspect_sizes(catalogs: CatalogStore, preset: str, model_id: Any) -> tuple:
    model = generator_models(catalogs).find(model_id)
    if model is None or preset not in ASPECT_PRESETS:
        return gr.update(), gr.update()
    width, height = aspect_size(ASPECT_PRESETS[preset], model)
    return gr.update(value=width), gr.update(value=height)


def current_models(catalogs: CatalogStore) -> Any:
    """The dropdown's choices from the catalogue as it is now (no network)."""
    return gr.update(choices=model_choices(generator_models(catalogs)))


def refresh_models(catalogs: CatalogStore, model_id: Any, language: str = ENGLISH) -> Any:
    """Fetch the model list now; keep the chosen model if it is still offered."""
    catalog = with_loras(catalogs.refresh())
    value = model_id if model_id in catalog else catalog.default_model().name
    inform(say(language, f"refresh.{catalog.source}"))
    return gr.update(choices=model_choices(catalog), value=value)


def _int_or(value: Any, fallback: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return fallback
