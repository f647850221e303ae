"""The tools an AI agent sees over MCP: generate images, list the models, estimate the cost.

Gradio turns each public endpoint into a tool, described by its function's docstring. A key
comes from the server, or from the agent's X-Heurist-Key request header: never as an
argument, which would sit in the agent's transcript.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import gradio as gr
from PIL import Image

from ..batch import SavedImage, summarize_failures
from ..cost import estimate_credits
from ..enhance import LEVEL_NAMES
from ..errors import HeuristError
from ..fields import COUNT, SETTINGS
from ..generator_models import LORA_MODELS, STRENGTH, job_settings, size_rule, with_loras
from ..plan import Plan, plan_images
from ..preview import contact_sheet
from .errors import user_error
from .studio import Studio
from .words import words

log = logging.getLogger(__name__)

KEY_HEADER = "X-Heurist-Key"
# The tools' hidden components live on a page of their own (off the navbar): the studio's
# page then neither downloads nor processes them. Its path, under the app's root.
TOOLS_PAGE = "agent-tools"
TOOLS_PAGE_NAME = "Tools for AI agents"
NO_KEY = (
    f"No Heurist API key. Set the {KEY_HEADER} header (user_id#api_key) in your MCP client's "
    "configuration; this server has no key of its own."
)


PREVIEW_FAILED = (
    "The images were made but their preview could not be drawn on this server. Call "
    "generate_images again, or ask the studio's owner to check its disk."
)


def hide_from_mcp(fn: Callable) -> Callable:
    """Keep an endpoint off the MCP tool list (Gradio lists only functions marked as tools)."""
    from .gradio_private import rest_only  # Gradio's private mark, kept with the others

    return rest_only(fn)


def render_page_note() -> None:
    """What a visitor who opens the tools' page sees: where the tools are, and the studio."""
    gr.Markdown(words("tools.note"))


def wire(studio: Studio) -> None:
    """Register the tools as API endpoints on hidden components."""
    names = with_loras(studio.catalog).names
    with gr.Column(visible=False):
        prompt = gr.Textbox(label="prompt")
        model = gr.Dropdown(names, value=studio.catalog.default_model().name, label="model")
        width = gr.Number(0, label="width", precision=0)
        height = gr.Number(0, label="height", precision=0)
        steps = gr.Number(0, label="steps", precision=0)
        guidance = gr.Number(0, label="guidance")
        seed = gr.Number(-1, label="seed", precision=0)
        count = gr.Number(1, label="count", precision=0)
        strength = gr.Number(STRENGTH.default, label=STRENGTH.name)
        description = gr.Textbox(label="description")
        levels = [gr.Number(3, label=name, precision=0) for name in LEVEL_NAMES]
        must_include = gr.Textbox(label="must_include")
        enhanced = gr.Textbox(label="prompt")
        preview = gr.Image(type="pil", format="webp", label="preview")
        details = gr.Textbox(label="details")
        trigger = gr.Button()
    # Unqueued: Gradio's MCP server then calls it directly. Queued, it goes through a loopback
    # client that (in gradio 6.31) hands a two-output answer to the agent as one line of text.
    trigger.click(
        generate_tool(studio),
        [prompt, model, width, height, steps, guidance, seed, count, strength],
        [preview, details],
        api_name="generate_images",
        queue=False,
    )
    trigger.click(list_tool(studio), None, details, api_name="list_models", queue=False)
    # Unqueued, like the others: the tool then sees the agent's own request (its address and
    # headers), not Gradio's loopback client that every agent would share.
    trigger.click(
        enhance_tool(studio),
        [description, model, *levels, must_include],
        enhanced,
        api_name="enhance_prompt_tool",
        queue=False,
    )
    from . import mcp_workflow  # here: it imports this module's helpers

    mcp_workflow.wire(studio)  # generate_video, generate_flux_lora
    trigger.click(
        cost_tool(studio),
        [model, width, height, steps, count, prompt, strength],
        details,
        api_name="estimate_cost",
        queue=False,
    )


def generate_tool(studio: Studio) -> Callable:
    async def generate_images(
        prompt: str,
        model: str,
        width: float | None,
        height: float | None,
        steps: float | None,
        guidance: float | None,
        seed: float | None,
        count: float | None,
        strength_model: float | None,
        request: gr.Request,
        x_heurist_key: gr.Header = None,  # type: ignore[assignment]
    ) -> tuple[Image.Image, str]:
        key = (x_heurist_key or "").strip() or None
        if key is None and not studio.client.has_key:
            raise user_error(NO_KEY)
        plan = _plan(
            studio, prompt, model, width, height, steps, guidance, seed, count, strength_model
        )
        studio.admit(plan, key, request)
        saved, failures = [], []
        # The images stay on disk, whatever the storage cap, until the preview is made.
        with studio.runner.retention.in_use() as held:
            try:
                async for outcome in studio.runner.stream(plan.jobs, key):
                    if outcome.image is None:
                        failures.append(str(outcome.error))
                    else:
                        held.add(outcome.image.path)
                        saved.append((outcome.index, outcome.image))
            except HeuristError as error:  # refused before anything was sent
                raise user_error(str(error)) from None
            if not saved:
                raise user_error(summarize_failures(failures, len(plan.jobs)))
            images = [image for _, image in sorted(saved, key=lambda pair: pair[0])]
            try:
                sheet = await asyncio.to_thread(contact_sheet, [image.path for image in images])
            except OSError:  # never the server's paths in a message
                log.warning("A preview could not be made", exc_info=True)
                raise user_error(PREVIEW_FAILED) from None
        root = public_root(request)
        report: dict[str, Any] = {"images": [_summary(image, root) for image in images]}
        if failures:
            report["failed"] = summarize_failures(failures, len(plan.jobs))
        return sheet, json.dumps(report, ensure_ascii=False)

    generate_images.__doc__ = GENERATE_DOC + _args_doc(TOOL_SETTINGS) + STRENGTH_DOC
    return generate_images


_LORA_MIN, _LORA_STEP = size_rule(LORA_MODELS[0])
GENERATE_DOC = f"""Generate images with Heurist's Stable Diffusion and FLUX models.

    Costs credits: call estimate_cost first with the same arguments for the price (FLUX costs
    4x SDXL). A model named flux-lora:<lora> (see list_models) is FLUX with that LoRA: sizes
    {_LORA_MIN} to {LORA_MODELS[0].defaults.max_width} in multiples of {_LORA_STEP}, no negative
    prompt or guidance, and strength_model. Runs count images for each {{a|b}} variation of
    the prompt (at most 64 jobs in all). Returns ONE compact WebP preview (the images side by
    side, at most 512 px each, in order) and JSON with, for each image, image_url (the
    full-size file with its generation parameters inside; format says which: png, jpeg or
    webp, as Heurist answered), seed, size, model and credits. Without a server key, send
    your key in the X-Heurist-Key header.
"""
COST_DOC = """Estimate the credits a generate_images call would cost, before paying. Free to call.

    Pass the same prompt to count its {a|b} variations (each runs count images). One credit is
    one 1024x1024 SDXL image at 20 steps; cost is proportional to pixels and steps, times the
    model's factor (SD 1.5 0.5, SDXL 1, SDXL LoRA 2, FLUX 4, FLUX LoRA 10; a flux-lora:<lora>
    model is priced at its credits-page price, 0.5 per such image). The totals named
    heurist_credits_total and usd_total are Heurist's current credits-page prices.
"""
STRENGTH_DOC = (
    f"        {STRENGTH.name}: For flux-lora:<lora> models, {STRENGTH.help}, "
    f"{STRENGTH.minimum:g} to {STRENGTH.maximum:g} (default {STRENGTH.default:g}); "
    "other models ignore it.\n"
)
# The generator settings an agent sets, in the tools' argument order, and what 0 means.
TOOL_SETTINGS = (*SETTINGS[:1], *SETTINGS[2:], COUNT)
TOOL_DEFAULT_NOTE = {"width", "height", "num_iterations", "guidance_scale"}


def _args_doc(settings: Any) -> str:
    """The Args: section Gradio reads for an MCP tool, from fields.SETTINGS."""
    lines = ["", "    Args:"]
    for setting in settings:
        note = "; 0 for the model's default" if setting.name in TOOL_DEFAULT_NOTE else ""
        text = setting.help[:1].upper() + setting.help[1:]
        lines.append(f"        {setting.mcp}: {text}{note}.")
    return "\n".join(lines) + "\n"


def _plan(
    studio: Studio, prompt, model, width, height, steps, guidance, seed, count, strength=None
) -> Plan:
    """The plan for a tool call's settings (0 or nothing: the model's default)."""
    try:
        return plan_images(
            studio.catalog,
            1 if count is None else count,
            prompt,
            model,
            width=_or_default(width),
            height=_or_default(height),
            num_iterations=_or_default(steps),
            guidance_scale=_or_default(guidance),
            seed=-1 if seed is None else seed,
            **{STRENGTH.name: strength},
        )
    except HeuristError as error:
        raise user_error(str(error)) from None


def _summary(image: SavedImage, root: str) -> dict[str, Any]:
    record = image.record
    return {
        "image_url": f"{root}/gradio_api/file={quote(str(image.path.resolve()))}",
        "format": IMAGE_FORMAT_NAMES.get(image.path.suffix.lower(), image.path.suffix[1:]),
        "seed": record["seed"],
        "width": record["width"],
        "height": record["height"],
        "model": record["model_id"],
        "credits": round(record["credits"], 4),
        "prompt": record["prompt"],
    }


IMAGE_FORMAT_NAMES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}


def list_tool(studio: Studio) -> Callable:
    def list_models() -> str:
        """List Heurist's image models: for each, its name (pass it as model), kind (SD 1.5,
        SDXL, FLUX, or a LoRA of one), default size, steps and guidance, maximum size, whether
        it takes a negative prompt, its LoRA trigger words, and its price in credits for one
        1024x1024, 20-step image (cost scales with pixels and steps). Free to call.
        """
        entries = [_model_entry(model) for model in studio.catalog]
        entries += [_lora_entry(model) for model in LORA_MODELS]
        return json.dumps(entries, ensure_ascii=False)

    return list_models


def _model_entry(model: Any) -> dict[str, Any]:
    d = model.defaults
    return {
        "name": model.name,
        "kind": model.kind,
        "default_width": d.width,
        "default_height": d.height,
        "max_width": d.max_width,
        "max_height": d.max_height,
        "default_steps": d.num_iterations,
        "default_guidance": d.guidance_scale,
        "takes_negative_prompt": model.takes_negative_prompt,
        "trigger_words": model.autofill,
        "credits_per_standard_image": estimate_credits(model.type, 1024, 1024, 20),
    }


def _lora_entry(model: Any) -> dict[str, Any]:
    """A workflow FLUX LoRA (flux-lora:<lora>) as list_models gives it: its kind's price."""
    kind = model.workflow
    standard = kind.prepare("-", width=1024, height=1024, steps=20)
    return {
        **_model_entry(model),
        "kind": kind.label,
        "min_size": size_rule(model)[0],
        "size_multiple": size_rule(model)[1],
        "default_guidance": None,
        "default_strength_model": STRENGTH.default,
        "credits_per_standard_image": standard.credits,
    }


def cost_tool(studio: Studio) -> Callable:
    def estimate_cost(
        model: str,
        width: float | None,
        height: float | None,
        steps: float | None,
        count: float | None,
        prompt: str | None = None,
        strength_model: float | None = None,
    ) -> str:
        # The same plan generate_images would run: its {a|b} variations count too.
        plan = _plan(
            studio, prompt or "-", model, width, height, steps, None, -1, count, strength_model
        )
        job, first = plan.jobs[0], job_settings(plan.jobs[0])
        return json.dumps(
            {
                "model": job.kind.name if hasattr(job, "kind") else job.model_id,
                "width": first["width"],
                "height": first["height"],
                "steps": first["num_iterations"],
                "count": len(plan.jobs),
                "what": plan.summary,
                "credits_per_image": round(plan.credits / len(plan.jobs), 4),
                "credits_total": round(plan.credits, 4),
                "heurist_credits_total": round(plan.price.credits, 5),
                "usd_total": round(plan.price.usd, 6),
            },
            ensure_ascii=False,
        )

    estimate_cost.__doc__ = (
        COST_DOC + _args_doc((*TOOL_SETTINGS[1:5], COUNT, SETTINGS[0])) + STRENGTH_DOC
    )
    return estimate_cost


def _or_default(value: float | None) -> float | None:
    """None (the model's default) for 0 or nothing: the tools' way to say 'default'."""
    return None if value in (None, 0) else value


def public_root(request: gr.Request) -> str:
    """The app's address as the caller sees it (behind a proxy too, as on a Space)."""
    headers = {str(name).lower(): str(value) for name, value in dict(request.headers).items()}
    forwarded_host = headers.get("x-forwarded-host", "").split(",")[0].strip()
    url = urlsplit(str(request.url))
    root = f"http://{forwarded_host}" if forwarded_host else f"{url.scheme}://{url.netloc}"
    if headers.get("x-forwarded-proto", "").split(",")[0].strip() == "https":
        root = "https://" + root.split("://", 1)[1]
    return root


def enhance_tool(studio: Studio) -> Callable[..., str]:
    from .prompt_help import enhance_text  # here: prompt_help imports this module

    def enhance_prompt(
        description: str,
        model: str = "SDXL",
        stylization: int = 3,
        detail: int = 3,
        color: int = 3,
        lighting: int = 3,
        must_include: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
        x_heurist_key: gr.Header = None,  # type: ignore[assignment]
    ) -> str:
        """Turn a short description into a good prompt for an image model (SmartGen), through
        Heurist's LLM gateway: comma-separated tags for SD 1.5/SDXL models, one plain
        description under 50 words for FLUX. Costs a few LLM tokens, no image credits. Use
        the result as generate_images' prompt with the same model.

        Args:
            description: What the image should show, in a few words.
            model: The image model the prompt is for (its family decides the style of prompt).
            stylization: 1 (photorealistic) to 5 (abstract); 3 adds no instruction.
            detail: 1 (minimal) to 5 (hyper-detailed); 3 adds no instruction.
            color: 1 (monochrome) to 5 (hyper-saturated); 3 adds no instruction.
            lighting: 1 (flat) to 5 (extreme drama); 3 adds no instruction.
            must_include: A phrase the prompt must keep word for word (optional).
        """
        key = (x_heurist_key or "").strip()
        if not key and not studio.client.has_key:
            raise user_error(NO_KEY)
        return enhance_text(
            studio,
            description,
            model,
            None,
            stylization,
            detail,
            color,
            lighting,
            must_include,
            key,
            request=request,
        )

    return enhance_prompt
