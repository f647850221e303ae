"""The settings of an image request, declared once.

Each setting's name, label, bounds, link (query-string) name, command-line flag, MCP argument
and A1111 infotext key live here; the validation, the form's labels and bounds, links, the
command line's flags and the MCP tools' descriptions are derived from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MIN_STEPS, MAX_STEPS = 1, 50  # the seed document: "Cannot exceed 50"
MINER_MAX_STEPS = 35  # Heurist's miners' default configuration (max_iterations) caps here
MIN_SIZE, MAX_SIZE = 64, 2048  # MAX_SIZE: the largest any model allows; each model has its own
SIZE_STEP = 8  # miners floor sizes to a multiple of 8; we do it first so results tell the truth
MIN_GUIDANCE, MAX_GUIDANCE = 1.0, 20.0
MAX_SEED = 2**53 - 1  # larger seeds lose precision in JavaScript clients
MAX_PROMPT_CHARS = 8000
MAX_IMAGES = 8  # images per batch (each {a|b} variation runs this many times at most)


@dataclass(frozen=True)
class Setting:
    """One setting of a request: where it appears, what it may be."""

    name: str  # the GenerationParams field, the handlers' argument and the record's key
    label: str  # the form's label
    help: str  # one line for the command line, the MCP tools and the form's info
    query: str  # the name in a link's query string
    flag: str  # the command line's flag
    mcp: str  # the MCP tools' argument name
    kind: str  # "text", "model", "size", "int" or "float"
    minimum: float | None = None
    maximum: float | None = None  # None: no bound, or the model's (sizes)
    step: float | None = None
    infotext: str | None = None  # A1111's key in the parameters line

    def bounds(self, model: Any = None) -> tuple[float, float] | None:
        """(low, high) for a number, the model's maximum for a size; None for text."""
        if self.minimum is None:
            return None
        high = self.maximum
        if self.kind == "size":
            high = MAX_SIZE if model is None else getattr(model.defaults, f"max_{self.name}")
        return self.minimum, float(high if high is not None else float("inf"))


# In the order of /generate's inputs and of GenerationParams' fields.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "prompt",
        "Prompt",
        "what to draw ({a|b} makes one job per option)",
        "prompt",
        "prompt",
        "prompt",
        "text",
    ),
    Setting(
        "neg_prompt",
        "Negative prompt",
        "what to avoid (FLUX models take none)",
        "neg_prompt",
        "--neg-prompt",
        "neg_prompt",
        "text",
        infotext="Negative prompt",
    ),
    Setting(
        "model_id",
        "Model",
        "an image model's name, e.g. SDXL or FLUX.1-dev",
        "model",
        "--model",
        "model",
        "model",
        infotext="Model",
    ),
    Setting(
        "width",
        "Width",
        f"pixels, {MIN_SIZE} to the model's maximum, floored to a multiple of {SIZE_STEP}",
        "width",
        "--width",
        "width",
        "size",
        MIN_SIZE,
        None,
        SIZE_STEP,
    ),
    Setting(
        "height",
        "Height",
        f"pixels, {MIN_SIZE} to the model's maximum, floored to a multiple of {SIZE_STEP}",
        "height",
        "--height",
        "height",
        "size",
        MIN_SIZE,
        None,
        SIZE_STEP,
    ),
    Setting(
        "num_iterations",
        "Steps",
        f"inference steps, {MIN_STEPS} to {MAX_STEPS} (Heurist runs at most {MINER_MAX_STEPS})",
        "steps",
        "--steps",
        "steps",
        "int",
        MIN_STEPS,
        MAX_STEPS,
        1,
        "Steps",
    ),
    Setting(
        "guidance_scale",
        "Guidance scale",
        f"how closely to follow the prompt, {MIN_GUIDANCE:g} to {MAX_GUIDANCE:g}",
        "guidance",
        "--guidance",
        "guidance",
        "float",
        MIN_GUIDANCE,
        MAX_GUIDANCE,
        0.5,
        "CFG scale",
    ),
    Setting(
        "seed",
        "Seed",
        f"-1 for random, or 0 to {MAX_SEED} to reproduce; more images use seed, seed+1 and so on",
        "seed",
        "--seed",
        "seed",
        "int",
        -1,
        MAX_SEED,
        1,
        "Seed",
    ),
)

# Not a setting of one image but of the request: how many images each prompt makes.
COUNT = Setting(
    "num_images",
    "Images",
    f"images per prompt, 1 to {MAX_IMAGES}; each {{a|b}} variation makes this many",
    "images",
    "--num-images",
    "count",
    "int",
    1,
    MAX_IMAGES,
    1,
)

BY_NAME: dict[str, Setting] = {s.name: s for s in (*SETTINGS, COUNT)}
SETTING_NAMES: tuple[str, ...] = tuple(s.name for s in SETTINGS)
