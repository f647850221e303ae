"""Validation of generation parameters, before anything is sent."""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .catalog import ModelInfo
from .errors import InvalidRequestError
from .fields import (  # noqa: F401 (the limits' long-standing home; declared in fields.py)
    BY_NAME,
    COUNT,
    MAX_GUIDANCE,
    MAX_IMAGES,
    MAX_PROMPT_CHARS,
    MAX_SEED,
    MAX_STEPS,
    MIN_GUIDANCE,
    MIN_SIZE,
    MIN_STEPS,
    MINER_MAX_STEPS,
    SETTING_NAMES,
    SIZE_STEP,
)

RANDOM_SEED_MAX = 2**32 - 1

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
# history, links, the command line) is derived from fields.SETTINGS.
SETTING_FIELDS: tuple[str, ...] = SETTING_NAMES
assert (
    tuple(f.name for f in fields(GenerationParams) if f.metadata.get("setting", True))
    == SETTING_FIELDS
), "fields.SETTINGS and GenerationParams must name the same settings in the same order"


def resolve_seed(seed: int, rng: random.Random | None = None) -> int:
    """A concrete seed: seed itself, or a random one for -1 (the API never says which it used)."""
    if seed >= 0:
        return seed
    return (rng or random.SystemRandom()).randint(0, RANDOM_SEED_MAX)


def check_length(text: Any, name: str, limit: int = MAX_PROMPT_CHARS) -> None:
    """Refuse text longer than limit: "The prompt is too long (N characters; at most 8000)"."""
    if isinstance(text, str) and len(text) > limit:
        raise InvalidRequestError(
            f"The {name.lower()} is too long ({len(text)} characters; at most {limit})."
        )


def clean_text(value: Any, name: str) -> str:
    """Text without control characters or unpaired surrogates, stripped."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRequestError(f"{name} must be text.")
    if len(value) > 2 * MAX_PROMPT_CHARS:  # no work on what is far too long (spaces may go)
        check_length(value, name)
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


def check_number(name: str, value: Any) -> float:
    """A number setting (fields.SETTINGS) within its declared bounds; whole where it must be."""
    setting = BY_NAME[name]
    low, high = setting.bounds()  # type: ignore[misc]
    number = (
        _whole(value, setting.label) if setting.kind == "int" else _number(value, setting.label)
    )
    if not low <= number <= high:
        shown = f"{number:g}" if abs(number) < 1e15 else "a number that large"
        raise InvalidRequestError(
            f"{setting.label} must be between {low:g} and {high:g}, not {shown}."
        )
    return number


def check_count(value: Any, maximum: int = MAX_IMAGES) -> int:
    """A number of images from 1 to maximum."""
    problem = f"{COUNT.label} must be a whole number from 1 to {maximum}."
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidRequestError(problem) from None
    if not number.is_integer() or not 1 <= number <= maximum:
        raise InvalidRequestError(problem)
    return int(number)


def check_size(value: Any, name: str, maximum: int) -> int:
    """A width or height floored to a multiple of 8, within MIN_SIZE and the model's maximum."""
    number = _number(value, name)
    if number < MIN_SIZE or number > maximum:
        raise InvalidRequestError(
            f"{name} must be between {MIN_SIZE} and {maximum} pixels for this model, "
            f"not {number:g}.",
            code="size",
            values={"name": name, "minimum": MIN_SIZE, "maximum": maximum, "value": number},
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
        raise InvalidRequestError(
            "The prompt is empty. Describe the image you want.", code="empty_prompt"
        )
    check_length(prompt, "prompt")
    neg_prompt = clean_text(neg_prompt, "Negative prompt") if model.takes_negative_prompt else ""
    check_length(neg_prompt, "negative prompt")
    steps = int(
        check_number(
            "num_iterations",
            defaults.num_iterations if num_iterations is None else num_iterations,
        )
    )
    guidance = check_number(
        "guidance_scale", defaults.guidance_scale if guidance_scale is None else guidance_scale
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


def prepare(catalog: Any, prompt: Any, model_id: Any, **settings: Any) -> GenerationParams:
    """Validated parameters for a model of catalog, with a concrete seed; nothing is sent.

    settings are the other SETTING_FIELDS (neg_prompt, width, height, num_iterations,
    guidance_scale, seed); a missing or None one takes the model's default.
    """
    params = validate(catalog.get(model_id), prompt=prompt, **settings)
    return params.with_seed(resolve_seed(params.seed))
