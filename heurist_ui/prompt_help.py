"""Help with what to write: example prompts for every model, and style presets (in data/)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .bundled import EXAMPLES_JSON, STYLES_JSON
from .catalog import ModelInfo
from .errors import InvalidRequestError

EXAMPLES_FILE = EXAMPLES_JSON
STYLES_FILE = STYLES_JSON
NO_STYLE = "None"
_SETTING_NAMES = {"width", "height", "num_iterations", "guidance_scale", "neg_prompt"}


@dataclass(frozen=True)
class Example:
    """An example prompt, with any settings it needs beyond the model's defaults."""

    title: str
    prompt: str
    settings: dict[str, Any] = field(default_factory=dict)

    def form_values(self, model: ModelInfo) -> dict[str, Any]:
        """Every generation setting to fill in for this example on model."""
        d = model.defaults
        values = {
            "prompt": self.prompt,
            "neg_prompt": d.neg_prompt or "",
            "model_id": model.name,
            "width": d.width,
            "height": d.height,
            "num_iterations": d.num_iterations,
            "guidance_scale": d.guidance_scale,
        }
        values.update(self.settings)
        values["width"] = min(values["width"], d.max_width)
        values["height"] = min(values["height"], d.max_height)
        if not model.takes_negative_prompt:
            values["neg_prompt"] = ""
        return values


@dataclass(frozen=True)
class Style:
    """A style preset: a template around the prompt, and words for the negative prompt."""

    name: str
    template: str  # with {prompt}
    negative: str

    def apply(self, prompt: str, neg_prompt: str, takes_negative: bool) -> tuple[str, str]:
        styled = self.template.replace("{prompt}", prompt.strip())
        if not takes_negative:
            return styled, ""
        negative = ", ".join(part for part in (neg_prompt.strip(), self.negative) if part)
        return styled, negative


def _example(entry: dict[str, Any]) -> Example:
    settings = {k: v for k, v in entry.get("settings", {}).items() if k in _SETTING_NAMES}
    return Example(title=entry["title"], prompt=entry["prompt"], settings=settings)


@cache
def _examples() -> tuple[dict[str, tuple[Example, ...]], dict[str, tuple[Example, ...]]]:
    data = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    by_model = {name: tuple(map(_example, items)) for name, items in data["models"].items()}
    by_family = {name: tuple(map(_example, items)) for name, items in data["families"].items()}
    return by_model, by_family


def examples_for(model: ModelInfo) -> tuple[Example, ...]:
    """The model's own examples, or its family's when the bundled examples do not know it."""
    by_model, by_family = _examples()
    return by_model.get(model.name) or by_family[model.family]


@cache
def styles() -> tuple[Style, ...]:
    """Every style preset, in the order of data/styles.json."""
    data = json.loads(STYLES_FILE.read_text(encoding="utf-8"))
    return tuple(Style(s["name"], s["prompt"], s.get("negative", "")) for s in data["styles"])


def style_names() -> list[str]:
    return [NO_STYLE, *(style.name for style in styles())]


def apply_style(
    name: str | None, prompt: str, neg_prompt: str, *, takes_negative: bool = True
) -> tuple[str, str]:
    """(prompt, negative prompt) as they will be sent with style name (None: unchanged)."""
    if not name or name == NO_STYLE:
        return prompt, neg_prompt if takes_negative else ""
    for style in styles():
        if style.name == name:
            return style.apply(prompt, neg_prompt, takes_negative)
    raise InvalidRequestError(
        f"Unknown style {str(name)[:40]!r}. Choose one of: {', '.join(style_names())}."
    )
