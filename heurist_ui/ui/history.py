"""The history: the last 100 images made here, generator and Compare alike, kept in this browser
across reloads and server restarts; searchable, filtered by model, with favourites."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr

from ..bundled import IMAGE_GONE_PNG
from ..catalog import CatalogStore
from ..generator_models import STRENGTH
from ..params import SETTING_FIELDS
from ..pngfile import find_saved
from .errors import inform
from .form import FORM_FIELDS, FORM_NOTES, Form, apply_settings
from .messages import ENGLISH, language_of, say
from .words import words

HISTORY_LIMIT = 100
HISTORY_STORAGE = "heurist_ui_history"
# BrowserState obfuscates with this secret, which it sends to the page anyway. Left to Gradio it
# is random per launch, so every restart (each deploy or wake of a Space) emptied the history.
HISTORY_SECRET = "heurist_ui-history"
HISTORY_FIELDS = (
    *SETTING_FIELDS,
    STRENGTH.name,  # a FLUX LoRA's
    "prompt_template",
    "neg_prompt_template",
    *FORM_NOTES,
    "job_id",
    "created_at",
)
ALL_MODELS = "All models"
IMAGE_GONE_FILE = IMAGE_GONE_PNG  # shipped in the package, so pip installs have it too
RESTORED = say(ENGLISH, "history.restored")


@dataclass(frozen=True)
class History:
    state: gr.BrowserState  # {"items": [...]}, newest first; an item may have "fav", "compare"
    panel: gr.Accordion
    search: gr.Textbox
    model: gr.Dropdown
    favourites: gr.Checkbox
    gallery: gr.Gallery
    shown: gr.State  # the job ids the gallery shows, in its order
    picked: gr.State  # the picked image's job id
    restore: gr.Button
    favourite: gr.Button


def render(model_names: list[str]) -> History:
    state = gr.BrowserState({"items": []}, storage_key=HISTORY_STORAGE, secret=HISTORY_SECRET)
    with gr.Accordion(words("history.title"), open=False, elem_id="history") as panel:
        with gr.Row():
            search = gr.Textbox(
                label=words("history.search"),
                placeholder=words("history.search.placeholder"),
                scale=3,
            )
            model = gr.Dropdown(
                [(words("history.all_models"), ALL_MODELS), *model_names],
                value=ALL_MODELS,
                label=words("history.model"),
                scale=2,
            )
            favourites = gr.Checkbox(label=words("history.starred"), scale=1, min_width=90)
        gallery = gr.Gallery(
            label=words("history.gallery"),
            columns=4,
            height=420,
            object_fit="cover",
            interactive=False,
            buttons=["download", "fullscreen"],
            elem_id="history-gallery",
        )
        with gr.Row():
            restore = gr.Button(words("history.restore"), size="sm")
            favourite = gr.Button(words("history.favourite"), size="sm")
    return History(
        state,
        panel,
        search,
        model,
        favourites,
        gallery,
        gr.State([]),
        gr.State(None),
        restore,
        favourite,
    )


def wire(
    history: History,
    runs: dict[str, tuple[Any, gr.JSON]],
    form: Form,
    catalogs: CatalogStore,
    output_dir: Path,
) -> None:
    """Each finished run ({"generate" or "compare": (event, its records)}) adds its images;
    opening, searching and filtering show them; a picked one restores its settings or is
    starred."""
    quiet = {"show_progress": "hidden", "api_visibility": "private"}
    filters = [history.state, history.search, history.model, history.favourites]
    view = [history.gallery, history.shown]

    def show(items: Any, search: Any, model: Any, favourites: Any) -> tuple:
        return history_view(items, search, model, favourites, output_dir)

    for kind, (run, records) in runs.items():
        run.then(
            partial(remember, compare=kind == "compare"),
            [records, history.state],
            history.state,
            queue=False,
            **quiet,
        ).then(show, filters, view, queue=False, **quiet)
    gr.on(
        [
            history.panel.expand,
            history.search.submit,
            history.search.change,
            history.model.change,
            history.favourites.change,
        ],
        show,
        filters,
        view,
        queue=False,
        **quiet,
    )

    def pick(shown: Any, event: gr.SelectData) -> Any:  # Gradio injects SelectData by type hint
        index = event.index if isinstance(event.index, int) else -1
        return shown[index] if isinstance(shown, list) and 0 <= index < len(shown) else None

    history.gallery.select(pick, history.shown, history.picked, queue=False, **quiet)

    def restore(
        items: Any,
        job_id: Any,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    ) -> tuple:
        return pick_history(catalogs, items, job_id, output_dir, language_of(request))

    history.restore.click(
        restore,
        [history.state, history.picked],
        form.restorable,
        concurrency_limit=None,  # queued, never waiting: gr.Info needs the queue
        **quiet,
    )
    history.favourite.click(
        toggle_favourite, [history.state, history.picked], history.state, queue=False, **quiet
    ).then(show, filters, view, queue=False, **quiet)


def remember(records: Any, history: Any, *, compare: bool = False) -> dict[str, Any]:
    """Add new records to the browser's history (newest first, at most HISTORY_LIMIT).

    A generator run's records come newest first; a Compare run's in grid order.
    """
    items = list(history.get("items", [])) if isinstance(history, dict) else []
    known = {item.get("job_id") for item in items}
    fresh = [
        {key: record.get(key) for key in HISTORY_FIELDS} | ({"compare": True} if compare else {})
        for record in (records or [])
        if isinstance(record, dict) and record.get("job_id") and record.get("job_id") not in known
    ]
    return {"items": (fresh + items)[:HISTORY_LIMIT]}


def history_view(
    history: Any, search: Any, model: Any, favourites: Any, output_dir: Path | None
) -> tuple[list[tuple[str, str]], list[str]]:
    """(gallery, job ids) of the items matching the search, the model and the ★ filter."""
    items = history.get("items", []) if isinstance(history, dict) else []
    words = str(search or "").lower().split()
    gallery, shown = [], []
    for item in items:
        text = " ".join(
            str(item.get(name) or "") for name in ("prompt", "prompt_template", "form_prompt")
        ).lower()
        if words and not all(word in text for word in words):
            continue
        if model and model != ALL_MODELS and item.get("model_id") != model:
            continue
        if favourites and not item.get("fav"):
            continue
        path = find_saved(output_dir, item.get("job_id")) if output_dir else None
        gallery.append((str(path or IMAGE_GONE_FILE), caption(item)))
        shown.append(item.get("job_id"))
    return gallery, shown


def caption(item: dict[str, Any]) -> str:
    star = "★ " if item.get("fav") else ""
    where = "Compare · " if item.get("compare") else ""
    return f"{star}{where}{item.get('model_id')} · seed {item.get('seed')} · {_short(item)}"


def toggle_favourite(history: Any, job_id: Any) -> Any:
    """The history with the picked image starred, or unstarred."""
    items = history.get("items", []) if isinstance(history, dict) else []
    if not job_id:
        inform(say(ENGLISH, "history.pick_first"))  # queue=False: shown nowhere, kept for logs
        return gr.skip()
    return {
        "items": [
            {**item, "fav": not item.get("fav")} if item.get("job_id") == job_id else item
            for item in items
        ]
    }


def pick_history(
    catalogs: CatalogStore,
    history: Any,
    job_id: Any,
    output_dir: Path | None = None,
    language: str = ENGLISH,
) -> tuple:
    """The picked image's settings for the form; says so (in language), and whether its image
    is still kept."""
    items = history.get("items", []) if isinstance(history, dict) else []
    item = next((item for item in items if job_id and item.get("job_id") == job_id), None)
    if item is None:
        inform(say(language, "history.pick_first"))
        return (gr.update(),) * len(FORM_FIELDS)
    gone = output_dir is not None and find_saved(output_dir, item.get("job_id")) is None
    inform(say(language, "history.image_gone" if gone else "history.restored"))
    return apply_settings(catalogs, item, language)


def _short(item: dict[str, Any], limit: int = 60) -> str:
    text = " ".join(str(item.get("form_prompt") or item.get("prompt") or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
