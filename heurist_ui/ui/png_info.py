"""The PNG info tab: the parameters of a dropped image or pasted text, sent to the form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..catalog import CatalogStore
from ..generator_models import STRENGTH
from ..infotext import parse_infotext
from ..params import SETTING_FIELDS
from ..pngfile import read_png_metadata
from .form import FORM_NOTES, Form, settings_restorer
from .markup import as_block
from .words import words

NO_PARAMETERS = (
    "This image carries no generation parameters (or is not a PNG with them). Try the original "
    "PNG file, not a screenshot or a re-saved copy."
)


@dataclass(frozen=True)
class PngInfo:
    file: gr.File
    pasted: gr.Textbox
    text: gr.Markdown
    send: gr.Button
    found: gr.State  # the settings read, waiting for "Send to generator"


def render() -> PngInfo:
    with gr.Row(equal_height=False):
        with gr.Column():
            file = gr.File(
                label=words("png.drop"),
                file_types=[".png", ".jpg", ".jpeg", ".webp"],
                type="filepath",
            )
            pasted = gr.Textbox(label=words("png.paste"), lines=4)
        with gr.Column():
            text = gr.Markdown(words("png.hint"), elem_id="png-text")
            send = gr.Button(words("png.send"), variant="primary")
    return PngInfo(file, pasted, text, send, gr.State(None))


def wire(panel: PngInfo, form: Form, tabs: gr.Tabs, catalogs: CatalogStore) -> None:
    """Reading is instant; sending fills the form and switches to the generator."""
    private = {"show_progress": "hidden", "api_visibility": "private"}
    gr.on(
        [panel.file.change, panel.pasted.change],
        png_info,
        [panel.file, panel.pasted],
        [panel.text, panel.found],
        queue=False,
        **private,
    )
    panel.send.click(
        settings_restorer(catalogs),
        panel.found,
        form.restorable,
        concurrency_limit=None,  # queued, never waiting: gr.Warning needs the queue
        **private,
    ).then(fn=lambda: gr.Tabs(selected="generate"), outputs=tabs, queue=False, **private)


def png_info(path: Any, pasted: str) -> tuple[str, dict[str, Any] | None]:
    """Parameters from a dropped image or pasted infotext: shown, and kept for sending."""
    text, record = None, None
    if path:
        text, record = read_png_metadata(path)
        if text is None and record is None:
            return NO_PARAMETERS, None
    elif pasted and pasted.strip():
        text = pasted
    else:
        return "Drop an image, or paste parameters text.", None
    settings = dict(parse_infotext(text)) if text else {}
    settings.pop("extra", None)
    if record:
        kept = (
            *SETTING_FIELDS,
            STRENGTH.name,
            "kind",
            "prompt_template",
            "neg_prompt_template",
            *FORM_NOTES,
            "job_id",
        )
        settings.update({k: record[k] for k in kept if record.get(k) is not None})
    if not settings.get("prompt"):
        return "No prompt found in these parameters.", None
    return as_block(text or ""), settings
