"""Credit estimates, before anything is submitted.

The seed document defines one credit as a 1024x1024 SDXL image at 20 iterations, with cost
proportional to pixels and iterations. Each model type has one multiplier relative to SDXL, in
the table of model_types.py. estimate_price gives what Heurist's current credits page charges,
in its credits and in dollars.
"""

from __future__ import annotations

from dataclasses import dataclass

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


CREDITS_PER_USD = 100  # Heurist's credits page


@dataclass(frozen=True)
class Price:
    """What Heurist's credits page charges: its credits, and the dollars they cost."""

    credits: float

    @property
    def usd(self) -> float:
        return self.credits / CREDITS_PER_USD

    def figures(self) -> tuple[str, str]:
        """(credits, dollars) as shown: '0.44', '0.0044'."""
        return _figure(self.credits), _figure(self.usd)

    def __str__(self) -> str:
        credits, usd = self.figures()
        return f"{credits} credits (${usd})"


def estimate_price(
    model_type: str, width: int, height: int, num_iterations: int, num_images: int = 1
) -> Price:
    """Heurist's credits-page price for num_images images, scaled by pixels and steps."""
    credit_multiplier(model_type)  # an unknown type is refused as in estimate_credits
    kind = find_model_type(model_type)
    pixels = width * height / STANDARD_PIXELS
    steps = num_iterations / STANDARD_ITERATIONS
    return Price(kind.page_credits * pixels * steps * num_images)  # type: ignore[union-attr]


def _figure(value: float) -> str:
    """Two significant digits at least, no trailing zeros: 0.055, 0.00055, 1.1, 12."""
    if value == 0:
        return "0"
    digits = max(2, 2 - int(f"{value:e}".split("e")[1]))
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")
