"""The one table of Heurist's image model types: label, price, negative prompt, LoRA, family."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelType:
    """What a model's `type` in models.json means for a user."""

    label: str
    credit_multiplier: float  # credits for one 1024x1024, 20-step image (SDXL = 1)
    takes_negative_prompt: bool
    is_lora: bool
    family: str  # "sd15", "sdxl" or "flux": how its prompts are best written


# SD 1.5's 0.5 is our choice (the seed says only "less than SDXL"); the rest follow Heurist's
# credits page: a LoRA doubles its base, FLUX is four times SDXL, FLUX with a LoRA ten times.
MODEL_TYPES: dict[str, ModelType] = {
    "sd15": ModelType("SD 1.5", 0.5, True, False, "sd15"),
    "composite15": ModelType("SD 1.5 LoRA", 1.0, True, True, "sd15"),
    "sdxl10": ModelType("SDXL", 1.0, True, False, "sdxl"),
    "compositexl": ModelType("SDXL LoRA", 2.0, True, True, "sdxl"),
    "flux-dev": ModelType("FLUX", 4.0, False, False, "flux"),
    "flux-dev-lora": ModelType("FLUX LoRA", 10.0, False, True, "flux"),
}


def find_model_type(name: str) -> ModelType | None:
    """The type called name; new FLUX variants ("flux-pro", "flux-pro-lora") count as FLUX."""
    if name in MODEL_TYPES:
        return MODEL_TYPES[name]
    if name.startswith("flux"):
        return MODEL_TYPES["flux-dev-lora" if "lora" in name else "flux-dev"]
    return None
