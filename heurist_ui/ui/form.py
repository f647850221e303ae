"""The generator's settings as one unit: restored from a record, kept across reloads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..catalog import CatalogStore, ModelCatalog
from ..params import SETTING_FIELDS
from ..prompt_help import NO_STYLE
from .errors import warn

FORM_STORAGE = "heurist_ui_form"
SAVE_FORM_JS = f"""
(...values) => {{ localStorage.setItem("{FORM_STORAGE}", JSON.stringify(values)); }}
"""


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

    @property
    def settings(self) -> list[Any]:
        """The setting components in SETTING_FIELDS order: the order of /generate's inputs."""
        return [getattr(self, name) for name in SETTING_FIELDS]

    @property
    def saved(self) -> list[Any]:
        """What the browser keeps across reloads, in the order it is stored."""
        return [*self.settings, self.num_images]

    @property
    def restorable(self) -> list[Any]:
        """What apply_settings updates: the settings, then the style."""
        return [*self.settings, self.style]


def apply_settings(catalogs: CatalogStore, settings: Any) -> tuple:
    """Form updates (for Form.restorable) that restore a record, history entry or infotext.

    A prompt expanded from {a|b} variations comes back as its template. A restored prompt is
    the one that was sent, style included, so the style goes back to None.
    """
    if not isinstance(settings, dict):
        return (gr.update(),) * (len(SETTING_FIELDS) + 1)
    settings = {
        **settings,
        "prompt": settings.get("prompt_template") or settings.get("prompt"),
        "neg_prompt": settings.get("neg_prompt_template") or settings.get("neg_prompt"),
    }
    model = catalogs.current.find(settings.get("model_id"))
    if settings.get("model_id") and model is None:
        warn(
            f"Model {str(settings['model_id'])[:60]!r} is not offered by Heurist now: the "
            "current model was kept."
        )
    maxima = (
        {"width": model.defaults.max_width, "height": model.defaults.max_height} if model else {}
    )

    def update(name: str) -> Any:
        if name == "model_id":
            return gr.update(value=model.name) if model else gr.update()
        if settings.get(name) is None:
            return gr.update()
        bound = {"maximum": maxima[name]} if name in maxima else {}
        return gr.update(value=settings[name], **bound)

    style = gr.update(value=NO_STYLE) if settings.get("prompt") is not None else gr.update()
    return (*(update(name) for name in SETTING_FIELDS), style)


def restore_form_js(catalog: ModelCatalog) -> str:
    """JS giving the form's saved values, field by field, where they still make sense."""
    return f"""
(...current) => {{
  let saved = null;
  try {{ saved = JSON.parse(localStorage.getItem("{FORM_STORAGE}") || "null"); }} catch (e) {{}}
  if (location.search.length > 1) return current;  // a link's settings come instead
  if (!Array.isArray(saved) || saved.length !== current.length) return current;
  const models = {json.dumps(catalog.names)};
  if (!models.includes(saved[{SETTING_FIELDS.index("model_id")}])) return current;
  return saved.map((value, i) => (value === null || value === undefined ? current[i] : value));
}}
"""
