"""The video history: the last videos made in this browser, kept across reloads and restarts.

Kept as the image History is (history.py): the records live in the browser's localStorage
(BrowserState), the files in the output folder, found by job id when shown; so a visitor sees
only their own videos, even on a public Space. A picked entry plays in the tab's player and
can restore its settings into the Video form. A video the storage cap deleted shows as gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ..video import MOCHI_SETTINGS, find_video, forget_poster, poster_of
from .errors import inform
from .history import HISTORY_LIMIT, HISTORY_SECRET, IMAGE_GONE_FILE
from .messages import ENGLISH, language_of, say
from .words import words
from .workflow_links import VIDEO_LINKS

VIDEO_HISTORY_STORAGE = "heurist_ui_video_history"
VIDEO_HISTORY_FIELDS = (
    "job_id",
    "kind",
    "model_id",
    "prompt",
    *(setting.name for setting in MOCHI_SETTINGS),
    "credits",
    "elapsed_s",
    "created_at",
)
PICK_FIRST = say(ENGLISH, "video.pick_first")
VIDEO_GONE = say(ENGLISH, "video.gone")


@dataclass(frozen=True)
class VideoHistory:
    state: gr.BrowserState  # {"items": [...]}, newest first
    panel: gr.Accordion
    gallery: gr.Gallery
    shown: gr.State  # the job ids the gallery shows, in its order
    picked: gr.State  # the picked entry's job id
    restore: gr.Button


def render() -> VideoHistory:
    """The history's components, folded (opening it shows them)."""
    state = gr.BrowserState({"items": []}, storage_key=VIDEO_HISTORY_STORAGE, secret=HISTORY_SECRET)
    with gr.Accordion(words("history.title"), open=False, elem_id="video-history") as panel:
        gallery = gr.Gallery(
            label=words("video.history"),
            columns=3,
            height=300,
            object_fit="cover",
            interactive=False,
            buttons=["fullscreen"],
            elem_id="video-history-gallery",
        )
        restore = gr.Button(words("history.restore"), size="sm")
    return VideoHistory(state, panel, gallery, gr.State([]), gr.State(None), restore)


def wire(
    history: VideoHistory,
    run: Any,
    record: gr.JSON,
    player: list[Any],
    form: list[Any],
    output_dir: Path,
) -> None:
    """A finished run adds its video; opening shows the history; a picked entry plays in
    `player` (progress, video, animation, download, record); Restore fills `form`."""
    quiet = {"show_progress": "hidden", "api_visibility": "private"}
    view = [history.gallery, history.shown]

    def show(items: Any) -> tuple:
        return history_view(items, output_dir)

    run.success(remember, [record, history.state], history.state, queue=False, **quiet).then(
        show, history.state, view, queue=False, **quiet
    )
    history.panel.expand(show, history.state, view, queue=False, **quiet)

    def pick(shown: Any, event: gr.SelectData) -> Any:  # Gradio injects SelectData by type hint
        index = event.index if isinstance(event.index, int) else -1
        return shown[index] if isinstance(shown, list) and 0 <= index < len(shown) else None

    def played(items: Any, job_id: Any, request: gr.Request = None) -> tuple:  # type: ignore[assignment]
        return play(items, job_id, output_dir, language_of(request))

    def restored(items: Any, job_id: Any, request: gr.Request = None) -> tuple:  # type: ignore[assignment]
        return restore(items, job_id, output_dir, language_of(request))

    history.gallery.select(pick, history.shown, history.picked, queue=False, **quiet).then(
        played,
        [history.state, history.picked],
        player,
        queue=False,
        **quiet,
    )
    history.restore.click(
        restored,
        [history.state, history.picked],
        form,
        concurrency_limit=None,  # queued, never waiting: gr.Info needs the queue
        **quiet,
    )


def remember(record: Any, history: Any) -> dict[str, Any]:
    """The history with a finished video's record first (at most HISTORY_LIMIT, no repeats)."""
    items = list(history.get("items", [])) if isinstance(history, dict) else []
    if not isinstance(record, dict) or not record.get("job_id"):
        return {"items": items}
    fresh = {name: record.get(name) for name in VIDEO_HISTORY_FIELDS if name in record}
    kept = [item for item in items if item.get("job_id") != record["job_id"]]
    return {"items": [fresh, *kept][:HISTORY_LIMIT]}


def history_view(history: Any, output_dir: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(gallery of posters with captions, their job ids); a deleted video shows as gone."""
    items = history.get("items", []) if isinstance(history, dict) else []
    gallery, shown = [], []
    for item in items:
        if not isinstance(item, dict):
            continue
        gallery.append((str(_still(output_dir, item.get("job_id"))), caption(item)))
        shown.append(item.get("job_id"))
    return gallery, shown


def _still(output_dir: Path, job_id: Any) -> Path:
    video = find_video(output_dir, job_id)
    if video is None:
        forget_poster(output_dir, job_id)
        return IMAGE_GONE_FILE
    try:
        return poster_of(video)
    except Exception:  # an unreadable video (PyAV raises many types): the gallery plays it
        return video


def caption(item: dict[str, Any]) -> str:
    """'Mochi video · 512×256 · seed 3 · a fox …': the model, its settings, the prompt."""
    parts = [str(item.get("model_id") or "video")]
    if item.get("width") and item.get("height"):
        parts.append(f"{item['width']}×{item['height']}")
    if item.get("length"):
        parts.append(f"{item['length']} frames")
    if item.get("seed") is not None:
        parts.append(f"seed {item['seed']}")
    text = " ".join(str(item.get("prompt") or "").split())
    parts.append(text if len(text) <= 60 else text[:59] + "…")
    return " · ".join(parts)


def play(history: Any, job_id: Any, output_dir: Path, language: str = ENGLISH) -> tuple:
    """(progress, player, animation, download, record) for a picked entry: its video, or gone."""
    item = _item(history, job_id)
    hidden = gr.update(value=None, visible=False)
    if item is None:
        return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
    video = find_video(output_dir, item.get("job_id"))
    if video is None:
        return say(language, "video.gone"), None, hidden, hidden, item
    path, is_mp4 = str(video), video.suffix == ".mp4"
    return (
        f"From the history · {video.name}",
        path if is_mp4 else None,
        gr.update(value=None if is_mp4 else path, visible=not is_mp4),
        gr.update(value=path, visible=True),
        item,
    )


def restore(history: Any, job_id: Any, output_dir: Path, language: str = ENGLISH) -> tuple:
    """The video form's updates from a picked entry (each value bounded); says what it did, in
    language."""
    item = _item(history, job_id)
    if item is None:
        inform(say(language, "video.pick_first"))
        return VIDEO_LINKS.form_updates({})
    settings, _ = VIDEO_LINKS.checked(item)
    found = find_video(output_dir, item.get("job_id"))
    inform(say(language, "history.restored" if found else "video.gone"))
    return VIDEO_LINKS.form_updates(settings)


def _item(history: Any, job_id: Any) -> dict[str, Any] | None:
    items = history.get("items", []) if isinstance(history, dict) else []
    return next(
        (
            item
            for item in items
            if isinstance(item, dict) and job_id and item.get("job_id") == job_id
        ),
        None,
    )
