"""The tools an AI agent sees over MCP: generate images, list the models, estimate the cost.

Gradio turns each public endpoint into a tool, described by its function's docstring. A key
comes from the server, or from the agent's X-Heurist-Key request header: never as an
argument, which would sit in the agent's transcript.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import gradio as gr
from PIL import Image

from ..batch import SavedImage, check_count, prepare_batch, summarize_failures
from ..cost import estimate_credits
from ..errors import HeuristError
from ..params import validate
from ..preview import contact_sheet
from .errors import user_error
from .studio import Studio

log = logging.getLogger(__name__)

KEY_HEADER = "X-Heurist-Key"
NO_KEY = (
    f"No Heurist API key. Set the {KEY_HEADER} header (user_id#api_key) in your MCP client's "
    "configuration; this server has no key of its own."
)


def hide_from_mcp(fn: Callable) -> Callable:
    """Keep an endpoint off the MCP tool list (Gradio lists only functions marked as tools)."""
    from .gradio_private import rest_only  # Gradio's private mark, kept with the others

    return rest_only(fn)


def wire(studio: Studio) -> None:
    """Register the tools as API endpoints on hidden components."""
    names = studio.catalog.names
    with gr.Column(visible=False):
        prompt = gr.Textbox(label="prompt")
        model = gr.Dropdown(names, value=studio.catalog.default_model().name, label="model")
        width = gr.Number(0, label="width", precision=0)
        height = gr.Number(0, label="height", precision=0)
        steps = gr.Number(0, label="steps", precision=0)
        guidance = gr.Number(0, label="guidance")
        seed = gr.Number(-1, label="seed", precision=0)
        count = gr.Number(1, label="count", precision=0)
        preview = gr.Image(type="pil", format="webp", label="preview")
        details = gr.Textbox(label="details")
        trigger = gr.Button()
    # Unqueued: Gradio's MCP server then calls it directly. Queued, it goes through a loopback
    # client that (in gradio 6.31) hands a two-output answer to the agent as one line of text.
    trigger.click(
        generate_tool(studio),
        [prompt, model, width, height, steps, guidance, seed, count],
        [preview, details],
        api_name="generate_images",
        queue=False,
    )
    trigger.click(list_tool(studio), None, details, api_name="list_models", queue=False)
    gr.api(enhance_tool(studio), api_name="enhance_prompt_tool", concurrency_limit=None)
    trigger.click(
        cost_tool(studio),
        [model, width, height, steps, count],
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
        request: gr.Request,
        x_heurist_key: gr.Header = None,  # type: ignore[assignment]
    ) -> tuple[Image.Image, str]:
        """Generate images with Heurist's Stable Diffusion and FLUX models. Costs credits: call
        estimate_cost first for a price (FLUX costs 4x SDXL). Returns ONE compact WebP preview
        (the images side by side, at most 512 px each, in order) and JSON with, for each
        image, png_url (the full-size PNG with its generation parameters), seed, size, model
        and credits. Without a server key, send your key in the X-Heurist-Key header.

        Args:
            prompt: What to draw: comma-separated tags for SD models, one plain sentence for FLUX.
            model: An image model name from list_models, e.g. SDXL or FLUX.1-dev.
            width: Pixels, 64 to the model's max_width; 0 for the model's default.
            height: Pixels, 64 to the model's max_height; 0 for the model's default.
            steps: Inference steps, 1 to 50 (Heurist runs at most 35); 0 for the default.
            guidance: Guidance scale, 1 to 20; 0 for the model's default.
            seed: -1 for random, or 0 to 2^53-1 to reproduce; count > 1 uses seed, seed+1, ...
            count: Number of images, 1 to 8 (each one a job, all in parallel).
        """
        key = (x_heurist_key or "").strip() or None
        if key is None and not studio.client.has_key:
            raise user_error(NO_KEY)
        try:
            jobs = prepare_batch(
                studio.client,
                1 if count is None else count,
                prompt,
                model,
                width=_or_default(width),
                height=_or_default(height),
                num_iterations=_or_default(steps),
                guidance_scale=_or_default(guidance),
                seed=-1 if seed is None else seed,
            )
        except HeuristError as error:
            raise user_error(str(error)) from None
        studio.check_rate(key, request, len(jobs))
        saved, failures = [], []
        try:
            async for outcome in studio.runner.stream(jobs, key):
                if outcome.image is None:
                    failures.append(str(outcome.error))
                else:
                    saved.append((outcome.index, outcome.image))
        except HeuristError as error:  # refused before anything was sent
            raise user_error(str(error)) from None
        if not saved:
            raise user_error(summarize_failures(failures, len(jobs)))
        images = [image for _, image in sorted(saved, key=lambda pair: pair[0])]
        root = public_root(request)
        report: dict[str, Any] = {"images": [_summary(image, root) for image in images]}
        if failures:
            report["failed"] = summarize_failures(failures, len(jobs))
        sheet = contact_sheet([image.path for image in images])
        return sheet, json.dumps(report, ensure_ascii=False)

    return generate_images


def _summary(image: SavedImage, root: str) -> dict[str, Any]:
    record = image.record
    return {
        "png_url": f"{root}/gradio_api/file={quote(str(image.path.resolve()))}",
        "seed": record["seed"],
        "width": record["width"],
        "height": record["height"],
        "model": record["model_id"],
        "credits": round(record["credits"], 4),
        "prompt": record["prompt"],
    }


def list_tool(studio: Studio) -> Callable:
    def list_models() -> str:
        """List Heurist's image models: for each, its name (pass it as model), kind (SD 1.5,
        SDXL, FLUX, or a LoRA of one), default size, steps and guidance, maximum size, whether
        it takes a negative prompt, its LoRA trigger words, and its price in credits for one
        1024x1024, 20-step image (cost scales with pixels and steps). Free to call.
        """
        catalog = studio.catalog
        return json.dumps([_model_entry(model) for model in catalog], ensure_ascii=False)

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


def cost_tool(studio: Studio) -> Callable:
    def estimate_cost(
        model: str,
        width: float | None,
        height: float | None,
        steps: float | None,
        count: float | None,
    ) -> str:
        """Estimate the credits a generate_images call would cost, before paying. Free to call.
        One credit is one 1024x1024 SDXL image at 20 steps; cost is proportional to pixels and
        steps, times the model's factor (SD 1.5 0.5, SDXL 1, SDXL LoRA 2, FLUX 4, FLUX LoRA 10).

        Args:
            model: An image model name from list_models.
            width: Pixels (64 to the model's max_width); 0 for the model's default.
            height: Pixels (64 to the model's max_height); 0 for the model's default.
            steps: Inference steps, 1 to 50; 0 for the model's default.
            count: Number of images, 1 to 8.
        """
        try:
            chosen = studio.catalog.get(model)
            params = validate(
                chosen,
                prompt="-",
                width=_or_default(width),
                height=_or_default(height),
                num_iterations=_or_default(steps),
            )
            images = check_count(1 if count is None else count)
        except HeuristError as error:
            raise user_error(str(error)) from None
        each = estimate_credits(chosen.type, params.width, params.height, params.num_iterations)
        return json.dumps(
            {
                "model": chosen.name,
                "width": params.width,
                "height": params.height,
                "steps": params.num_iterations,
                "count": images,
                "credits_per_image": round(each, 4),
                "credits_total": round(each * images, 4),
            }
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
        must_include: str = "",
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
