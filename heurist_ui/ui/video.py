"""The Video tab: a prompt, Hunyuan or Mochi, live cost, Generate/Stop, progress, player, download.

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
from .errors import user_error
from .key import NO_KEY_MESSAGE
from .mcp_tools import hide_from_mcp
from .studio import Studio, bind
from .words import setting_help, setting_label, words

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
    history: gr.State  # this session's saved videos, newest first
    files: gr.File


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
            cost = gr.Markdown(price_line(HUNYUAN.label), elem_id="video-cost")
            with gr.Row():
                generate = gr.Button(words("video.generate"), variant="primary", elem_id="video-go")
                stop = gr.Button(words("stop"), variant="stop", elem_id="video-stop")
            progress = gr.Textbox(
                label=words("progress"), interactive=False, elem_id="video-progress", max_lines=2
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
            history = gr.State([])
            files = gr.File(
                label=words("video.files"),
                file_count="multiple",
                interactive=False,
                elem_id="video-history",
            )
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
        history,
        files,
    )


HISTORY_LENGTH = 20


def remember(saved: Any, history: list[str]) -> tuple[list[str], list[str]]:
    """The session's videos with the new one first (the last HISTORY_LENGTH)."""
    path = saved if isinstance(saved, str) else getattr(saved, "path", None)
    if path and path not in history:
        history = [path, *history][:HISTORY_LENGTH]
    return history, history


def price_line(model: str) -> str:
    """The cost line for a model: its price where Heurist publishes one, and what it is."""
    kind = MODELS.get(model, HUNYUAN)
    credits = kind.credits(kind.prepare("price")) if kind.settings == () else None
    if credits is None:
        return f"Cost: {kind.price_note}."
    return f"Cost: {Price(credits)}. {kind.price_note}."


def pick_model(model: str) -> tuple[Any, str]:
    """Show Mochi's settings only for Mochi, and its price line."""
    return gr.update(visible=MODELS.get(model) is MOCHI), price_line(model)


def prepare_video(model: Any, prompt: Any, values: dict[str, Any]) -> Plan:
    """The plan of the chosen model's task, or a gr.Error that says what to fix."""
    kind: WorkflowKind | None = MODELS.get(model) if isinstance(model, str) else None
    if kind is None:
        raise user_error(f"Choose a video model: {', '.join(MODELS)}.", title="Check the settings")
    try:
        return plan_workflow(kind, prompt, **(values if kind.settings else {}))
    except HeuristError as error:
        raise user_error(str(error), title="Check the settings") from None


async def generate_video(studio: Studio, prompt: str, model: str, *rest: Any) -> AsyncIterator:
    """Run one video task: (progress, player, animation, download, record) as it goes.

    rest is one value per MOCHI_SETTINGS row, then the API key, then Gradio's request.
    """
    names = [setting.name for setting in MOCHI_SETTINGS]
    values = dict(zip(names, rest[: len(names)], strict=True))
    key = (str(rest[len(names)] or "").strip() or None) if len(rest) > len(names) else None
    request = rest[len(names) + 1] if len(rest) > len(names) + 1 else None
    if key is None and not studio.client.has_key:
        raise user_error(NO_KEY_MESSAGE, title="No API key")
    plan = prepare_video(model, prompt, values)
    studio.admit(plan, key, request)
    job = plan.jobs[0]
    hidden = gr.update(visible=False)
    yield "Creating the task…", None, hidden, hidden, None
    outcome = None
    async for step in follow(studio, job, key):
        if isinstance(step, TaskStatus):
            yield step.describe(), None, hidden, hidden, None
        else:
            outcome = step
    if outcome.error is not None:
        if isinstance(outcome.error, TaskCanceledError):
            yield str(outcome.error), None, hidden, hidden, None
            return
        raise user_error(str(outcome.error), title="The video failed")
    saved = outcome.image
    path = str(saved.path)
    elapsed = saved.record.get("elapsed_s", 0)
    line = f"Finished in {elapsed:.0f} s · saved as {saved.path.name}"
    is_mp4 = saved.path.suffix == ".mp4"
    yield (
        line,
        path if is_mp4 else None,
        gr.update(value=None if is_mp4 else path, visible=not is_mp4),
        gr.update(value=path, visible=True),
        saved.record,
    )


async def follow(studio: Studio, job: WorkflowJob, key: str | None) -> AsyncIterator:
    """Run one workflow job: each TaskStatus as it is polled, then its Outcome.

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
        raise user_error(str(error)) from None
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


def wire(studio: Studio, panel: VideoPanel, api_key: gr.Textbox) -> None:
    """Model choice shows its settings and price; Generate runs, Stop cancels the task."""
    panel.model.change(pick_model, panel.model, [panel.mochi, panel.cost], **INSTANT)
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
    run.success(remember, [panel.download, panel.history], [panel.history, panel.files], **INSTANT)
    panel.stop.click(fn=None, cancels=[run], **PRIVATE)
