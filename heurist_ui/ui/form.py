"""The generator's settings as one unit: restored from a record, kept across reloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..batch import MAX_IMAGES
from ..catalog import CatalogStore, ModelCatalog
from ..generator_models import STRENGTH, generator_values, size_rule, with_loras
from ..params import SETTING_FIELDS
from ..prompt_help import NO_STYLE, style_names
from .controls import in_language
from .errors import warn
from .messages import ENGLISH, say

FORM_STORAGE = "heurist_ui_form"
SAVE_FORM_JS = f"""
(...values) => {{ localStorage.setItem("{FORM_STORAGE}", JSON.stringify(values)); }}
"""
# What a record notes of the form beyond the settings sent, so a restore brings the form back
# as it was: the prompts as typed (before a style wrapped them), the style, the image count.
FORM_NOTES = ("form_prompt", "form_neg_prompt", "style", "images")
# Every name a form's values go by, in Form.saved order: the LoRA strength last (FLUX LoRAs).
FORM_FIELDS = (*SETTING_FIELDS, "num_images", "style", STRENGTH.name)


@dataclass(frozen=True)
class Form:
    """One component per generation setting (named as in SETTING_FIELDS), and the image count."""

    prompt: gr.Textbox
    neg_prompt: gr.Textbox
    model_id: gr.Dropdown
    width: gr.Slider
    height: gr.Slider
    num_iterations: gr.Slider
    guidance_scale: gr.Slider
    seed: gr.Number
    num_images: gr.Slider
    style: gr.Dropdown
    strength_model: gr.Slider  # shown for FLUX LoRAs only

    @property
    def settings(self) -> list[Any]:
        """The setting components in SETTING_FIELDS order: the order of /generate's inputs."""
        return [getattr(self, name) for name in SETTING_FIELDS]

    @property
    def recommended(self) -> list[Any]:
        """What picking a model sets to its recommended values (controls.model_picked)."""
        return [
            self.width,
            self.height,
            self.num_iterations,
            self.guidance_scale,
            self.strength_model,
        ]

    @property
    def saved(self) -> list[Any]:
        """Every value of the form (FORM_FIELDS): what a reload keeps, a link or a restore sets."""
        return [getattr(self, name) for name in FORM_FIELDS]

    @property
    def restorable(self) -> list[Any]:
        """What apply_settings updates: the whole form."""
        return self.saved


def form_notes(prompt: Any, neg_prompt: Any, style: Any, images: Any) -> dict[str, str]:
    """The FORM_NOTES of a batch: what the record must add to restore the form exactly."""
    notes = {"images": str(images)}
    if style and style != NO_STYLE:
        notes.update(style=str(style), form_prompt=str(prompt or ""))
        notes["form_neg_prompt"] = str(neg_prompt or "")
    return notes


def form_values(record: Any) -> dict[str, Any]:
    """The form's values (FORM_FIELDS) a record, history entry, infotext or link stands for.

    The prompts come back as typed: before a style wrapped them, as {a|b} templates. A record
    with a style but without the typed prompt (older ones) comes back with the prompt sent and
    no style. Fields the record does not give are left out.
    """
    if not isinstance(record, dict):
        return {}
    typed = record.get("form_prompt") is not None
    values = {name: record.get(name) for name in SETTING_FIELDS}
    values.update(generator_values(record))  # a FLUX LoRA's: its model, steps, seed, strength
    for name in ("prompt", "neg_prompt"):
        as_typed = record.get(f"form_{name}") if typed else None
        values[name] = (
            as_typed if as_typed is not None else record.get(f"{name}_template") or record.get(name)
        )
    style = record.get("style")
    if values["prompt"] is not None:
        values["style"] = style if typed and style in style_names() else NO_STYLE
    images = _whole(record.get("images") or record.get("num_images"))
    if images is not None and 1 <= images <= MAX_IMAGES:
        values["num_images"] = images
    elif record.get("job_id"):  # a record is one image
        values["num_images"] = 1
    return {name: value for name, value in values.items() if value is not None}


def settings_restorer(catalogs: CatalogStore) -> Callable[..., tuple]:
    """apply_settings as an event's function, saying what it says in the visitor's language."""
    return in_language(lambda language, settings: apply_settings(catalogs, settings, language), 1)


def apply_settings(catalogs: CatalogStore, settings: Any, language: str = ENGLISH) -> tuple:
    """Form updates (for Form.restorable) that restore a record, history entry, infotext or link.

    Every field the record gives is set, with the model's size bounds; the rest are left alone.
    A model Heurist no longer offers is said so, in language.
    """
    values = form_values(settings)
    model = with_loras(catalogs.current).find(values.get("model_id"))
    if values.get("model_id") and model is None:
        warn(say(language, "restore.no_model", model=repr(str(values["model_id"])[:60])))
    bounds = {}
    if model:
        minimum, step = size_rule(model)
        bounds = {
            name: {
                "minimum": minimum,
                "maximum": getattr(model.defaults, f"max_{name}"),
                "step": step,
            }
            for name in ("width", "height")
        }

    def update(name: str) -> Any:
        if name == "model_id":
            return gr.update(value=model.name) if model else gr.update()
        if name not in values:
            return gr.update(**bounds.get(name, {}))
        return gr.update(value=values[name], **bounds.get(name, {}))

    return tuple(update(name) for name in FORM_FIELDS)


def _whole(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(number) if number.is_integer() else None


def restore_form_js(catalog: ModelCatalog) -> str:
    """JS giving the form's saved values, field by field, where they still make sense."""
    return f"""
(...current) => {{
  let saved = null;
  try {{ saved = JSON.parse(localStorage.getItem("{FORM_STORAGE}") || "null"); }} catch (e) {{}}
  if (location.search.length > 1) return current;  // a link's settings come instead
  if (!Array.isArray(saved) || saved.length !== current.length) return current;
  const models = {json.dumps(with_loras(catalog).names)};
  if (!models.includes(saved[{FORM_FIELDS.index("model_id")}])) return current;
  return saved.map((value, i) => (value === null || value === undefined ? current[i] : value));
}}
"""
