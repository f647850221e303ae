"""FLUX with a named LoRA (workflow "3"): one job kind per LoRA, its settings declared once.

The public miner takes prompt, lora_name, width/height (512-2048, multiples of 64), steps
(default 15), strength_model (0-1) and noise_seed, and answers a JPEG, saved like a still
image with its record inside. Price: Heurist's credits page, 0.5 credits per 1024×1024 image at
20 steps, scaled by pixels and steps.
"""

from __future__ import annotations

from typing import Any

from .errors import InvalidRequestError
from .jobkinds import Setting, WorkflowJob, WorkflowKind
from .pngfile import save_png

LORAS = (
    "agentmax",
    "agentzero",
    "angel",
    "baselogo",
    "gecko",
    "heuristlogo",
    "interncharacter",
    "internlogo",
    "kook",
    "michaeltaolor",
    "migglesv3",
    "n1kita",
    "sxtheu",
    "taologo",
    "wsb",
)
PAGE_CREDITS = 0.5  # one 1024×1024 image at 20 steps
STANDARD_PIXELS = 1024 * 1024
STANDARD_STEPS = 20

FLUX_LORA_SETTINGS = (
    Setting("width", "Width", 512, 2048, 1024, 64, "image width, a multiple of 64", multiple=64),
    Setting("height", "Height", 512, 2048, 1024, 64, "image height, a multiple of 64", multiple=64),
    Setting("steps", "Steps", 1, 50, 15, 1, "denoising steps (the miner's default is 15)"),
    Setting("strength_model", "LoRA strength", 0, 1, 1, 0.05, "how strongly the LoRA applies"),
    Setting("noise_seed", "Seed", -1, 2**32 - 1, -1, 1, "-1 for random", allow_random=True),
)
LABEL_PREFIX = "FLUX LoRA · "
# The generator's names (fields.SETTINGS) for the settings it shares with this kind; the
# records give them under both, and the generator's plan reads its form through them.
GENERATOR_NAMES = {
    "width": "width",
    "height": "height",
    "steps": "num_iterations",
    "noise_seed": "seed",
}


def _price(job: WorkflowJob) -> float:
    values: dict[str, Any] = dict(job.values)
    pixels = values["width"] * values["height"] / STANDARD_PIXELS
    return PAGE_CREDITS * pixels * values["steps"] / STANDARD_STEPS


def flux_lora(lora: str) -> WorkflowKind:
    """The job kind for one LoRA."""
    if lora not in LORAS:
        raise InvalidRequestError(f"Unknown LoRA {lora[:40]!r}; choose one of {', '.join(LORAS)}.")
    return FLUX_LORA_KINDS[lora]


FLUX_LORA_PRICE_NOTE = "0.5 credits per 1024×1024 image at 20 steps (Heurist's credits page)"
FLUX_LORA_KINDS = {
    lora: WorkflowKind(
        name=f"flux-lora:{lora}",
        label=f"{LABEL_PREFIX}{lora}",
        workflow_id="3",
        task_type="txt2img",
        extension="jpg",
        settings=FLUX_LORA_SETTINGS,
        extra={"lora_name": lora},
        price=_price,
        price_note=FLUX_LORA_PRICE_NOTE,
        save=save_png,
        record_names={name: alias for name, alias in GENERATOR_NAMES.items() if name != alias},
    )
    for lora in LORAS
}
