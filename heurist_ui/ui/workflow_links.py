"""The workflow tabs' settings as links (?tab=video&prompt=…&model=mochi&width=…), and back.

A link names its tab; `model` is a kind's name (video.VIDEO_KINDS, flux_lora.FLUX_LORA_KINDS)
and the rest are the names of the kind's Setting rows, so a new setting is a new link name with
nothing to add here. Values are checked by the same Setting.check that checks a task before it
is sent; anything unknown, out of bounds or too long is left out and named in a notice shown
as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..errors import HeuristError
from ..flux_lora import FLUX_LORA_KINDS, FLUX_LORA_SETTINGS
from ..jobkinds import MAX_PROMPT_CHARS, Setting, WorkflowKind
from ..video import MOCHI_SETTINGS, VIDEO_KINDS
from .errors import warn
from .links import TAB_QUERY
from .messages import ENGLISH, say


@dataclass(frozen=True)
class TabLinks:
    """One workflow tab's links: its id, its kinds by name, its controls' settings in order."""

    tab: str
    kinds: Mapping[str, WorkflowKind]  # by their names in links: "mochi", "heuristlogo"
    settings: Sequence[Setting]

    @property
    def by_name(self) -> dict[str, Setting]:
        return {setting.name: setting for setting in self.settings}

    def link_js(self) -> str:
        """JS (prompt, model label, *settings) => the link, also copied to the clipboard."""
        models = {
            kind.label: [name, [s.name for s in kind.settings]] for name, kind in self.kinds.items()
        }
        return f"""
(prompt, model, ...values) => {{
  const models = {json.dumps(models)};
  const names = {json.dumps(list(self.by_name))};
  const query = new URLSearchParams({{ {TAB_QUERY}: {json.dumps(self.tab)} }});
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

    def checked(
        self, values: Mapping[str, Any], language: str = ENGLISH
    ) -> tuple[dict[str, Any], list[str]]:
        """The form's values that make sense ("kind", "prompt", settings), and what was not
        (said in language).

        values may come from anyone (a link, a browser's stored history): each is bounded here.
        """
        settings: dict[str, Any] = {}
        ignored: list[str] = []
        name = values.get("kind")
        if name not in (None, ""):
            if isinstance(name, str) and name in self.kinds:
                settings["kind"] = name
            else:
                value = repr(str(name)[:40])
                ignored.append(say(language, "link.not_of_tab", name="model", value=value))
        prompt = values.get("prompt")
        if prompt not in (None, ""):
            if isinstance(prompt, str) and len(prompt) <= MAX_PROMPT_CHARS:
                settings["prompt"] = prompt
            else:
                ignored.append(say(language, "link.too_long", name="prompt"))
        for setting in self.settings:
            value = values.get(setting.name)
            if value in (None, ""):
                continue
            try:
                settings[setting.name] = setting.check(value)
            except HeuristError:
                low, high = _shown(setting.minimum), _shown(setting.maximum)
                shown = repr(str(value)[:20])
                ignored.append(
                    say(language, "link.range", name=setting.name, value=shown, low=low, high=high)
                )
        return settings, ignored

    def from_query(self, query: Any, language: str = ENGLISH) -> tuple[dict[str, Any], list[str]]:
        """A link's settings for this tab and what was ignored; nothing from another tab's."""
        if not hasattr(query, "get") or query.get(TAB_QUERY) != self.tab:
            return {}, []
        values = {name: query.get(name) for name in ("prompt", *self.by_name)}
        return self.checked({**values, "kind": query.get("model")}, language)

    def form_updates(self, settings: Mapping[str, Any]) -> tuple:
        """Updates for the tab's form (prompt, model, one per setting) from checked settings."""
        kind = self.kinds.get(settings.get("kind", ""))
        prompt = gr.update(value=settings["prompt"]) if "prompt" in settings else gr.update()
        model = gr.update(value=kind.label) if kind else gr.update()
        rest = tuple(
            gr.update(value=settings[name]) if name in settings else gr.update()
            for name in self.by_name
        )
        return (prompt, model, *rest)

    def link_values(self, query: Any, defaults: Sequence[Any], language: str = ENGLISH) -> tuple:
        """The form's values (prompt, model, settings) for a page opened with this query.

        Plain values, the form's defaults where the link says nothing: every page load runs
        this, and a gr.update(), even an empty one, costs the session a new component. (The
        browser opens the tab: links.SELECT_TAB_JS.)
        """
        settings, ignored = self.from_query(query, language)
        if ignored:
            warn(say(language, "link.ignored", items="; ".join(ignored)))
        kind = self.kinds.get(settings.get("kind", ""))
        values = {"prompt": settings.get("prompt"), "model": kind.label if kind else None}
        values |= {name: settings.get(name) for name in self.by_name}
        return tuple(
            default if value is None else value
            for value, default in zip(values.values(), defaults, strict=True)
        )


def _shown(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


VIDEO_LINKS = TabLinks("video", VIDEO_KINDS, MOCHI_SETTINGS)
FLUX_LORA_LINKS = TabLinks("flux-lora", FLUX_LORA_KINDS, FLUX_LORA_SETTINGS)
