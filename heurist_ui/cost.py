"""Credit estimates, before anything is submitted.

The seed document defines one credit as a 1024x1024 SDXL image at 20 iterations, with cost
proportional to pixels and iterations. Model types differ by one multiplier each, relative to
SDXL. SD 1.5 costs less than SDXL (the seed gives no factor; we use half: an SD 1.5 checkpoint
has about a third of SDXL's parameters, and half is the conservative round figure). The other
ratios follow Heurist's later credits page (SD 0.05, SD+LoRA 0.1, FLUX 0.2, FLUX+LoRA 0.5 per
image): a LoRA doubles the base's cost, FLUX is four times SDXL, FLUX with LoRA ten times.
"""

from __future__ import annotations

from .errors import InvalidRequestError

STANDARD_PIXELS = 1024 * 1024
STANDARD_ITERATIONS = 20

CREDIT_MULTIPLIERS: dict[str, float] = {
    "sd15": 0.5,  # SD 1.5 checkpoint
    "composite15": 1.0,  # SD 1.5 + LoRA: twice its base
    "sdxl10": 1.0,  # SDXL 1.0 checkpoint: the standard unit
    "compositexl": 2.0,  # SDXL + LoRA: twice its base
    "flux-dev": 4.0,  # FLUX.1-dev
    "flux-dev-lora": 10.0,  # FLUX.1-dev + LoRA
}
FLUX_MULTIPLIER = CREDIT_MULTIPLIERS["flux-dev"]
FLUX_LORA_MULTIPLIER = CREDIT_MULTIPLIERS["flux-dev-lora"]


def credit_multiplier(model_type: str) -> float:
    """The cost of one standard image for this model type, in credits."""
    if model_type in CREDIT_MULTIPLIERS:
        return CREDIT_MULTIPLIERS[model_type]
    if model_type.startswith("flux"):  # new FLUX variants appear in the catalogue over time
        return FLUX_LORA_MULTIPLIER if "lora" in model_type else FLUX_MULTIPLIER
    raise InvalidRequestError(
        f"No price is known for model type {model_type!r}. "
        f"Known types: {', '.join(CREDIT_MULTIPLIERS)}."
    )


def estimate_credits(
    model_type: str, width: int, height: int, num_iterations: int, num_images: int = 1
) -> float:
    """Estimated credits for num_images images of this size and step count."""
    pixels = width * height / STANDARD_PIXELS
    steps = num_iterations / STANDARD_ITERATIONS
    return credit_multiplier(model_type) * pixels * steps * num_images
