"""Validation of generation parameters, before anything is sent."""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .catalog import ModelInfo
from .errors import InvalidRequestError

MIN_STEPS, MAX_STEPS = 1, 50  # the seed document: "Cannot exceed 50"
MINER_MAX_STEPS = 35  # Heurist's miners' default configuration (max_iterations) caps here
MIN_SIZE = 64
SIZE_STEP = 8  # miners floor sizes to a multiple of 8; we do it first so results tell the truth
MIN_GUIDANCE, MAX_GUIDANCE = 1.0, 20.0
MAX_SEED = 2**53 - 1  # larger seeds lose precision in JavaScript clients
RANDOM_SEED_MAX = 2**32 - 1
MAX_PROMPT_CHARS = 8000

# C0/C1 control characters other than tab and newline carry no meaning in a prompt.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class GenerationParams:
    """One image's parameters, validated; seed -1 means not yet chosen.

    The settings a user chooses, in the order the form and /generate show them; model_type
    follows from the model.
    """

    prompt: str
    neg_prompt: str
    model_id: str
    width: int
    height: int
    num_iterations: int
    guidance_scale: float
    seed: int
    model_type: str = field(default="", metadata={"setting": False})
    # What the record should also say, never sent: the template a prompt was expanded from,
    # the style applied, the description it was enhanced from.
    notes: tuple[tuple[str, str], ...] = field(default=(), metadata={"setting": False})

    def with_seed(self, seed: int) -> GenerationParams:
        return replace(self, seed=seed)

    def with_notes(self, **notes: str) -> GenerationParams:
        return replace(self, notes=(*self.notes, *notes.items()))

    def settings(self) -> dict[str, Any]:
        """The user's settings by name (SETTING_FIELDS)."""
        return {name: getattr(self, name) for name in SETTING_FIELDS}


# Every list of the generation fields (the client's record, the form, the reload script, the
# history) is derived from this one.
SETTING_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(GenerationParams) if f.metadata.get("setting", True)
)


def resolve_seed(seed: int, rng: random.Random | None = None) -> int:
    """A concrete seed: seed itself, or a random one for -1 (the API never says which it used)."""
    if seed >= 0:
        return seed
    return (rng or random.SystemRandom()).randint(0, RANDOM_SEED_MAX)


def clean_text(value: Any, name: str) -> str:
    """Text without control characters or unpaired surrogates, stripped."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRequestError(f"{name} must be text.")
    value = value.encode("utf-8", "ignore").decode("utf-8")
    return _CONTROL.sub("", value).strip()


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidRequestError(f"{name} must be a number.")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidRequestError(f"{name} must be a number, not {str(value)[:20]!r}.") from None
    if not math.isfinite(number):
        raise InvalidRequestError(f"{name} must be a finite number.")
    return number


def _whole(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = _number(value, name)
    if not number.is_integer():
        raise InvalidRequestError(f"{name} must be a whole number, not {number:g}.")
    return int(number)


def check_size(value: Any, name: str, maximum: int) -> int:
    """A width or height floored to a multiple of 8, within MIN_SIZE and the model's maximum."""
    number = _number(value, name)
    if number < MIN_SIZE or number > maximum:
        raise InvalidRequestError(
            f"{name} must be between {MIN_SIZE} and {maximum} pixels for this model, "
            f"not {number:g}."
        )
    return int(number) // SIZE_STEP * SIZE_STEP


def check_seed(value: Any) -> int:
    """-1 (random) or a whole number from 0 to MAX_SEED."""
    seed = _whole(value, "Seed")
    if seed < -1 or seed > MAX_SEED:
        raise InvalidRequestError(f"Seed must be -1 (random) or between 0 and {MAX_SEED}.")
    return seed


def validate(
    model: ModelInfo,
    *,
    prompt: Any,
    neg_prompt: Any = "",
    width: Any = None,
    height: Any = None,
    num_iterations: Any = None,
    guidance_scale: Any = None,
    seed: Any = -1,
) -> GenerationParams:
    """Check every parameter against the model; None takes the model's default."""
    defaults = model.defaults
    prompt = clean_text(prompt, "Prompt")
    if not prompt:
        raise InvalidRequestError("The prompt is empty. Describe the image you want.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequestError(
            f"The prompt is too long ({len(prompt)} characters; at most {MAX_PROMPT_CHARS})."
        )
    neg_prompt = clean_text(neg_prompt, "Negative prompt") if model.takes_negative_prompt else ""
    if len(neg_prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequestError(
            f"The negative prompt is too long ({len(neg_prompt)} characters; "
            f"at most {MAX_PROMPT_CHARS})."
        )
    steps = _whole(defaults.num_iterations if num_iterations is None else num_iterations, "Steps")
    if not MIN_STEPS <= steps <= MAX_STEPS:
        raise InvalidRequestError(
            f"Steps must be between {MIN_STEPS} and {MAX_STEPS}, not {steps}."
        )
    guidance = _number(
        defaults.guidance_scale if guidance_scale is None else guidance_scale, "Guidance scale"
    )
    if not MIN_GUIDANCE <= guidance <= MAX_GUIDANCE:
        raise InvalidRequestError(
            f"Guidance scale must be between {MIN_GUIDANCE:g} and {MAX_GUIDANCE:g}, "
            f"not {guidance:g}."
        )
    return GenerationParams(
        prompt=prompt,
        model_id=model.name,
        model_type=model.type,
        neg_prompt=neg_prompt,
        width=check_size(defaults.width if width is None else width, "Width", defaults.max_width),
        height=check_size(
            defaults.height if height is None else height, "Height", defaults.max_height
        ),
        num_iterations=steps,
        guidance_scale=guidance,
        seed=check_seed(-1 if seed is None else seed),
    )
