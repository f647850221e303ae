"""Credit estimates, before anything is submitted.

The seed document defines one credit as a 1024x1024 SDXL image at 20 iterations, with cost
proportional to pixels and iterations. Each model type has one multiplier relative to SDXL, in
the table of model_types.py.
"""

from __future__ import annotations

from .errors import InvalidRequestError
from .model_types import MODEL_TYPES, find_model_type

STANDARD_PIXELS = 1024 * 1024
STANDARD_ITERATIONS = 20

CREDIT_MULTIPLIERS: dict[str, float] = {
    name: kind.credit_multiplier for name, kind in MODEL_TYPES.items()
}


def credit_multiplier(type_name: str) -> float:
    """The cost of one standard image for this model type, in credits."""
    kind = find_model_type(type_name)
    if kind is None:
        raise InvalidRequestError(
            f"No price is known for model type {type_name[:40]!r}. "
            f"Known types: {', '.join(MODEL_TYPES)}."
        )
    return kind.credit_multiplier


def estimate_credits(
    model_type: str, width: int, height: int, num_iterations: int, num_images: int = 1
) -> float:
    """Estimated credits for num_images images of this size and step count."""
    pixels = width * height / STANDARD_PIXELS
    steps = num_iterations / STANDARD_ITERATIONS
    return credit_multiplier(model_type) * pixels * steps * num_images
