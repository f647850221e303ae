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
    page_credits: float  # Heurist's credits page: credits for one 1024x1024, 20-step image


# The multipliers are in the seed document's unit. SD 1.5's 0.5 is our choice (the seed says
# only "less than SDXL"); the rest follow Heurist's credits page: a LoRA doubles its base, FLUX
# is four times SDXL, FLUX with a LoRA ten times. page_credits is that page's own price
# (SD 1.5 and SDXL 0.05, SD LoRA 0.1, FLUX 0.2, FLUX LoRA 0.5; 1 USD = 100 credits), which
# prices SD 1.5 like SDXL: the two sources disagree there.
MODEL_TYPES: dict[str, ModelType] = {
    "sd15": ModelType("SD 1.5", 0.5, True, False, "sd15", 0.05),
    "composite15": ModelType("SD 1.5 LoRA", 1.0, True, True, "sd15", 0.1),
    "sdxl10": ModelType("SDXL", 1.0, True, False, "sdxl", 0.05),
    "compositexl": ModelType("SDXL LoRA", 2.0, True, True, "sdxl", 0.1),
    "flux-dev": ModelType("FLUX", 4.0, False, False, "flux", 0.2),
    "flux-dev-lora": ModelType("FLUX LoRA", 10.0, False, True, "flux", 0.5),
}


def find_model_type(name: str) -> ModelType | None:
    """The type called name; new FLUX variants ("flux-pro", "flux-pro-lora") count as FLUX."""
    if name in MODEL_TYPES:
        return MODEL_TYPES[name]
    if name.startswith("flux"):
        return MODEL_TYPES["flux-dev-lora" if "lora" in name else "flux-dev"]
    return None
