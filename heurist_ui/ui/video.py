"""The Video tab: a prompt, Hunyuan or Mochi, live cost, Generate/Stop, progress, player, download,
a link to its settings and the history of this browser's videos (video_history.py).

Mochi's controls are made from video.MOCHI_SETTINGS (one row each), so the table in video.py
is the only place its bounds live. Stop cancels the task on Heurist's side (task_cancel).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..batch import outcome_of
from ..cost import Price
from ..errors import HeuristError
from ..jobkinds import Setting, WorkflowJob, WorkflowKind
from ..plan import Plan, plan_workflow
from ..video import HUNYUAN, MOCHI, MOCHI_SETTINGS, VIDEO_KINDS
from ..workflow import TaskCanceledError, TaskStatus
from . import video_history
from .controls import CostLine
from .errors import user_error
from .links import LinkTarget
from .mcp_tools import hide_from_mcp
from .messages import (
    ENGLISH,
    error_text,
    language_of,
    no_key,
    price_note,
    price_text,
    say,
    task_text,
    title,
)
from .studio import Studio, bind
from .video_history import VideoHistory
from .words import setting_help, setting_label, words
from .workflow_links import VIDEO_LINKS

VIDEO_TAB = VIDEO_LINKS.tab  # the tab's id, and its name in links

PRIVATE = {"api_visibility": "private"}
INSTANT = {"queue": False, "show_progress": "hidden", **PRIVATE}
MODELS = {kind.label: kind for kind in VIDEO_KINDS.values()}


@dataclass(frozen=True)
class VideoPanel:
    prompt: gr.Textbox
    model: gr.Radio
    mochi: gr.Group
    settings: tuple[gr.components.Component, ...]  # one per MOCHI_SETTINGS row
    cost: gr.Markdown
    generate: gr.Button
    stop: gr.Button
    progress: gr.Textbox
    player: gr.Video
    animation: gr.Image
    download: gr.DownloadButton
    record: gr.JSON
    link_button: gr.Button
    link: gr.Textbox  # the last link copied, to copy by hand where the clipboard is closed
    past: VideoHistory

    @property
    def restorable(self) -> list[Any]:
        """What a link or a history entry sets: the prompt, the model, each setting."""
        return [self.prompt, self.model, *self.settings]

    @property
    def shows(self) -> list[Any]:
        """What shows one video: progress, player, animation, download, record."""
        return [self.progress, self.player, self.animation, self.download, self.record]


def control(setting: Setting) -> gr.components.Component:
    """The input for one declared setting: a number box for seeds, a slider otherwise."""
    info = setting_help(setting)
    if setting.allow_random:
        return gr.Number(setting.default, label=setting_label(setting), info=info, precision=0)
    return gr.Slider(
        setting.minimum,
        setting.maximum,
        value=setting.default,
        step=setting.step,
        label=setting_label(setting),
        info=info,
    )


def render(studio: Studio) -> VideoPanel:
    """The tab's components (the caller puts them in a gr.Tab)."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=320):
            prompt = gr.Textbox(
                label=words("video.prompt"), lines=3, placeholder=words("video.prompt.placeholder")
            )
            model = gr.Radio(list(MODELS), value=HUNYUAN.label, label=words("video.model"))
            with gr.Group(visible=False) as mochi:
                settings = tuple(control(setting) for setting in MOCHI_SETTINGS)
            cost = gr.Markdown(elem_id="video-cost")  # filled by cost_line
            with gr.Row():
                generate = gr.Button(words("video.generate"), variant="primary", elem_id="video-go")
                stop = gr.Button(words("stop"), variant="stop", elem_id="video-stop")
            progress = gr.Textbox(
                label=words("progress"), interactive=False, elem_id="video-progress", max_lines=2
            )
            link_button = gr.Button(words("link_settings"), size="sm")
            link = gr.Textbox(
                label=words("link"), visible=False, buttons=["copy"], elem_id="video-link"
            )
        with gr.Column(scale=6, min_width=320):
            player = gr.Video(
                label=words("video.player"), elem_id="video-player", interactive=False
            )
            animation = gr.Image(label=words("video.animation"), visible=False, interactive=False)
            download = gr.DownloadButton(
                words("video.download"), visible=False, elem_id="video-download"
            )
            record = gr.JSON(label=words("record"), elem_id="video-record")
            past = video_history.render()
    return VideoPanel(
        prompt,
        model,
        mochi,
        settings,
        cost,
        generate,
        stop,
        progress,
        player,
        animation,
        download,
        record,
        link_button,
        link,
        past,
    )


def price_line(model: str, language: str = ENGLISH) -> str:
    """The cost line for a model: its price where Heurist publishes one, and what it is."""
    kind = MODELS.get(model, HUNYUAN)
    credits = kind.credits(kind.prepare("price")) if kind.settings == () else None
    note = price_note(language, kind.price_note)
    if credits is None:
        return say(language, "cost.note", note=note)
    return say(language, "cost.price", price=price_text(language, Price(credits)), note=note)


def cost_line(panel: VideoPanel) -> CostLine:
    """The tab's cost line (price_line), as its model changes."""

    def price(language: str, model: Any) -> str:
        return price_line(model, language)

    return CostLine([panel.model], panel.cost, price)


def pick_model(model: str) -> Any:
    """Show Mochi's settings only for Mochi."""
    return gr.update(visible=MODELS.get(model) is MOCHI)


def prepare_video(model: Any, prompt: Any, values: dict[str, Any], language: str = ENGLISH) -> Plan:
    """The plan of the chosen model's task, or a gr.Error that says what to fix."""
    kind: WorkflowKind | None = MODELS.get(model) if isinstance(model, str) else None
    heading = title(language, "settings")
    if kind is None:
        raise user_error(say(language, "video.choose", models=", ".join(MODELS)), title=heading)
    try:
        return plan_workflow(kind, prompt, **(values if kind.settings else {}))
    except HeuristError as error:
        raise user_error(error_text(error, language), title=heading) from None


async def generate_video(studio: Studio, prompt: str, model: str, *rest: Any) -> AsyncIterator:
    """Run one video task: (progress, player, animation, download, record) as it goes.

    rest is one value per MOCHI_SETTINGS row, then the API key, then Gradio's request.
    """
    names = [setting.name for setting in MOCHI_SETTINGS]
    values = dict(zip(names, rest[: len(names)], strict=True))
    key = (str(rest[len(names)] or "").strip() or None) if len(rest) > len(names) else None
    request = rest[len(names) + 1] if len(rest) > len(names) + 1 else None
    language = language_of(request)  # English for a script or an agent
    if key is None and not studio.client.has_key:
        raise user_error(no_key(language), title=title(language, "no_key"))
    plan = prepare_video(model, prompt, values, language)
    studio.admit(plan, key, request)
    job = plan.jobs[0]
    # Hidden once: each update of a component's props costs Gradio a new component and its
    # config (a JSON schema), so the status lines after it change values only.
    hidden = gr.update(visible=False)
    yield say(language, "task.creating"), None, hidden, hidden, None
    outcome = None
    async for step in follow(studio, job, key, language):
        if isinstance(step, TaskStatus):
            yield task_text(language, step), None, None, None, None
        else:
            outcome = step
    if outcome.error is not None:
        if isinstance(outcome.error, TaskCanceledError):
            yield str(outcome.error), None, None, None, None
            return
        heading = title(language, "video_failed")
        raise user_error(error_text(outcome.error, language), title=heading)
    saved = outcome.image
    path = str(saved.path)
    elapsed = saved.record.get("elapsed_s", 0)
    line = say(language, "task.saved", seconds=elapsed, file=saved.path.name)
    is_mp4 = saved.path.suffix == ".mp4"
    yield (
        line,
        path if is_mp4 else None,
        None if is_mp4 else gr.update(value=path, visible=True),
        gr.update(value=path, visible=True),
        saved.record,
    )


async def follow(
    studio: Studio,
    job: WorkflowJob,
    key: str | None,
    language: str = ENGLISH,
    failed: str = "video_failed",
) -> AsyncIterator:
    """Run one workflow job: each TaskStatus as it is polled, then its Outcome. A job refused
    at once is a gr.Error in language, titled by the messages' title.<failed>.

    Closing the iterator (Stop, a closed page) cancels the task on Heurist's side.
    """
    loop = asyncio.get_running_loop()
    updates: asyncio.Queue[TaskStatus] = asyncio.Queue()

    def heard(_: int, status: TaskStatus) -> None:
        with contextlib.suppress(RuntimeError):  # the page's loop is gone: nobody listens
            loop.call_soon_threadsafe(updates.put_nowait, status)

    cancel = threading.Event()
    try:
        (future,) = studio.runner.submit([job], key, on_status=heard, cancel=cancel)
    except HeuristError as error:
        raise user_error(error_text(error, language), title=title(language, failed)) from None
    done = asyncio.wrap_future(future)
    try:
        while not done.done():
            getter = asyncio.ensure_future(updates.get())
            await asyncio.wait({getter, done}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield getter.result()
            else:
                getter.cancel()
    finally:
        cancel.set()  # Stop or a closed page: the task is canceled on Heurist's side
        done.add_done_callback(_retrieved)
    yield outcome_of(future, 0, job)


def _retrieved(future: asyncio.Future) -> None:
    """Mark a job's end as seen (it was reported, or nobody is left to report it to)."""
    if not future.cancelled():
        future.exception()


def _signature() -> inspect.Signature:
    """generate_video's parameters as Gradio and the REST API see them: one per setting."""
    fixed = list(inspect.signature(generate_video).parameters.values())[:3]
    named = [
        inspect.Parameter(s.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=float)
        for s in MOCHI_SETTINGS
    ]
    key = inspect.Parameter("api_key", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)
    request = inspect.Parameter(
        "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request
    )
    return inspect.Signature([*fixed, *named, key, request])


generate_video.__signature__ = _signature()  # type: ignore[attr-defined]


def link_target(panel: VideoPanel) -> LinkTarget:
    """What a video link (?tab=video&...) fills when the page opens: the form."""
    defaults = [component.value for component in panel.restorable]
    return LinkTarget(
        panel.restorable, lambda query, language: VIDEO_LINKS.link_values(query, defaults, language)
    )


def wire(studio: Studio, panel: VideoPanel, api_key: gr.Textbox) -> None:
    """Model choice shows its settings and price; Generate runs, Stop cancels the task; the
    history keeps each video; 🔗 copies a link to the settings."""
    panel.model.change(pick_model, panel.model, panel.mochi, **INSTANT)
    outputs = [panel.progress, panel.player, panel.animation, panel.download, panel.record]
    run = panel.generate.click(
        hide_from_mcp(bind(generate_video, studio)),
        [panel.prompt, panel.model, *panel.settings, api_key],
        outputs,
        api_name="video",
        api_description="Generate a video (Hunyuan or Mochi); Mochi's settings are ignored "
        "for Hunyuan. (progress, video, animation, download, record).",
        concurrency_limit=studio.concurrency,
        concurrency_id="generate",
    )
    panel.stop.click(fn=None, cancels=[run], **PRIVATE)
    video_history.wire(
        panel.past, run, panel.record, panel.shows, panel.restorable, studio.runner.output_dir
    )
    panel.link_button.click(
        fn=None, inputs=panel.restorable, outputs=panel.link, js=VIDEO_LINKS.link_js(), **PRIVATE
    ).then(fn=lambda: gr.update(visible=True), outputs=panel.link, **INSTANT)
