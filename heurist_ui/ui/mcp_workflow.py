"""MCP tools for the workflow kinds: generate_video and generate_flux_lora.

Each returns an image the agent can see (a video's first frame, or a FLUX-LoRA preview) and
JSON with the saved file's URL and its record. Their argument docs come from the kinds'
settings tables, so the bounds an agent reads are the ones enforced.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import quote

import gradio as gr
from PIL import Image

from ..batch import SavedImage, outcome_of
from ..errors import HeuristError
from ..flux_lora import FLUX_LORA_SETTINGS, LORAS, flux_lora
from ..jobkinds import Setting, WorkflowJob
from ..plan import plan_workflow
from ..video import HUNYUAN, MOCHI, MOCHI_SETTINGS, VIDEO_KINDS, poster_frame
from .errors import user_error
from .studio import Studio

POSTER_SIDE = 512  # the longest side of the image handed to the agent


def _args_doc(settings: tuple[Setting, ...]) -> str:
    return "\n".join(
        f"    {s.name}: {s.help}, {s.minimum:g} to {s.maximum:g} (default {s.default:g}); "
        "0 or nothing for the default."
        for s in settings
    )


def _values(settings: tuple[Setting, ...], given: dict[str, Any]) -> dict[str, Any]:
    """The tool's arguments as a kind's settings: 0 or None means the default (not a seed's 0)."""
    values = {}
    for s in settings:
        value = given.get(s.name)
        values[s.name] = None if value is None or (value == 0 and not s.allow_random) else value
    return values


async def run_one(studio: Studio, job: WorkflowJob, key: str | None) -> SavedImage:
    """Run one job on the shared runner; cancel its task if the agent goes away."""
    cancel = threading.Event()
    try:
        (future,) = studio.runner.submit([job], key, cancel=cancel)
    except HeuristError as error:
        raise user_error(str(error)) from None
    try:
        await asyncio.wrap_future(future)
    except HeuristError:
        pass  # reported below
    finally:
        cancel.set()
    outcome = outcome_of(future, 0, job)
    if outcome.image is None:
        raise user_error(str(outcome.error))
    return outcome.image


def _report(saved: SavedImage, root: str) -> str:
    url = f"{root}/gradio_api/file={quote(str(saved.path.resolve()))}"
    return json.dumps({"url": url, "record": saved.record}, ensure_ascii=False, default=str)


def _small(data_or_path: Any) -> Image.Image:
    image = Image.open(
        io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    )
    image = image.convert("RGB")
    image.thumbnail((POSTER_SIDE, POSTER_SIDE))
    return image


async def _run_task(
    studio: Studio, kind: Callable[[], Any], prompt: Any, values: dict, header: Any, request: Any
) -> Any:
    """A workflow tool's call: the agent's key (or the server's), the plan checked and admitted
    (kind() may refuse a name), then the task run to its end; a plain tool error otherwise."""
    from .mcp_tools import NO_KEY

    key = (header or "").strip() or None
    if key is None and not studio.client.has_key:
        raise user_error(NO_KEY)
    try:
        plan = plan_workflow(kind(), prompt, **values)
    except HeuristError as error:
        raise user_error(str(error)) from None
    studio.admit(plan, key, request)
    return await run_one(studio, plan.jobs[0], key)


def video_tool(studio: Studio) -> Callable:
    from .mcp_tools import public_root

    async def generate_video(
        prompt: str,
        model: str = "hunyuan",
        width: float | None = None,
        height: float | None = None,
        length: float | None = None,
        steps: float | None = None,
        seed: float | None = None,
        fps: float | None = None,
        quality: float | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
        x_heurist_key: gr.Header = None,  # type: ignore[assignment]
    ) -> tuple[Image.Image, str]:
        kind = VIDEO_KINDS.get(str(model))
        if kind is None:
            raise user_error(f"model must be one of {', '.join(VIDEO_KINDS)}.")
        given = dict(width=width, height=height, length=length, steps=steps, seed=seed, fps=fps) | {
            "quality": quality
        }
        values = _values(MOCHI_SETTINGS, given) if kind is MOCHI else {}
        saved = await _run_task(studio, lambda: kind, prompt, values, x_heurist_key, request)
        return _small(poster_frame(saved.path)), _report(saved, public_root(request))

    generate_video.__doc__ = f"""Generate a short video with Heurist's workflow API and wait
    for it (minutes). Costs credits: hunyuan {HUNYUAN.price_note}; mochi: {MOCHI.price_note}.
    Returns the video's first frame as an image and JSON with url (the saved video: MP4 for
    hunyuan, animated WebP for mochi, its record inside) and record. Without a server key,
    send your key in the X-Heurist-Key header.

    Args:
        prompt: What the video shows, one or two plain sentences.
        model: hunyuan (prompt only) or mochi (takes the settings below).
{_args_doc(MOCHI_SETTINGS)}
    """
    return generate_video


def flux_lora_tool(studio: Studio) -> Callable:
    from .mcp_tools import public_root

    async def generate_flux_lora(
        prompt: str,
        lora: str = "heuristlogo",
        width: float | None = None,
        height: float | None = None,
        steps: float | None = None,
        strength_model: float | None = None,
        noise_seed: float | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
        x_heurist_key: gr.Header = None,  # type: ignore[assignment]
    ) -> tuple[Image.Image, str]:
        given = dict(width=width, height=height, steps=steps, strength_model=strength_model) | {
            "noise_seed": -1 if noise_seed is None else noise_seed
        }
        values = _values(FLUX_LORA_SETTINGS, given)
        kind = partial(flux_lora, str(lora))
        saved = await _run_task(studio, kind, prompt, values, x_heurist_key, request)
        return _small(saved.path), _report(saved, public_root(request))

    generate_flux_lora.__doc__ = f"""Generate one image with FLUX and a named LoRA through
    Heurist's workflow API. Costs credits: 0.5 per 1024x1024 image at 20 steps, scaled by
    pixels and steps. Returns a preview and JSON with url (the full JPEG, its record inside)
    and record. Without a server key, send your key in the X-Heurist-Key header.

    Args:
        prompt: What to draw, one plain description.
        lora: One of {", ".join(LORAS)}.
{_args_doc(FLUX_LORA_SETTINGS)}
    """
    return generate_flux_lora


def wire(studio: Studio) -> None:
    """Register the tools on hidden components, unqueued as the other tools are."""
    with gr.Column(visible=False):
        prompt = gr.Textbox(label="prompt")
        model = gr.Dropdown(list(VIDEO_KINDS), value="hunyuan", label="model")
        lora = gr.Dropdown(list(LORAS), value="heuristlogo", label="lora")
        video_inputs = [gr.Number(None, label=s.name) for s in MOCHI_SETTINGS]
        flux_inputs = [gr.Number(None, label=s.name) for s in FLUX_LORA_SETTINGS]
        preview = gr.Image(type="pil", format="webp", label="preview")
        details = gr.Textbox(label="details")
        trigger = gr.Button()
    trigger.click(
        video_tool(studio),
        [prompt, model, *video_inputs],
        [preview, details],
        api_name="generate_video",
        queue=False,
    )
    trigger.click(
        flux_lora_tool(studio),
        [prompt, lora, *flux_inputs],
        [preview, details],
        api_name="generate_flux_lora",
        queue=False,
    )
