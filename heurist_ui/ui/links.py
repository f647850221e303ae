"""Settings as a link: the form's or an image's settings in a URL that opens the studio filled in.

Nothing is stored on the server, so links survive restarts; a key never goes into one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import gradio as gr

from ..catalog import CatalogStore
from ..errors import HeuristError
from ..fields import BY_NAME, COUNT, MAX_IMAGES, SETTINGS
from ..generator_models import STRENGTH, size_rule, with_loras
from ..params import MAX_PROMPT_CHARS, check_seed
from ..prompt_help import NO_STYLE, style_names
from .errors import warn
from .form import FORM_FIELDS, form_values
from .messages import ENGLISH, language_of, say

# Query names, short and readable, for each of the form's values (FORM_FIELDS): the settings'
# and the count's as declared in fields.py, the style, and a FLUX LoRA's strength.
QUERY_NAMES = {s.name: s.query for s in (*SETTINGS, COUNT)} | {
    "style": "style",
    STRENGTH.name: STRENGTH.name,
}
# A link for another tab names it (?tab=video&...); one without fills the generator's form.
TAB_QUERY = "tab"
# Opens the tab a link names, in the browser: a Tabs update from the server would cost every
# page load a new Tabs object in its session, link or not.
SELECT_TAB_JS = f"""
() => {{
  const tab = new URLSearchParams(location.search).get("{TAB_QUERY}");
  if (tab) document.querySelector(`button[role=tab][data-tab-id="${{CSS.escape(tab)}}"]`)?.click();
  return [];
}}
"""
FORM_LINK_JS = f"""
(...values) => {{
  const names = {json.dumps([QUERY_NAMES[name] for name in FORM_FIELDS])};
  const query = new URLSearchParams();
  names.forEach((name, i) => {{
    if (values[i] !== null && values[i] !== "") query.set(name, values[i]);
  }});
  const url = location.origin + location.pathname + "?" + query.toString();
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {{}});
  return url;
}}
"""
QUERY_LINK_JS = """
(query) => {
  if (!query) return "Select an image first.";
  const url = location.origin + location.pathname + "?" + query;
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {});
  return url;
}
"""


def record_query(record: Any) -> str:
    """The query string of a record's settings ('' without a record)."""
    values = form_values(record)
    settings = {QUERY_NAMES[name]: values.get(name) for name in FORM_FIELDS}
    return urlencode({name: value for name, value in settings.items() if value not in (None, "")})


def settings_from_query(
    catalogs: CatalogStore, query: Any, language: str = ENGLISH
) -> tuple[dict[str, Any], list[str]]:
    """The settings a link carries that make sense here, and what was ignored (and why, in
    language)."""
    if hasattr(query, "get") and query.get(TAB_QUERY) not in (None, ""):
        return {}, []  # another tab's link: its tab reads it
    values = {name: query.get(query_name) for name, query_name in QUERY_NAMES.items()}
    values = {name: value for name, value in values.items() if value not in (None, "")}
    settings: dict[str, Any] = {}
    ignored: list[str] = []

    def ignore(why: str, name: str, value: Any = None, **values: Any) -> None:
        shown = {} if value is None else {"value": repr(value)}
        ignored.append(say(language, f"link.{why}", name=name, **shown, **values))

    model = with_loras(catalogs.current).find(values.get("model_id"))
    if "model_id" in values and model is None:
        ignore("not_offered", "model", values["model_id"][:40])
    elif model is not None:
        settings["model_id"] = model.name
    for name in ("prompt", "neg_prompt"):
        if name in values:
            if len(values[name]) <= MAX_PROMPT_CHARS:
                settings[name] = values[name]
            else:
                ignore("too_long", QUERY_NAMES[name])
    limits = {
        s.name: s.bounds(model)
        for s in SETTINGS
        if s.kind in ("size", "int", "float") and s.name != "seed"
    }
    if model is not None:  # a FLUX LoRA's sizes start higher
        for name in ("width", "height"):
            limits[name] = (size_rule(model)[0], limits[name][1])
    for name, (low, high) in limits.items():
        if name in values:
            number = _number(values[name])
            if number is not None and low <= number <= high:
                whole = BY_NAME[name].kind != "float"
                settings[name] = int(number) if whole else number
            else:
                ignore(
                    "range", QUERY_NAMES[name], values[name][:20], low=f"{low:g}", high=f"{high:g}"
                )
    if "style" in values:
        if values["style"] in style_names():
            settings["style"] = values["style"]
        else:
            ignore("not_a_style", "style", values["style"][:20])
    if "num_images" in values:
        images = _number(values["num_images"])
        if images is not None and images.is_integer() and 1 <= images <= MAX_IMAGES:
            settings["num_images"] = int(images)
        else:
            ignore("range", "images", values["num_images"][:20], low=1, high=MAX_IMAGES)
    if STRENGTH.name in values:
        try:
            settings[STRENGTH.name] = STRENGTH.check(values[STRENGTH.name])
        except HeuristError:
            ignore("range", STRENGTH.name, values[STRENGTH.name][:20], low=0, high=1)
    if "seed" in values:
        try:
            settings["seed"] = check_seed(values["seed"])
        except HeuristError:
            ignore("seed", "seed", values["seed"][:20])
    return settings, ignored


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def apply_link(catalogs: CatalogStore, query: Any, language: str = ENGLISH) -> tuple:
    """Form updates (Form.restorable) for a link's settings; a notice (in language) for what
    was ignored."""
    settings, ignored = settings_from_query(catalogs, query, language)
    if ignored:
        warn(say(language, "link.ignored", items="; ".join(ignored)))
    updates = []
    for name in FORM_FIELDS:
        if name == "style" and "prompt" in settings and name not in settings:
            updates.append(gr.update(value=NO_STYLE))
        elif name not in settings:
            updates.append(gr.update())
        elif name in ("width", "height") and "model_id" in settings:
            model = with_loras(catalogs.current).get(settings["model_id"])
            minimum, step = size_rule(model)
            maximum = getattr(model.defaults, f"max_{name}")
            bounds = {"minimum": minimum, "maximum": maximum, "step": step}
            updates.append(gr.update(value=settings[name], **bounds))
        else:
            updates.append(gr.update(value=settings[name]))
    return tuple(updates)


@dataclass(frozen=True)
class LinkTarget:
    """Another tab a link can fill: its components, and their values for a link's query."""

    outputs: Sequence[Any]
    fill: Callable[[Any, str], tuple]  # (query, language) -> values


def wire(
    demo: gr.Blocks,
    catalogs: CatalogStore,
    form: Any,
    results: Any,
    form_link,
    others: Sequence[LinkTarget] = (),
) -> None:
    """Opening a link fills the form (or another tab's); 🔗 buttons copy the form's or the
    selected image's link."""

    def fill_from_link(request: gr.Request) -> tuple:
        query = request.query_params if request else {}
        language = language_of(request)
        filled = apply_link(catalogs, query, language)
        for other in others:
            filled += tuple(other.fill(query, language))
        return filled

    demo.load(
        fill_from_link,
        None,
        [*form.restorable, *(output for other in others for output in other.outputs)],
        js=SELECT_TAB_JS if others else None,
        concurrency_limit=None,
        show_progress="hidden",
        api_visibility="private",
    )
    for button, inputs, js in (
        (form_link, form.saved, FORM_LINK_JS),
        (results.copy_link, results.link_query, QUERY_LINK_JS),
    ):
        button.click(
            fn=None, inputs=inputs, outputs=results.link, js=js, api_visibility="private"
        ).then(
            fn=lambda: gr.update(visible=True),
            outputs=results.link,
            queue=False,
            api_visibility="private",
        )
