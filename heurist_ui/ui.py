"""The studio: a Gradio Blocks UI over the Heurist client. The only module that imports gradio."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from .catalog import ModelCatalog, ModelInfo, load_catalog, offline_catalog
from .client import HeuristClient
from .cost import estimate_credits
from .errors import HeuristError, InvalidRequestError
from .images import parse_infotext, read_png_metadata, save_png
from .params import (
    MAX_GUIDANCE,
    MAX_SEED,
    MAX_STEPS,
    MIN_GUIDANCE,
    MIN_SIZE,
    MIN_STEPS,
    SIZE_STEP,
    check_seed,
)

log = logging.getLogger(__name__)
C = TypeVar("C", bound=gr.components.Component)

MAX_IMAGES = 8
HISTORY_LIMIT = 50
DEFAULT_CONCURRENCY = 32  # users whose batches run at once: the work is remote I/O
KEY_STORAGE = "heurist_ui_key"
HISTORY_STORAGE = "heurist_ui_history"
ASPECT_PRESETS = {
    "1:1": 1.0,
    "4:3": 4 / 3,
    "3:4": 3 / 4,
    "16:9": 16 / 9,
    "9:16": 9 / 16,
    "3:2": 3 / 2,
    "2:3": 2 / 3,
}
SETTING_KEYS = (
    "prompt",
    "neg_prompt",
    "model_id",
    "width",
    "height",
    "num_iterations",
    "guidance_scale",
    "seed",
)

NO_KEY_MESSAGE = (
    "No API key is set. Paste your Heurist key (user_id#api_key) in the API key field, or set "
    "HEURIST_API_KEY in the server's environment or .env file."
)

# The user's key lives in this browser's localStorage only; the server never stores it. The
# no-key notice hides as soon as there is a key.
LOAD_KEY_JS = f"""
() => {{
  const key = localStorage.getItem("{KEY_STORAGE}") || "";
  const notice = document.querySelector("#no-key");
  if (notice && key) notice.style.display = "none";
  return key;
}}
"""
SAVE_KEY_JS = f"""
(key) => {{
  key = (key || "").trim();
  if (key) localStorage.setItem("{KEY_STORAGE}", key);
  else localStorage.removeItem("{KEY_STORAGE}");
  const notice = document.querySelector("#no-key");
  if (notice) notice.style.display = key ? "none" : "";
}}
"""

FORM_STORAGE = "heurist_ui_form"
SAVE_FORM_JS = f"""
(...values) => {{ localStorage.setItem("{FORM_STORAGE}", JSON.stringify(values)); }}
"""


def restore_form_js(catalog: ModelCatalog) -> str:
    """JS giving the form's saved values, field by field, where they still make sense."""
    return f"""
(...current) => {{
  let saved = null;
  try {{ saved = JSON.parse(localStorage.getItem("{FORM_STORAGE}") || "null"); }} catch (e) {{}}
  if (!Array.isArray(saved) || saved.length !== current.length) return current;
  const models = {json.dumps(catalog.names)};
  if (!models.includes(saved[2])) return current;
  return saved.map((value, i) => (value === null || value === undefined ? current[i] : value));
}}
"""


CSS = """
#cost-line { font-variant-numeric: tabular-nums; }
#badge { display: inline-block; padding: 2px 10px; border-radius: 999px;
         background: #fde68a; color: #713f12; font-weight: 600; }
"""

# Ctrl/Cmd+Enter generates from anywhere; Escape stops.
SHORTCUTS_JS = """
() => {
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      document.querySelector("#generate-btn")?.click();
    } else if (event.key === "Escape") {
      document.querySelector("#stop-btn")?.click();
    }
  });
}
"""


def aspect_size(ratio: float, model: ModelInfo) -> tuple[int, int]:
    """A size of the given aspect ratio with about the model's default pixel count."""
    d = model.defaults
    area = d.width * d.height
    width = min(math.sqrt(area * ratio), d.max_width)
    height = min(width / ratio, d.max_height)
    width = height * ratio
    return (
        max(MIN_SIZE, int(width) // SIZE_STEP * SIZE_STEP),
        max(MIN_SIZE, int(height) // SIZE_STEP * SIZE_STEP),
    )


def format_credits(value: float) -> str:
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


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
        ("Job id", record.get("job_id")),
        ("Credits", format_credits(float(record.get("credits") or 0))),
        ("Time", f"{record.get('elapsed_s')} s"),
        ("Created", record.get("created_at", "—")),
    ]
    cells = "\n".join(f"| {name} | {_cell(value)} |" for name, value in rows)
    return f"| | |\n|---|---|\n{cells}"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def raw_input(component: C) -> C:
    """Let the sent value reach Studio's validation unchanged.

    Gradio's own range and type checks answer a bad value from an API caller with a generic
    error and know nothing of per-model limits; ours say what is wrong and what to send.
    (An instance override, not a subclass: Gradio writes a .pyi beside any component subclass.)
    """
    component.preprocess = _unchanged  # type: ignore[method-assign]
    return component


def _unchanged(payload: Any) -> Any:
    return payload


@dataclass
class CatalogStore:
    """The catalogue the whole app shares; refreshed in the background, never blocking."""

    client: HeuristClient
    lock: threading.Lock

    @classmethod
    def start(cls, client: HeuristClient) -> CatalogStore:
        client.catalog = offline_catalog(client.settings.cache_dir)
        return cls(client=client, lock=threading.Lock())

    @property
    def catalog(self) -> ModelCatalog:
        return self.client.catalog

    def refresh(self) -> ModelCatalog:
        """Fetch the catalogue now (a few seconds at most), keeping a good one on failure."""
        with self.lock:
            settings = self.client.settings
            fresh = load_catalog(settings.models_url, cache_dir=settings.cache_dir)
            if fresh.source == "remote" or self.catalog.source == "bundled":
                self.client.catalog = fresh
            return self.catalog

    def refresh_in_background(self) -> None:
        threading.Thread(target=self.refresh, name="heurist-catalog", daemon=True).start()


class Studio:
    """Handlers of the UI, bound to one client; build() lays them out."""

    def __init__(
        self,
        client: HeuristClient,
        *,
        output_dir: Path | None = None,
        sandbox: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.client = client
        self.catalogs = CatalogStore.start(client)
        self.output_dir = Path(output_dir or client.settings.output_dir)
        self.sandbox = sandbox
        self.concurrency = concurrency
        # Jobs block on the network, so one thread each: every running batch at full width.
        self.workers = ThreadPoolExecutor(
            max_workers=concurrency * MAX_IMAGES, thread_name_prefix="heurist-job"
        )

    # ---- models, size, cost -------------------------------------------------------------

    def model_choices(self) -> list[tuple[str, str]]:
        return [(model.label, model.name) for model in self.catalogs.catalog]

    def find_model(self, model_id: Any) -> ModelInfo | None:
        catalog = self.catalogs.catalog
        return catalog.get(model_id) if model_id in catalog else None

    def cost_line(self, model_id: Any, width: Any, height: Any, steps: Any, count: Any) -> str:
        """The live estimate: credits per image and for the whole batch."""
        model = self.find_model(model_id)
        hint = "Cost: set a size, steps and a number of images to see the estimate."
        try:
            w, h = int(width) // SIZE_STEP * SIZE_STEP, int(height) // SIZE_STEP * SIZE_STEP
            steps, count = int(steps), int(count)
        except (TypeError, ValueError, OverflowError):
            return hint
        if min(w, h) < MIN_SIZE or steps < MIN_STEPS or count < 1:
            return hint
        if model is None:
            return "Cost: pick a model to see the estimate."
        each = estimate_credits(model.type, w, h, steps)
        return (
            f"**≈ {format_credits(each)} credits** per image · "
            f"**{format_credits(each * count)} credits** for {count} "
            f"image{'s' if count != 1 else ''} ({model.kind}, {w}×{h}, {steps} steps)"
        )

    def model_changed(self, model_id: Any, width: Any, height: Any) -> tuple:
        """Bounds, negative-prompt visibility and LoRA help for the chosen model."""
        model = self.find_model(model_id)
        if model is None:
            return gr.update(), gr.update(), gr.update(), gr.update(visible=False), gr.update()
        d = model.defaults
        lora = model.is_lora and bool(model.autofill or model.recommend)
        help_lines = []
        if model.autofill:
            help_lines.append(f"**Trigger words:** `{model.autofill}`")
        if model.recommend:
            help_lines.append(f"**Recommended keywords:** {model.recommend}")
        if model.base:
            help_lines.append(f"LoRA on **{model.base}**.")
        return (
            gr.update(maximum=d.max_width, value=min(_int_or(width, d.width), d.max_width)),
            gr.update(maximum=d.max_height, value=min(_int_or(height, d.height), d.max_height)),
            gr.update(visible=model.takes_negative_prompt),
            gr.update(visible=lora),
            gr.update(value="  \n".join(help_lines)),
        )

    def model_defaults(self, model_id: Any) -> tuple:
        """The model's recommended size, steps, guidance and negative prompt."""
        model = self.find_model(model_id)
        if model is None:
            return (gr.update(),) * 5
        d = model.defaults
        return (
            gr.update(value=d.width, maximum=d.max_width),
            gr.update(value=d.height, maximum=d.max_height),
            gr.update(value=d.num_iterations),
            gr.update(value=d.guidance_scale),
            gr.update(value=d.neg_prompt or ""),
        )

    def insert_trigger(self, prompt: str, model_id: Any) -> str:
        """The prompt with the LoRA's trigger words in front, once."""
        model = self.find_model(model_id)
        prompt = prompt or ""
        if model is None or not model.autofill or model.autofill.lower() in prompt.lower():
            return prompt
        return f"{model.autofill}, {prompt}" if prompt.strip() else model.autofill

    def aspect(self, preset: str, model_id: Any) -> tuple:
        model = self.find_model(model_id)
        if model is None or preset not in ASPECT_PRESETS:
            return gr.update(), gr.update()
        width, height = aspect_size(ASPECT_PRESETS[preset], model)
        return gr.update(value=width), gr.update(value=height)

    def current_models(self) -> Any:
        """The dropdown's choices from the catalogue as it is now (no network)."""
        return gr.update(choices=self.model_choices())

    def refresh_models(self, model_id: Any) -> tuple:
        catalog = self.catalogs.refresh()
        value = model_id if model_id in catalog else catalog.default_model().name
        note = {
            "remote": "Model list refreshed.",
            "cache": "Heurist's model list is unreachable: showing the last saved copy.",
            "bundled": "Heurist's model list is unreachable: showing the built-in list.",
        }[catalog.source]
        gr.Info(note)
        return gr.update(choices=self.model_choices(), value=value)

    # ---- generating ---------------------------------------------------------------------

    async def generate(
        self,
        prompt: str,
        neg_prompt: str,
        model_id: str,
        width: float,
        height: float,
        num_iterations: float,
        guidance_scale: float,
        seed: float,
        num_images: float,
        api_key: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's injection idiom)
    ) -> AsyncIterator[tuple[list[tuple[str, str]], list[dict[str, Any]]]]:
        """Generate num_images images as parallel jobs, streaming each into the gallery."""
        key = (api_key or "").strip() or None
        if key is None and not self.client.has_key:
            raise gr.Error(NO_KEY_MESSAGE, title="No API key")
        try:
            count = _count(num_images)
            first = self.client.prepare(
                prompt, model_id, neg_prompt, width, height, num_iterations, guidance_scale, seed
            )
        except HeuristError as error:
            raise gr.Error(str(error), title="Check the settings") from None
        fixed_seed = check_seed(-1 if seed is None else seed) >= 0
        if fixed_seed and first.seed + count - 1 > MAX_SEED:
            raise gr.Error(
                f"With {count} images the seed must be at most {MAX_SEED - count + 1} "
                "(each image uses the next seed).",
                title="Check the settings",
            )
        # A fixed seed s gives s, s+1, ... (as A1111 does); -1 gives each image its own.
        batch = [first] + [
            first.with_seed(first.seed + i if fixed_seed else -1) for i in range(1, count)
        ]
        gallery: list[tuple[str, str]] = []
        records: list[dict[str, Any]] = []
        failures: list[str] = []
        loop = asyncio.get_running_loop()
        pending = {loop.run_in_executor(self.workers, self.make_image, p, key) for p in batch}
        try:
            # No empty first yield to clear the gallery: Gradio then sometimes never draws
            # the progress bar. The first image replaces the old ones.
            progress((0, count), desc=f"0 of {count}")
            while pending:
                # Awaiting, not blocking: Stop cancels the run here at once.
                finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for job in finished:
                    try:
                        path, record = job.result()
                    except HeuristError as error:
                        failures.append(str(error))
                    except Exception:
                        log.exception("A job failed unexpectedly")
                        failures.append("Something went wrong on our side. Try again.")
                    else:
                        gallery.append((str(path), caption_for(record)))
                        records.append(record)
                done = len(gallery) + len(failures)
                progress((done, count), desc=f"{done} of {count}")
                yield list(gallery), list(records)
        finally:
            for job in pending:  # jobs not yet sent are dropped; those in flight are abandoned
                job.cancel()
        if failures and not records:
            raise gr.Error(_summarize(failures, count), title="Generation failed")
        if failures:
            gr.Warning(_summarize(failures, count))

    def make_image(self, params: Any, key: str | None) -> tuple[Path, dict[str, Any]]:
        """One job: submit, download, save with metadata. Returns the PNG and its record."""
        started = time.monotonic()
        result = self.client.submit(params, api_key=key)
        data = self.client.download(result.url)
        record = result.to_record()
        path = save_png(data, record, self.output_dir)
        record["elapsed_s"] = round(time.monotonic() - started, 3)
        return path, record

    # ---- reproducing --------------------------------------------------------------------

    def select_image(self, records: Any, event: gr.SelectData) -> tuple:
        records = records if isinstance(records, list) else []
        index = event.index if isinstance(event.index, int) else -1
        if not 0 <= index < len(records):
            return gr.update(visible=False), None
        record = records[index]
        return gr.update(value=record_markdown(record), visible=True), record

    def apply_settings(self, settings: Any) -> tuple:
        """Form updates that restore settings (a record, a history entry or parsed infotext)."""
        if not isinstance(settings, dict):
            return (gr.update(),) * len(SETTING_KEYS)
        model = self.find_model(settings.get("model_id"))
        if settings.get("model_id") and model is None:
            gr.Warning(
                f"Model {settings['model_id']!r} is not offered by Heurist now: the "
                "current model was kept."
            )

        def value(key: str, **extra: Any) -> Any:
            if settings.get(key) is None:
                return gr.update()
            return gr.update(value=settings[key], **extra)

        d = model.defaults if model else None
        return (
            value("prompt"),
            value("neg_prompt"),
            gr.update(value=model.name) if model else gr.update(),
            value("width", **({"maximum": d.max_width} if d else {})),
            value("height", **({"maximum": d.max_height} if d else {})),
            value("num_iterations"),
            value("guidance_scale"),
            value("seed"),
        )

    def reuse_seed(self, record: Any) -> Any:
        if isinstance(record, dict) and record.get("seed") is not None:
            return record["seed"]
        return gr.update()

    def remember(self, records: Any, history: Any) -> tuple:
        """Add new records to the browser's history (newest first, at most HISTORY_LIMIT)."""
        items = list(history.get("items", [])) if isinstance(history, dict) else []
        known = {item.get("job_id") for item in items}
        fresh = [
            {key: record.get(key) for key in (*SETTING_KEYS, "job_id", "created_at")}
            for record in (records or [])
            if isinstance(record, dict) and record.get("job_id") not in known
        ]
        items = (fresh[::-1] + items)[:HISTORY_LIMIT]
        history = {"items": items}
        return history, self.history_rows(history)

    def history_rows(self, history: Any) -> list[list[Any]]:
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

    def pick_history(self, history: Any, event: gr.SelectData) -> tuple:
        items = history.get("items", []) if isinstance(history, dict) else []
        row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        if not isinstance(row, int) or not 0 <= row < len(items):
            return (gr.update(),) * len(SETTING_KEYS)
        gr.Info("Settings restored from history.")
        return self.apply_settings(items[row])

    def png_info(self, path: Any, pasted: str) -> tuple:
        """Parameters from a dropped image or pasted infotext: shown, and kept for sending."""
        text, record = (None, None)
        if path:
            text, record = read_png_metadata(path)
            if text is None and record is None:
                return (
                    "This image carries no generation parameters (or is not a PNG with "
                    "them). Try the original PNG file, not a screenshot or a re-saved copy."
                ), None
        elif pasted and pasted.strip():
            text = pasted
        else:
            return "Drop a PNG, or paste parameters text.", None
        settings = dict(parse_infotext(text)) if text else {}
        settings.pop("extra", None)
        if record:
            settings.update({k: record[k] for k in SETTING_KEYS if record.get(k) is not None})
        if not settings.get("prompt"):
            return "No prompt found in these parameters.", None
        shown = text or ""
        return f"```text\n{shown}\n```", settings

    # ---- layout -------------------------------------------------------------------------

    def build(self) -> gr.Blocks:
        catalog = self.catalogs.catalog
        start = catalog.default_model()
        d = start.defaults
        size_max = max(
            2048,
            *(m.defaults.max_width for m in catalog),
            *(m.defaults.max_height for m in catalog),
        )
        with gr.Blocks(title="Heurist Studio", analytics_enabled=False) as demo:
            history = gr.BrowserState({"items": []}, storage_key=HISTORY_STORAGE)
            selected = gr.State(None)
            pending = gr.State(None)
            badge = " <span id='badge'>sandbox</span>" if self.sandbox else ""
            gr.Markdown(f"# Heurist Studio{badge}")
            if self.sandbox:
                gr.Markdown(
                    "Sandbox mode: a local stand-in for Heurist renders placeholder "
                    "images. No key needed, no credits spent."
                )
            with gr.Tabs() as tabs:
                with gr.Tab("Generate", id="generate"), gr.Row(equal_height=False):
                    with gr.Column(scale=5, min_width=320):
                        prompt = gr.Textbox(
                            label="Prompt",
                            lines=3,
                            max_lines=12,
                            placeholder="a lighthouse at dusk, volumetric light",
                            elem_id="prompt",
                            autofocus=True,
                        )
                        with gr.Row(visible=start.is_lora) as lora_row:
                            lora_help = gr.Markdown()
                            insert = gr.Button("Insert trigger words", size="sm", scale=0)
                        neg_prompt = gr.Textbox(
                            label="Negative prompt",
                            lines=2,
                            value=d.neg_prompt or "",
                            visible=start.takes_negative_prompt,
                        )
                        with gr.Row():
                            model = gr.Dropdown(
                                label="Model",
                                choices=self.model_choices(),
                                value=start.name,
                                allow_custom_value=True,
                                scale=5,
                            )
                            refresh = gr.Button("🔄 Refresh", size="sm", scale=0, min_width=100)
                        with gr.Row():
                            width = raw_input(
                                gr.Slider(
                                    MIN_SIZE, size_max, value=d.width, step=SIZE_STEP, label="Width"
                                )
                            )
                            height = raw_input(
                                gr.Slider(
                                    MIN_SIZE,
                                    size_max,
                                    value=d.height,
                                    step=SIZE_STEP,
                                    label="Height",
                                )
                            )
                        with gr.Row():
                            aspect = gr.Radio(list(ASPECT_PRESETS), label="Aspect ratio", scale=5)
                            swap = gr.Button("⇄ Swap", size="sm", scale=0, min_width=80)
                        with gr.Row():
                            steps = raw_input(
                                gr.Slider(
                                    MIN_STEPS,
                                    MAX_STEPS,
                                    value=d.num_iterations,
                                    step=1,
                                    label="Steps",
                                )
                            )
                            guidance = raw_input(
                                gr.Slider(
                                    MIN_GUIDANCE,
                                    MAX_GUIDANCE,
                                    value=d.guidance_scale,
                                    step=0.5,
                                    label="Guidance scale",
                                )
                            )
                        with gr.Row():
                            seed = raw_input(
                                gr.Number(
                                    label="Seed",
                                    value=-1,
                                    precision=0,
                                    scale=4,
                                    info="-1 picks a new random seed per image",
                                )
                            )
                            dice = gr.Button("🎲 Random", size="sm", scale=0, min_width=100)
                            count = raw_input(
                                gr.Slider(1, MAX_IMAGES, value=1, step=1, label="Images", scale=4)
                            )
                        cost = gr.Markdown(elem_id="cost-line")
                        with gr.Row():
                            generate_btn = gr.Button(
                                "Generate", variant="primary", scale=3, elem_id="generate-btn"
                            )
                            stop_btn = gr.Button(
                                "Stop", variant="stop", scale=1, elem_id="stop-btn"
                            )
                        with gr.Accordion("API key", open=not self.client.has_key):
                            if self.client.has_key:
                                gr.Markdown(
                                    "A key is configured on this server. Paste your "
                                    "own to use it instead (kept in your browser "
                                    "only)."
                                )
                            else:
                                gr.Markdown(f"⚠️ {NO_KEY_MESSAGE}", elem_id="no-key")
                            api_key = gr.Textbox(
                                label="API key",
                                type="password",
                                placeholder="user_id#api_key",
                                elem_id="api-key",
                            )
                    with gr.Column(scale=6, min_width=320):
                        gallery = gr.Gallery(
                            label="Results",
                            columns=2,
                            height="80vh",
                            object_fit="contain",
                            show_label=True,
                            buttons=["download", "download_all", "fullscreen"],
                            interactive=False,
                            elem_id="gallery",
                        )
                        records = gr.JSON(label="Records", visible=False)
                        details = gr.Markdown(visible=False, elem_id="details")
                        with gr.Row():
                            reuse_seed = gr.Button("♻️ Reuse seed", size="sm")
                            reuse_all = gr.Button("Reuse all settings", size="sm")
                        with gr.Accordion("History (this browser, last 50)", open=False):
                            history_table = gr.Dataframe(
                                headers=["When (UTC)", "Model", "Prompt", "Seed", "Size"],
                                interactive=False,
                                wrap=True,
                                label="History",
                            )
                with gr.Tab("PNG info", id="png-info"), gr.Row(equal_height=False):
                    with gr.Column():
                        png_file = gr.File(
                            label="Drop a PNG", file_types=[".png", "image"], type="filepath"
                        )
                        pasted = gr.Textbox(label="Or paste parameters", lines=4)
                    with gr.Column():
                        png_text = gr.Markdown("Drop a PNG made here or by A1111.")
                        send = gr.Button("Send to generator", variant="primary")

            form = [prompt, neg_prompt, model, width, height, steps, guidance, seed]
            private = {"api_visibility": "private"}
            instant = {"queue": False, "show_progress": "hidden", **private}
            # Queued but never waiting: gr.Info and gr.Warning reach the page only from the queue.
            notifying = {"concurrency_limit": None, "show_progress": "hidden", **private}

            gr.on(
                [model.change, width.change, height.change, steps.change, count.change, demo.load],
                self.cost_line,
                [model, width, height, steps, count],
                cost,
                **instant,
            )
            model.change(
                self.model_changed,
                [model, width, height],
                [width, height, neg_prompt, lora_row, lora_help],
                **instant,
            )
            model.input(
                self.model_defaults, model, [width, height, steps, guidance, neg_prompt], **instant
            )
            # The form survives a reload: kept in this browser, restored before the model's
            # bounds are applied to it.
            saved = [*form, count]
            gr.on(
                [field.change for field in saved], fn=None, inputs=saved, js=SAVE_FORM_JS, **private
            )
            demo.load(
                fn=None,
                inputs=saved,
                outputs=saved,
                js=restore_form_js(self.catalogs.catalog),
                **private,
            ).then(
                self.model_changed,
                [model, width, height],
                [width, height, neg_prompt, lora_row, lora_help],
                **instant,
            )
            # The list may have been refreshed since this page was built.
            demo.load(self.current_models, None, model, **instant)
            insert.click(self.insert_trigger, [prompt, model], prompt, **instant)
            aspect.input(self.aspect, [aspect, model], [width, height], **instant)
            swap.click(
                fn=None,
                inputs=[width, height],
                outputs=[width, height],
                js="(w, h) => [h, w]",
                **private,
            )
            dice.click(fn=None, outputs=seed, js="() => -1", **private)
            refresh.click(self.refresh_models, model, model, **notifying)

            demo.load(fn=None, outputs=api_key, js=LOAD_KEY_JS, **private)
            api_key.change(fn=None, inputs=api_key, js=SAVE_KEY_JS, **private)

            run = gr.on(
                [generate_btn.click, prompt.submit],
                self.generate,
                inputs=[
                    prompt,
                    neg_prompt,
                    model,
                    width,
                    height,
                    steps,
                    guidance,
                    seed,
                    count,
                    api_key,
                ],
                outputs=[gallery, records],
                api_name="generate",
                api_description="Generate images; returns the gallery and one record per image.",
                concurrency_limit=self.concurrency,
                concurrency_id="generate",
                show_progress="full",
            )
            run.then(self.remember, [records, history], [history, history_table], **instant)
            stop_btn.click(fn=None, cancels=[run], **private)

            gallery.select(self.select_image, records, [details, selected], **instant)
            reuse_seed.click(self.reuse_seed, selected, seed, **instant)
            reuse_all.click(self.apply_settings, selected, form, **notifying)
            demo.load(self.history_rows, history, history_table, **instant)
            history_table.select(self.pick_history, history, form, **notifying)

            gr.on(
                [png_file.change, pasted.change],
                self.png_info,
                [png_file, pasted],
                [png_text, pending],
                **instant,
            )
            send.click(self.apply_settings, pending, form, **notifying).then(
                fn=lambda: gr.Tabs(selected="generate"), outputs=tabs, **instant
            )
        return demo


def _int_or(value: Any, fallback: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return fallback


def _count(value: Any) -> int:
    problem = f"Images must be a whole number from 1 to {MAX_IMAGES}."
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidRequestError(problem) from None
    if not number.is_integer() or not 1 <= number <= MAX_IMAGES:
        raise InvalidRequestError(problem)
    return int(number)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summarize(failures: list[str], count: int) -> str:
    distinct = list(dict.fromkeys(failures))
    if count == 1:
        return distinct[0]
    head = f"{len(failures)} of {count} image{'s' if count != 1 else ''} failed. "
    return head + " ".join(distinct[:3])


def launch_options(
    *,
    host: str,
    port: int,
    share: bool,
    auth: tuple[str, str] | None,
    concurrency: int,
    output_dir: Path,
) -> dict[str, Any]:
    """Keyword arguments for Blocks.launch that keep keys out of the browser's storage."""
    return {
        "server_name": host,
        "server_port": port,
        "share": share,
        "auth": auth,
        "max_threads": concurrency * 2 + 16,
        # Every API call is a session of its own; keep the last 1000, not Gradio's 10 000.
        "state_session_capacity": 1000,
        "run_history": False,  # an input may be an API key
        "show_error": False,
        "allowed_paths": [str(output_dir.resolve())],
        "footer_links": ["api", "gradio", "settings"],
        "css": CSS,
        "js": SHORTCUTS_JS,
        "theme": gr.themes.Soft(),
    }
