"""Prompt help under the prompt: ✨ Enhance (SmartGen), examples for the model, style presets."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr

from ..catalog import CatalogStore, ModelCatalog, ModelInfo
from ..enhance import LEVEL_NAMES
from ..errors import HeuristError
from ..params import SETTING_FIELDS
from ..plan import plan_enhance
from ..prompt_help import NO_STYLE, apply_style, examples_for, style_names
from . import controls
from .errors import inform, user_error
from .form import Form
from .markup import as_text
from .mcp_tools import hide_from_mcp
from .messages import error_text, language_of, no_key, say, title
from .studio import Studio
from .words import level_label, words

PRIVATE = {"api_visibility": "private"}
INSTANT = {"queue": False, "show_progress": "hidden", **PRIVATE}


@dataclass(frozen=True)
class PromptHelp:
    enhance: gr.Button
    restore: gr.Button
    llm: gr.Dropdown
    levels: tuple[gr.Slider, ...]  # in LEVEL_NAMES order
    must_include: gr.Textbox
    enhanced: gr.State  # the last enhancement: {"prompt", "description", "llm"}
    examples: gr.Dataset
    sent: gr.Markdown  # the prompt as it will be sent, when a style changes it


def render_enhance_buttons() -> tuple[gr.Button, gr.Button]:
    """✨ Enhance, and ↩ Restore description (shown after an enhancement)."""
    with gr.Row(elem_id="enhance-row"):
        enhance = gr.Button(words("enhance"), size="sm", scale=0, min_width=110, elem_id="enhance")
        restore = gr.Button(words("enhance.restore"), size="sm", scale=0, visible=False)
    return enhance, restore


def render_enhance_settings(catalog: ModelCatalog) -> tuple:
    """The Enhance settings, folded: (language model, levels, must include)."""
    with gr.Accordion(words("enhance.settings"), open=False):
        llm = gr.Dropdown(
            list(catalog.llms), value=catalog.default_llm(), label=words("enhance.llm")
        )
        with gr.Row():
            levels = tuple(
                gr.Slider(1, 5, value=3, step=1, label=level_label(name), min_width=100)
                for name in LEVEL_NAMES
            )
        must_include = gr.Textbox(
            label=words("enhance.keep"), placeholder=words("enhance.keep.placeholder")
        )
    return llm, levels, must_include


def render_examples(model: ModelInfo) -> gr.Dataset:
    return gr.Dataset(
        components=[gr.Textbox(visible=False)],
        samples=example_samples(model),
        label=words("examples"),
        type="index",
        elem_id="examples",
    )


def render_style() -> tuple[gr.Dropdown, gr.Markdown]:
    style = gr.Dropdown(style_names(), value=NO_STYLE, label=words("style"), elem_id="style")
    sent = gr.Markdown(visible=False, elem_id="sent-prompt", render=False)  # placed by the caller
    return style, sent


def wire(studio: Studio, help_: PromptHelp, form: Form, style: gr.Dropdown, api_key) -> None:
    """Enhance and restore, examples following the model, the styled prompt's preview."""
    catalogs = studio.catalogs
    help_.enhance.click(
        enhance_handler(studio),
        [form.prompt, form.model_id, help_.llm, *help_.levels, help_.must_include, api_key],
        [form.prompt, help_.enhanced, help_.restore],
        concurrency_limit=None,
        show_progress="minimal",
        **PRIVATE,
    )
    help_.restore.click(
        restore_description,
        help_.enhanced,
        [form.prompt, help_.enhanced, help_.restore],
        **INSTANT,
    )
    form.model_id.change(
        partial(examples_update, catalogs), form.model_id, help_.examples, **INSTANT
    )
    help_.examples.click(
        partial(use_example, catalogs), [form.model_id, help_.examples], form.settings, **INSTANT
    )
    wire_rest(studio)
    gr.on(
        [style.change, form.prompt.change, form.neg_prompt.change, form.model_id.change],
        partial(sent_preview, catalogs),
        [style, form.prompt, form.neg_prompt, form.model_id],
        help_.sent,
        **INSTANT,
    )


# ---- handlers ---------------------------------------------------------------------------


def enhance_handler(studio: Studio) -> Callable[..., tuple]:
    def enhance_in_form(
        prompt: str,
        model_id: str,
        llm: str,
        stylization: int,
        detail: int,
        color: int,
        lighting: int,
        must_include: str,
        api_key: str,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    ) -> tuple:
        levels = (stylization, detail, color, lighting)  # LEVEL_NAMES' order
        text = enhance_text(
            studio,
            prompt,
            model_id,
            llm,
            *levels,
            must_include,
            api_key,
            request=request,
            on_translation=say_translated,
        )
        state = {"prompt": text, "description": (prompt or "").strip(), "llm": llm}
        return text, state, gr.update(visible=True)

    return enhance_in_form


def enhance_text(
    studio: Studio,
    description: Any,
    model_id: Any,
    llm_model: Any,
    stylization: Any = 3,
    detail: Any = 3,
    color: Any = 3,
    lighting: Any = 3,
    must_include: Any = "",
    api_key: Any = "",
    *,
    request: gr.Request | None = None,
    on_translation: Callable[[str, str], None] | None = None,
) -> str:
    """The enhanced prompt for the model's family, or a gr.Error that leaves the form alone.

    On the server's key, an enhancement counts as one image against the visitor's rate limit.
    A description in another language gives an English prompt; on_translation hears which,
    and the visitor's language (messages.language_of: English but for the page's events).
    """
    language = language_of(request)
    failed = title(language, "enhance_failed")
    key = str(api_key or "").strip() or None
    if key is None and not studio.client.has_key:
        raise user_error(no_key(language), title=title(language, "no_key"))
    try:
        plan = plan_enhance(
            studio.catalog,
            description,
            model_id,
            llm_model,
            must_include,
            stylization=stylization,
            detail=detail,
            color=color,
            lighting=lighting,
        )
    except HeuristError as error:
        raise user_error(error_text(error, language), title=failed) from None
    studio.admit(plan, key, request)
    try:
        text, written_in = studio.enhancer.enhance_noted(plan.enhance, api_key=key)
    except HeuristError as error:
        raise user_error(error_text(error, language), title=failed) from None
    if written_in and on_translation is not None:
        on_translation(written_in, language)
    return text


def say_translated(written_in: str, language: str) -> None:
    """Tell the user their description was translated (the language named by the LLM, as
    plain words only), in their own language."""
    name = re.sub(r"[^\w \-]", "", written_in)[:40].strip() or "another language"
    inform(say(language, "enhance.translated", name=name))


def wire_rest(studio: Studio) -> None:
    """/enhance_prompt for scripts, on hidden components: each input and the output named."""
    with gr.Column(visible=False):
        texts = {name: gr.Textbox(label=name) for name in ("description", "model_id", "llm_model")}
        levels = [controls.raw_input(gr.Number(3, label=name, precision=0)) for name in LEVEL_NAMES]
        keep, key = gr.Textbox(label="must_include"), gr.Textbox(label="api_key")
        prompt = gr.Textbox(label="prompt")
    gr.Button(visible=False).click(
        hide_from_mcp(rest_endpoint(studio)),
        [*texts.values(), *levels, keep, key],
        prompt,
        api_name="enhance_prompt",
        api_description="Enhance a short description into a prompt for the model's family.",
        concurrency_limit=None,
    )


def rest_endpoint(studio: Studio) -> Callable[..., str]:
    def enhance_prompt_with_key(
        description: str,
        model_id: str,
        llm_model: str | None = None,
        stylization: int = 3,
        detail: int = 3,
        color: int = 3,
        lighting: int = 3,
        must_include: str | None = None,
        api_key: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    ) -> str:
        """Turn a short description into a prompt written for the image model's family
        (tags for SD 1.5/SDXL, one sentence for FLUX), through Heurist's LLM gateway.
        Levels are 1-5 (3 adds nothing); must_include is kept word for word."""
        return enhance_text(
            studio,
            description,
            model_id,
            llm_model,
            stylization,
            detail,
            color,
            lighting,
            must_include,
            api_key,
            request=request,
        )

    return enhance_prompt_with_key


def restore_description(enhanced: Any) -> tuple:
    if not isinstance(enhanced, dict) or not enhanced.get("description"):
        return gr.update(), None, gr.update(visible=False)
    return enhanced["description"], None, gr.update(visible=False)


def example_samples(model: ModelInfo) -> list[list[str]]:
    return [[f"{example.title}: {example.prompt}"] for example in examples_for(model)]


def examples_update(catalogs: CatalogStore, model_id: Any) -> Any:
    model = controls.generator_models(catalogs).find(model_id)
    return gr.Dataset(samples=example_samples(model)) if model else gr.update()


def use_example(catalogs: CatalogStore, model_id: Any, index: Any) -> tuple:
    """The form filled from the model's example number index."""
    model = controls.generator_models(catalogs).find(model_id)
    examples = examples_for(model) if model else ()
    if not isinstance(index, int) or not 0 <= index < len(examples):
        return (gr.update(),) * len(SETTING_FIELDS)
    values = examples[index].form_values(model)
    return tuple(
        gr.update(value=values[name]) if name in values else gr.update() for name in SETTING_FIELDS
    )


def styled(catalogs: CatalogStore, style: Any, prompt: Any, neg_prompt: Any, model_id: Any):
    """(prompt, negative prompt) as they will be sent with the style."""
    model = controls.generator_models(catalogs).find(model_id)
    takes_negative = model.takes_negative_prompt if model else True
    return apply_style(
        style, str(prompt or ""), str(neg_prompt or ""), takes_negative=takes_negative
    )


def sent_preview(
    catalogs: CatalogStore, style: Any, prompt: Any, neg_prompt: Any, model_id: Any
) -> Any:
    """A small preview of what a style sends, hidden without one."""
    if not style or style == NO_STYLE or not str(prompt or "").strip():
        return gr.update(visible=False)
    try:
        final, negative = styled(catalogs, style, prompt, neg_prompt, model_id)
    except HeuristError as error:
        return gr.update(value=str(error), visible=True)
    lines = [f"**Sent as:** {as_text(final)}"]
    if negative:
        lines.append(f"**Negative:** {as_text(negative)}")
    return gr.update(value="  \n".join(lines), visible=True)
