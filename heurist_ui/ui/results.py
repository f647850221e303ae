"""The results: the gallery of a batch, each image's full record, and buttons to reuse it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..catalog import CatalogStore
from .controls import format_credits
from .form import Form, settings_restorer
from .links import record_query
from .markup import as_text
from .words import words


@dataclass(frozen=True)
class Results:
    gallery: gr.Gallery
    records: gr.JSON
    details: gr.Markdown
    selected: gr.State
    reuse_seed: gr.Button
    reuse_all: gr.Button
    copy_link: gr.Button
    clear: gr.Button
    notify: gr.Button  # handled in the page's JS (assets.PAGE_JS)
    link: gr.Textbox  # the last link copied, to copy by hand where the clipboard is closed
    link_query: gr.Textbox  # the selected image's settings as a query string


def render() -> Results:
    """Every image of the session, newest first, at a fixed height (nothing below it moves as
    images arrive); under it the buttons for the selected image, then its record."""
    gallery = gr.Gallery(
        label=words("results"),
        columns=2,
        height="80vh",
        object_fit="contain",
        show_label=True,
        buttons=["download", "download_all", "fullscreen"],
        interactive=False,
        elem_id="gallery",
    )
    records = gr.JSON(label=words("records"), visible=False)
    with gr.Row(elem_id="result-buttons"):
        reuse_seed = gr.Button(words("reuse_seed"), size="sm")
        reuse_all = gr.Button(words("reuse_all"), size="sm")
        copy_link = gr.Button(words("link_image"), size="sm")
        clear = gr.Button(words("clear"), size="sm", elem_id="clear-results")
        notify = gr.Button(words("notify"), size="sm", elem_id="notify-btn")
    link = gr.Textbox(label=words("link"), visible=False, buttons=["copy"], elem_id="link")
    # Placed by the page (ui/__init__.py): under the results on a desk, after the settings on a
    # phone, so that opening a record moves nothing a user aims at.
    details = gr.Markdown(visible=False, elem_id="details", render=False)
    link_query = gr.Textbox(visible=False)
    return Results(
        gallery,
        records,
        details,
        gr.State(None),
        reuse_seed,
        reuse_all,
        copy_link,
        clear,
        notify,
        link,
        link_query,
    )


def wire(results: Results, form: Form, catalogs: CatalogStore) -> None:
    """Selecting an image shows its record; the reuse buttons send it to the form."""
    quiet = {"show_progress": "hidden", "api_visibility": "private"}
    results.gallery.select(
        select_image,
        results.records,
        [results.details, results.selected, results.link_query],
        queue=False,
        **quiet,
    )
    results.reuse_seed.click(reuse_seed, results.selected, form.seed, queue=False, **quiet)
    # Queued, never waiting: gr.Warning reaches the page only from the queue.
    results.reuse_all.click(
        settings_restorer(catalogs),
        results.selected,
        form.restorable,
        concurrency_limit=None,
        **quiet,
    )


def caption_for(record: dict[str, Any]) -> str:
    return f"seed {record['seed']}"  # the rest is in the record shown on selection


def record_markdown(record: dict[str, Any]) -> str:
    """The full record of one image as a small table."""
    rows = [
        ("Model", record.get("model_id")),
        ("Seed", record.get("seed")),
        ("Size", f"{record.get('width')}×{record.get('height')}"),
        ("Steps", record.get("num_iterations")),
        ("Guidance", record.get("guidance_scale")),
        ("Prompt", record.get("prompt")),
        ("Negative prompt", record.get("neg_prompt") or "—"),
        ("Variations of", record.get("prompt_template")),
        ("Style", record.get("style")),
        ("Enhanced from", record.get("enhanced_from")),
        ("Enhancer", record.get("enhancer")),
        ("Job id", record.get("job_id")),
        ("Credits", format_credits(float(record.get("credits") or 0))),
        ("Time", f"{record.get('elapsed_s')} s"),
        ("Created", record.get("created_at", "—")),
    ]
    cells = "\n".join(
        f"| {name} | {as_text(' '.join(str(value).split()))} |"
        for name, value in rows
        if value is not None
    )
    return f"| | |\n|---|---|\n{cells}"


def select_image(records: Any, event: gr.SelectData) -> tuple:
    records = records if isinstance(records, list) else []
    index = event.index if isinstance(event.index, int) else -1
    if not 0 <= index < len(records):
        return gr.update(visible=False), None, ""
    record = records[index]
    return gr.update(value=record_markdown(record), visible=True), record, record_query(record)


def reuse_seed(record: Any) -> Any:
    if isinstance(record, dict) and record.get("seed") is not None:
        return record["seed"]
    return gr.update()


def wire_done(run: Any, records: Any, noun: str) -> None:
    """When a run ends, the page's JS tells a user whose tab is in the background."""
    run.then(
        fn=None,
        inputs=records,
        js=f"(records) => {{ window.heuristDone && window.heuristDone(records, {noun!r}); }}",
        api_visibility="private",
    )
