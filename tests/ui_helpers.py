"""Launching the studio in-process, on a free loopback port, and driving its handlers."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is first imported

from gradio_client import Client
from waiting import LIMIT

from app import build_app
from bench.procs import free_port
from heurist_ui.config import Settings, load_settings
from heurist_ui.sandbox import Sandbox
from heurist_ui.ui import Studio, launch_options, serve

SDXL, FLUX, FLUX_LORA, SD15_LORA = "SDXL", "FLUX.1-dev", "HeuristLogo", "MagusDevon"

# /generate's parameters, in order: the public API the issue fixes.
PARAMETERS = (
    "prompt",
    "neg_prompt",
    "model_id",
    "width",
    "height",
    "num_iterations",
    "guidance_scale",
    "seed",
    "num_images",
    "api_key",
    "strength_model",  # a FLUX LoRA's (flux-lora:<lora>); other models ignore it
)


def generate_arguments(**overrides: Any) -> dict[str, Any]:
    """A small, valid /generate call by parameter name, with overrides."""
    return {
        "prompt": "a lighthouse at dusk",
        "neg_prompt": "blurry",
        "model_id": "SDXL",
        "width": 512,
        "height": 512,
        "num_iterations": 10,
        "guidance_scale": 5,
        "seed": -1,
        "num_images": 1,
        "api_key": "",
        "strength_model": 1,
        **overrides,
    }


@dataclass
class RunningStudio:
    """A launched app: its URL, the Blocks, the Studio behind it and its settings."""

    url: str
    demo: Any
    studio: Studio
    settings: Settings


def run_generator(steps: AsyncIterator) -> list:
    """Every value an async generator handler yields, in order (its exception, if any, raised)."""

    async def collect() -> list:
        return [step async for step in steps]

    return asyncio.run(collect())


@contextmanager
def running_studio(
    sandbox: Sandbox,
    folder: Path,
    *,
    api_key: str | None,
    concurrency: int | None = None,
    port: int | None = None,
    rate_limit: int | None = None,
    output_max_mb: float | None = None,
    output_grace_min: float | None = None,
) -> Iterator[RunningStudio]:
    """The app as `python app.py --sandbox` builds it, over `sandbox`, files under `folder`.

    api_key=None gives a server without a key, whatever this machine's environment holds:
    module-scoped fixtures run before conftest's env-clearing one.
    """
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith("HEURIST_") or name == "AUTH_KEY":
                env.delenv(name)
        settings = load_settings(
            api_key=api_key,
            base_url=sandbox.url,
            models_url=sandbox.models_url,
            llm_base_url=sandbox.llm_base_url,
            workflow_url=sandbox.url,
            output_dir=folder / "out",
            cache_dir=folder / "cache",
            rate_limit=rate_limit,
            output_max_mb=output_max_mb,
            output_grace_min=output_grace_min,
            env_file=None,
        )
        demo, studio = build_app(settings, sandbox=True, concurrency=concurrency)
    options = launch_options(
        host="127.0.0.1",
        port=port or free_port(),
        share=False,
        auth=None,
        concurrency=concurrency,
        output_dir=settings.output_dir,
    )
    _, url, _ = serve(demo, prevent_thread_lock=True, quiet=True, **options)
    try:
        yield RunningStudio(url=url, demo=demo, studio=studio, settings=settings)
    finally:
        demo.close()
        studio.close()


def api_client(url: str) -> Client:
    """A gradio_client Client for a test app: no downloads, no chatter, and LIMIT seconds for
    each HTTP exchange (httpx's own 5 s would turn a busy machine's slow answer into a red
    test: a safety net, never a measurement)."""
    return Client(url, verbose=False, download_files=False, httpx_kwargs={"timeout": LIMIT})


def generate(studio: Studio, **overrides: Any) -> list[tuple[list, list]]:
    """Every (gallery, records) pair the generate handler yields, copied as it yields them."""
    from heurist_ui.ui.generate import generate_images

    args = generate_arguments(**{"model_id": SDXL, **overrides})
    return [
        (list(gallery), list(records))
        for gallery, records in run_generator(generate_images(studio, **args))
    ]


def changed(update: dict) -> dict:
    """The fields a gr.update() sets, without Gradio's marker."""
    return {key: value for key, value in update.items() if key != "__type__"}


def credit_figures(line: str) -> list[float]:
    """The credit amounts in a cost line's estimate (its first line): per image, then in all."""
    return [float(number) for number in re.findall(r"([\d.]+) credits", line.split("\n")[0])]


def make_record(n: int, **extra: Any) -> dict:
    """A record as generate_images() makes them, job id and seed n."""
    return {
        "job_id": f"job-{n}",
        "model_id": SDXL,
        "seed": n,
        "width": 512,
        "height": 512,
        "num_iterations": 20,
        "guidance_scale": 7.0,
        "prompt": f"prompt {n}",
        "neg_prompt": "",
        "url": f"http://example.invalid/{n}.png",
        "credits": 0.25,
        "elapsed_s": 1.0,
        "created_at": "2025-01-01T00:00:00+00:00",
        **extra,
    }
