"""The history: the last 50 generations, kept in this browser across reloads and server restarts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ..catalog import CatalogStore
from ..params import SETTING_FIELDS
from ..pngfile import find_saved
from .form import FORM_FIELDS, FORM_NOTES, Form, apply_settings

HISTORY_LIMIT = 50
HISTORY_STORAGE = "heurist_ui_history"
# BrowserState obfuscates with this secret, which it sends to the page anyway. Left to Gradio it
# is random per launch, so every restart (each deploy or wake of a Space) emptied the history.
HISTORY_SECRET = "heurist_ui-history"
HISTORY_FIELDS = (
    *SETTING_FIELDS,
    "prompt_template",
    "neg_prompt_template",
    *FORM_NOTES,
    "job_id",
    "created_at",
)
RESTORED = "Settings restored from history."
IMAGE_GONE = (
    "Settings restored from history. Its image is no longer kept here (older images are "
    "deleted to stay within the studio's storage); generate again to remake it, the seed is "
    "the same."
)


@dataclass(frozen=True)
class History:
    state: gr.BrowserState
    table: gr.Dataframe


def render() -> History:
    state = gr.BrowserState({"items": []}, storage_key=HISTORY_STORAGE, secret=HISTORY_SECRET)
    with gr.Accordion("History (this browser, last 50)", open=False):
        table = gr.Dataframe(
            headers=["When (UTC)", "Model", "Prompt", "Seed", "Size"],
            interactive=False,
            wrap=True,
            label="History",
        )
    return History(state, table)


def wire(
    demo: gr.Blocks,
    history: History,
    run: Any,
    records: gr.JSON,
    form: Form,
    catalogs: CatalogStore,
    output_dir: Path,
) -> None:
    """Each finished run adds its records; picking a row restores its settings."""
    quiet = {"show_progress": "hidden", "api_visibility": "private"}
    run.then(
        remember, [records, history.state], [history.state, history.table], queue=False, **quiet
    )
    demo.load(history_rows, history.state, history.table, queue=False, **quiet)

    def pick(items: Any, event: gr.SelectData) -> tuple:  # Gradio injects SelectData by type hint
        return pick_history(catalogs, items, event, output_dir)

    history.table.select(
        pick,
        history.state,
        form.restorable,
        concurrency_limit=None,  # queued, never waiting: gr.Info needs the queue
        **quiet,
    )


def remember(records: Any, history: Any) -> tuple:
    """Add new records to the browser's history (newest first, at most HISTORY_LIMIT)."""
    items = list(history.get("items", [])) if isinstance(history, dict) else []
    known = {item.get("job_id") for item in items}
    fresh = [
        {key: record.get(key) for key in HISTORY_FIELDS}
        for record in (records or [])
        if isinstance(record, dict) and record.get("job_id") not in known
    ]
    history = {"items": (fresh[::-1] + items)[:HISTORY_LIMIT]}
    return history, history_rows(history)


def history_rows(history: Any) -> list[list[Any]]:
    items = history.get("items", []) if isinstance(history, dict) else []
    return [
        [
            (item.get("created_at") or "")[:19].replace("T", " "),
            item.get("model_id"),
            _short(item.get("prompt") or ""),
            item.get("seed"),
            f"{item.get('width')}×{item.get('height')}",
        ]
        for item in items
    ]


def pick_history(
    catalogs: CatalogStore, history: Any, event: gr.SelectData, output_dir: Path | None = None
) -> tuple:
    """The row's settings for the form; says so, and whether its image is still kept."""
    items = history.get("items", []) if isinstance(history, dict) else []
    row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
    if not isinstance(row, int) or not 0 <= row < len(items):
        return (gr.update(),) * len(FORM_FIELDS)
    item = items[row]
    gone = output_dir is not None and find_saved(output_dir, item.get("job_id")) is None
    gr.Info(IMAGE_GONE if gone else RESTORED)
    return apply_settings(catalogs, item)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
