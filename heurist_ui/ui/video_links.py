"""Video settings as a link (?tab=video&prompt=…&model=mochi&width=…), and back into the form.

The query names are the kinds' own: `model` is a kind's name (video.VIDEO_KINDS), the rest are
the names of its Setting rows, so a new setting is a new link name with nothing to add here.
Values are checked by the same Setting.check that checks a task before it is sent; anything
unknown, out of bounds or too long is left out and named in a notice shown as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import gradio as gr

from ..errors import HeuristError
from ..jobkinds import MAX_PROMPT_CHARS
from ..video import MOCHI_SETTINGS, VIDEO_KINDS
from .errors import warn
from .links import TAB_QUERY

VIDEO_TAB = "video"  # the Video tab's id, and its name in a link's `tab`
SETTINGS = {s.name: s for s in MOCHI_SETTINGS}  # the tab's controls, in their order
# For the link's JS: each model's label, its name in links and the settings it takes.
LINK_MODELS = {
    kind.label: [kind.name, [s.name for s in kind.settings]] for kind in VIDEO_KINDS.values()
}
VIDEO_LINK_JS = f"""
(prompt, model, ...values) => {{
  const models = {json.dumps(LINK_MODELS)};
  const names = {json.dumps(list(SETTINGS))};
  const query = new URLSearchParams({{ {TAB_QUERY}: "{VIDEO_TAB}" }});
  if (prompt) query.set("prompt", prompt);
  const [name, takes] = models[model] || [null, []];
  if (name) query.set("model", name);
  names.forEach((setting, i) => {{
    if (takes.includes(setting) && values[i] !== null && values[i] !== "") {{
      query.set(setting, values[i]);
    }}
  }});
  const url = location.origin + location.pathname + "?" + query.toString();
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {{}});
  return url;
}}
"""


def checked_video_settings(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The video form's values that make sense ("kind", "prompt", settings), and what was not.

    values may come from anyone (a link, a browser's stored history): each is bounded here.
    """
    settings: dict[str, Any] = {}
    ignored = []
    name = values.get("kind")
    if name not in (None, ""):
        if isinstance(name, str) and name in VIDEO_KINDS:
            settings["kind"] = name
        else:
            ignored.append(f"model {str(name)[:40]!r} (not a video model here)")
    prompt = values.get("prompt")
    if prompt not in (None, ""):
        if isinstance(prompt, str) and len(prompt) <= MAX_PROMPT_CHARS:
            settings["prompt"] = prompt
        else:
            ignored.append("prompt (too long)")
    for setting in SETTINGS.values():
        value = values.get(setting.name)
        if value in (None, ""):
            continue
        try:
            settings[setting.name] = setting.check(value)
        except HeuristError:
            bounds = f"{_shown(setting.minimum)} to {_shown(setting.maximum)}"
            ignored.append(f"{setting.name} {str(value)[:20]!r} ({bounds})")
    return settings, ignored


def _shown(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def video_settings_from_query(query: Any) -> tuple[dict[str, Any], list[str]]:
    """A video link's settings and what was ignored; nothing from a link to another tab."""
    if not hasattr(query, "get") or query.get(TAB_QUERY) != VIDEO_TAB:
        return {}, []
    values = {name: query.get(name) for name in ("prompt", *SETTINGS)}
    return checked_video_settings({**values, "kind": query.get("model")})


def form_updates(settings: Mapping[str, Any]) -> tuple:
    """Updates for the video form (prompt, model, one per setting) from checked settings."""
    kind = VIDEO_KINDS.get(settings.get("kind", ""))
    prompt = gr.update(value=settings["prompt"]) if "prompt" in settings else gr.update()
    model = gr.update(value=kind.label) if kind else gr.update()
    rest = tuple(
        gr.update(value=settings[name]) if name in settings else gr.update() for name in SETTINGS
    )
    return (prompt, model, *rest)


def apply_video_link(query: Any) -> tuple:
    """(the Tabs' update, then the video form's) for a page opened with this query."""
    if not hasattr(query, "get") or query.get(TAB_QUERY) != VIDEO_TAB:
        return (gr.update(), *form_updates({}))
    settings, ignored = video_settings_from_query(query)
    if ignored:
        warn("Ignored from the link: " + "; ".join(ignored) + ".")
    return (gr.update(selected=VIDEO_TAB), *form_updates(settings))
