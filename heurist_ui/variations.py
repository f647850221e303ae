"""Prompt variations: `{red|green|blue}` expands to every combination (Dynamic Prompts' syntax).

Braces without `|` are left as they are; `\\{` and `\\}` are literal braces.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from .errors import InvalidRequestError
from .params import GenerationParams, check_length

MAX_JOBS = 64  # jobs in one request: variations × images, or a grid's cells


@dataclass(frozen=True)
class Variation:
    """One combination: the prompt and negative prompt to send."""

    prompt: str
    neg_prompt: str


def _parts(template: str, name: str) -> list[list[str]]:
    """The template as a list of choices: literal text is a choice of one.

    The length is checked first, so parsing is bounded whatever a visitor sends.
    """
    check_length(template, name)
    parts: list[list[str]] = []
    text: list[str] = []
    position = 0
    while position < len(template):
        char = template[position]
        if char == "\\" and template[position + 1 : position + 2] in ("{", "}"):
            text.append(template[position + 1])
            position += 2
        elif char == "{":
            end = _closing(template, position, name)
            body = template[position + 1 : end]
            options = _split_options(body)
            if len(options) > 1:
                parts.append(["".join(text)])
                parts.append(options)
                text = []
            else:
                text.append("{" + body.replace("\\{", "{").replace("\\}", "}") + "}")
            position = end + 1
        elif char == "}":
            raise InvalidRequestError(
                f"The {name} has a '}}' with no '{{' before it (at character {position + 1}). "
                "Remove it, or write \\} for a literal brace."
            )
        else:
            text.append(char)
            position += 1
    parts.append(["".join(text)])
    return parts


def _closing(template: str, start: int, name: str) -> int:
    position = start + 1
    while position < len(template):
        char = template[position]
        if char == "\\":
            position += 2
            continue
        if char == "{":
            raise InvalidRequestError(
                f"The {name} has a '{{' inside another (at character {position + 1}); "
                "variations cannot be nested. Close the first group with '}' before."
            )
        if char == "}":
            return position
        position += 1
    raise InvalidRequestError(
        f"The {name} has a '{{' that is never closed (at character {start + 1}). Add the "
        "matching '}', or write \\{ for a literal brace."
    )


def _split_options(body: str) -> list[str]:
    options, current, position = [], [], 0
    while position < len(body):
        if body[position] == "\\" and body[position + 1 : position + 2] in ("{", "}", "|"):
            current.append(body[position + 1])
            position += 2
        elif body[position] == "|":
            options.append("".join(current))
            current = []
            position += 1
        else:
            current.append(body[position])
            position += 1
    options.append("".join(current))
    return options


def bounded_product(counts: Any, limit: int = MAX_JOBS) -> int:
    """The product of counts, or limit + 1 as soon as it passes limit (never a huge number)."""
    total = 1
    for count in counts:
        total *= count
        if total > limit:
            return limit + 1
    return total


def count_variations(template: str, name: str = "prompt", limit: int = MAX_JOBS) -> int:
    """How many prompts the template expands to; limit + 1 stands for "more than limit"."""
    return bounded_product((len(choices) for choices in _parts(template or "", name)), limit)


def expand(template: str, name: str = "prompt", limit: int = MAX_JOBS) -> list[str]:
    """Every combination, first group varying slowest; more than limit is an error."""
    parts = _parts(template or "", name)
    if bounded_product((len(choices) for choices in parts), limit) > limit:
        raise InvalidRequestError(
            f"The {name} expands to more than {limit} variations; at most {limit} can run "
            "at once. Remove some {a|b} options."
        )
    return ["".join(pick) for pick in itertools.product(*parts)]


def plan_variations(prompt: str, neg_prompt: str, images: int) -> list[Variation]:
    """Every (prompt, negative prompt) combination; with images each, at most MAX_JOBS jobs."""
    counts = (count_variations(prompt, "prompt"), count_variations(neg_prompt, "negative prompt"))
    if bounded_product((*counts, images)) > MAX_JOBS:
        combinations = bounded_product(counts)
        what = (
            describe(combinations, images)
            if combinations <= MAX_JOBS
            else f"More than {MAX_JOBS} variations"
        )
        raise InvalidRequestError(
            f"{what}: at most {MAX_JOBS} images run at once. "
            "Remove some {a|b} options or lower Images."
        )
    prompts = expand(prompt, "prompt")
    negatives = expand(neg_prompt, "negative prompt")
    return [Variation(p, n) for p, n in itertools.product(prompts, negatives)]


def describe(variations: int, images: int) -> str:
    """'3 variations × 2 images = 6 images' (or just '2 images' without variations)."""
    plural = "s" if images != 1 else ""
    if variations == 1:
        return f"{images} image{plural}"
    return f"{variations} variations × {images} image{plural} = {variations * images} images"


def with_templates(job: GenerationParams, prompt: Any, neg_prompt: Any) -> GenerationParams:
    """job, noting the templates it was expanded from (when they differ from what is sent)."""
    notes = {}
    if isinstance(prompt, str) and prompt != job.prompt and count_variations(prompt) > 1:
        notes["prompt_template"] = prompt
    negative = neg_prompt if isinstance(neg_prompt, str) else ""
    if (
        negative != getattr(job, "neg_prompt", "")
        and count_variations(negative, "negative prompt") > 1
    ):
        notes["neg_prompt_template"] = negative
    return job.with_notes(**notes) if notes else job
