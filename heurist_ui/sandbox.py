"""A local Heurist-compatible image API, with fault injection, for tests and offline demos.

    python -m heurist_ui.sandbox --port 8765 [--host 127.0.0.1] [--latency 0.0] [--keys k1,k2]
                                 [--image-format placeholder|png|jpeg|webp]

Serves POST /submit_job (the sequencer's contract; the answer is the image URL as a JSON string;
only model_id and model_input.SD.prompt are required, the rest takes the seed's defaults), the
workflow API's POST /task_create, /task_result_query and /task_cancel (see sandbox_workflow.py),
GET /images/<job_id>.<ext> (the image) and GET /models.json (the bundled catalogue plus two LLM
entries, as the real file has). Tests steer it in-process through `Sandbox.add_fault(...)`, or
over HTTP under /_sandbox/. Raw API keys are never stored or logged: only `key_fingerprint(key)`
is.

The image format (`Sandbox(image_format=...)`, `--image-format`, or POST /_sandbox/image_format
with {"format": "jpeg"}; the latency is set alike with {"seconds": ...} at /_sandbox/latency):

    placeholder  the default: a small PNG of shapes and a caption, cheap to draw and to save
    png          a photo-like PNG (a colour ramp under film grain), about 1.6 MB at 1024×1024
    jpeg         the same picture as JPEG (quality 90), about 300 KB at 1024×1024, URL .jpg
    webp         the same as lossy WebP (quality 80), about 160 KB at 1024×1024, URL .webp

Photo-like sizes scale with the pixels, as real answers do; see heurist_ui.sandbox_images for how
they are rendered in milliseconds. Each job keeps the format it was submitted under.

Faults queue first in, first out; each POST /submit_job takes the next one (`times` uses):

    status     answer `status`, with optional `body` text and `retry_after` header
    delay      wait `seconds` more, then answer as usual (for client read timeouts)
    drop       announce a 100-byte body, send a few bytes, hang up (recorded as status 0)
    trickle    answer as usual, but one byte of the body every `seconds`
    shape      a 200 whose body is the URL as `shape` "quoted" (the default), "bare" or
               "object" ({"image_url": ...}), or the literal `body` given ("", "null", ...)
    image_url  a 200 naming `url` (e.g. "file:///etc/passwd") instead of the real image
    image      the job succeeds but fetching its image gives `mode`: "missing" (404),
               "html", "huge" (`size` bytes streamed, 64 MiB by default), "redirect"
               (302 to `location`), "not_image" (random bytes served as image/png) or
               "trickle" (the real image, one byte every `seconds`)
    echo       a careless proxy: the request's Authorization header and body sent back, as a
               400 body from /submit_job, as the answer's content from the LLM gateway

POST /v1/chat/completions takes the same queue: status, delay, drop, trickle, shape (the
literal `body` as the answer) and echo apply to it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import logging
import math
import os
import random
import re
import secrets
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from http.client import responses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from PIL import Image, ImageDraw, ImageFont

from .bundled import MODELS_JSON
from .sandbox_images import render_photo
from .sandbox_workflow import WorkflowTasks

logger = logging.getLogger("heurist_ui.sandbox")

BUNDLED_MODELS = MODELS_JSON
LLM_ENTRIES: tuple[dict[str, Any], ...] = (
    {
        "name": "hermes-3-llama3.1-8b",
        "type": "llm",
        "hf_id": "NousResearch/Hermes-3-Llama-3.1-8B",
        "info_url": "https://huggingface.co/NousResearch/Hermes-3-Llama-3.1-8B",
        "size_gb": 16,
    },
    {
        "name": "meta-llama/llama-3.3-70b-instruct",
        "type": "llm-chat",
        "hf_id": "meta-llama/Llama-3.3-70B-Instruct",
        "info_url": "https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct",
        "size_gb": 140,
    },
)
LLM_NAMES = frozenset(str(entry["name"]) for entry in LLM_ENTRIES)
CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")
NO_CREDITS_KEY = "no-credits"
MAX_STEPS = 50
MAX_SIDE = 4096  # the sandbox's own guard against huge renders, not an API limit
MAX_BODY_BYTES = 1024 * 1024
MAX_STORED_IMAGES = 512
MAX_SUBMISSIONS = 10_000
HOLD_WAIT = 60.0  # seconds Gate.wait_for waits for jobs that should come at once
DEFAULT_HUGE_BYTES = 64 * 1024 * 1024
DEFAULT_NOT_IMAGE_BYTES = 4096
DEFAULT_REDIRECT = "http://169.254.169.254/latest/meta-data/"
STREAM_CHUNK_BYTES = 64 * 1024
DROP_ANNOUNCED_BYTES = 100
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What the seed document requires; the rest is optional with these defaults (512×512 and seed -1
# are the seed's; steps and guidance are typical miner values). A missing job_id gets one, as the
# TypeScript SDK's leave-out-empty-fields bodies need.
REQUIRED_TOP_LEVEL = ("model_input", "model_id")
REQUIRED_SD = ("prompt",)
SD_DEFAULTS: dict[str, Any] = {
    "neg_prompt": "",
    "num_iterations": 20,
    "width": 512,
    "height": 512,
    "guidance_scale": 7.5,
    "seed": -1,
}
SHAPES = ("quoted", "bare", "object")
IMAGE_FORMATS = ("placeholder", "png", "jpeg", "webp")
EXTENSIONS = {"placeholder": "png", "png": "png", "jpeg": "jpg", "webp": "webp"}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
IMAGE_MODES = ("missing", "html", "huge", "redirect", "not_image", "trickle")
FAULT_OPTIONS: dict[str, frozenset[str]] = {
    "status": frozenset({"status", "body", "retry_after"}),
    "delay": frozenset({"seconds"}),
    "drop": frozenset(),
    "trickle": frozenset({"seconds"}),
    "shape": frozenset({"shape", "body", "content_type"}),
    "image_url": frozenset({"url"}),
    "image": frozenset({"mode", "size", "location", "seconds"}),
    "echo": frozenset(),
}
FAULT_KINDS = frozenset(FAULT_OPTIONS)
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"


def key_fingerprint(key: str) -> str:
    """First 16 hex digits of the key's SHA-256: enough to tell keys apart, useless to reuse."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Submission:
    """One POST /submit_job as the sandbox received and answered it."""

    job_id: str | None
    payload: dict[str, Any] | None  # the JSON body if it was an object, else None
    key_fingerprint: str | None
    received_at: float  # time.monotonic()
    answered_at: float  # time.monotonic(), just before the answer was written
    status: int  # HTTP status sent, 0 if the connection was dropped on purpose
    image_url: str | None  # the URL the answer carried, if it carried one

    def to_dict(self) -> dict[str, Any]:
        """The submission as JSON-ready data."""
        return asdict(self)


@dataclass
class _Fault:
    kind: str
    options: dict[str, Any]
    remaining: int


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = TEXT
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False
    stream_bytes: int | None = None
    trickle: float | None = None  # seconds between single bytes of the body


@dataclass(frozen=True)
class _Stored:
    data: bytes | None
    extension: str = "png"  # the URL's, which names the content type
    fault: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    body: bytes
    authorization: str | None = field(default=None, repr=False)
    received_at: float = 0.0


def _text(status: int, message: str | None = None, **kwargs: Any) -> _Reply:
    """A plain-text reply, with the status's standard phrase by default."""
    text = responses.get(status, "Error") if message is None else message
    return _Reply(status, text.encode("utf-8"), TEXT, **kwargs)


def _json(status: int, data: Any) -> _Reply:
    return _Reply(status, json.dumps(data).encode("utf-8"), JSON)


# ---------------------------------------------------------------- rendering


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _colour(rng: random.Random, low: int = 0, high: int = 255) -> tuple[int, int, int]:
    return (rng.randint(low, high), rng.randint(low, high), rng.randint(low, high))


def _gradient(width: int, height: int, rng: random.Random) -> Image.Image:
    """A two-colour gradient, top to bottom or left to right, drawn as one strip and stretched."""
    start, end = _colour(rng, 0, 160), _colour(rng, 80, 255)
    vertical = rng.random() < 0.5
    ramp = Image.linear_gradient("L").resize((1, height if vertical else width))
    bands = [
        ramp.point([a + (b - a) * v // 255 for v in range(256)])
        for a, b in zip(start, end, strict=True)
    ]
    strip = Image.merge("RGB", bands)
    if not vertical:
        strip = strip.transpose(Image.Transpose.ROTATE_90)
    return strip.resize((width, height), Image.Resampling.NEAREST)


def _ellipses(draw: ImageDraw.ImageDraw, width: int, height: int, rng: random.Random) -> None:
    side = min(width, height)
    for _ in range(rng.randint(3, 6)):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        rx, ry = rng.uniform(0.05, 0.3) * side, rng.uniform(0.05, 0.3) * side
        fill, outline = _colour(rng), _colour(rng)
        draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=fill, outline=outline, width=3)


def _caption(draw: ImageDraw.ImageDraw, lines: list[str], width: int, height: int) -> None:
    size = max(10, min(width, height) // 32)
    font, pad = _font(size), max(2, size // 3)
    box_height = len(lines) * (size + pad) + pad
    draw.rectangle((0, height - box_height, width, height), fill=(16, 16, 24))
    for row, line in enumerate(lines):
        y = height - box_height + pad + row * (size + pad)
        draw.text((pad, y), line, fill=(240, 240, 240), font=font)


def render_image(
    width: int, height: int, image_format: str, *, prompt: str, model_id: str, seed: int
) -> bytes:
    """The image of a job in image_format (one of IMAGE_FORMATS), the same for the same inputs."""
    if image_format == "placeholder":
        return render_placeholder(width, height, prompt=prompt, model_id=model_id, seed=seed)
    return render_photo(width, height, image_format, seed=f"{seed}\x00{model_id}\x00{prompt}")


def render_placeholder(width: int, height: int, *, prompt: str, model_id: str, seed: int) -> bytes:
    """Placeholder art as PNG bytes, exactly width×height, the same for the same inputs."""
    rng = random.Random(f"{seed}\x00{model_id}\x00{prompt}")
    image = _gradient(width, height, rng)
    draw = ImageDraw.Draw(image)
    _ellipses(draw, width, height, rng)
    short = " ".join(prompt.split())
    short = short if len(short) <= 60 else short[:59] + "…"
    _caption(draw, [short, f"{model_id}  seed {seed}"], width, height)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


# ---------------------------------------------------------------- validation


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _check_sd(sd: Any) -> str | None:
    """Why the model_input.SD object is refused, or None if it is fine."""
    if not isinstance(sd, dict):
        return "model_input.SD must be an object"
    missing = [name for name in REQUIRED_SD if name not in sd]
    if missing:
        return f"model_input.SD is missing: {', '.join(missing)}"
    if not isinstance(sd["prompt"], str) or not sd["prompt"].strip():
        return "prompt must be a non-empty string"
    sd = {**SD_DEFAULTS, **sd}
    if sd["neg_prompt"] is not None and not isinstance(sd["neg_prompt"], str):
        return "neg_prompt must be a string or null"
    steps = sd["num_iterations"]
    if not _is_int(steps) or not 1 <= steps <= MAX_STEPS:
        return f"num_iterations must be an integer from 1 to {MAX_STEPS}"
    for side in ("width", "height"):
        if not _is_int(sd[side]) or sd[side] <= 0:
            return f"{side} must be a positive integer"
        if sd[side] > MAX_SIDE:
            return f"{side} must be at most {MAX_SIDE}"
    if not _is_number(sd["guidance_scale"]):
        return "guidance_scale must be a number"
    if not _is_int(sd["seed"]):
        return "seed must be an integer (-1 for random)"
    return None


def check_payload(payload: Any, model_ids: Iterable[str]) -> str | None:
    """Why a submit_job body is refused (a short reason for the 400), or None if it is fine."""
    if not isinstance(payload, dict):
        return "The body must be a JSON object"
    missing = [name for name in REQUIRED_TOP_LEVEL if name not in payload]
    if missing:
        return f"Missing fields: {', '.join(missing)}"
    if "job_id" in payload and (
        not isinstance(payload["job_id"], str) or not payload["job_id"].strip()
    ):
        return "job_id must be a non-empty string"
    if not isinstance(payload["model_id"], str) or payload["model_id"] not in model_ids:
        return f"Unknown model_id: {str(payload['model_id'])[:100]}"
    if "model_type" in payload and not isinstance(payload["model_type"], str):
        return "model_type must be a string"
    if "deadline" in payload and (not _is_number(payload["deadline"]) or payload["deadline"] <= 0):
        return "deadline must be a positive number of seconds"
    if "priority" in payload and not _is_int(payload["priority"]):
        return "priority must be an integer"
    model_input = payload["model_input"]
    if not isinstance(model_input, dict):
        return "model_input must be an object"
    return _check_sd(model_input.get("SD"))


def with_defaults(payload: dict[str, Any]) -> dict[str, Any]:
    """A checked submit_job body with the documented defaults filled in (and a job_id)."""
    sd = {**SD_DEFAULTS, **payload["model_input"]["SD"]}
    job_id = payload.get("job_id") or f"sandbox-{secrets.token_hex(8)}"
    return {**payload, "job_id": job_id, "model_input": {**payload["model_input"], "SD": sd}}


def _check_fault(kind: str, times: int, options: dict[str, Any]) -> None:
    """Raise ValueError if a fault cannot be applied as given."""
    if kind not in FAULT_KINDS:
        raise ValueError(f"Unknown fault kind {kind!r}; use one of {sorted(FAULT_KINDS)}")
    if not _is_int(times) or times < 1:
        raise ValueError("times must be a positive integer")
    unknown = set(options) - FAULT_OPTIONS[kind]
    if unknown:
        raise ValueError(f"Fault {kind!r} takes no option(s) {sorted(unknown)}")
    if kind == "status" and not (_is_int(options.get("status")) and 200 <= options["status"] < 600):
        raise ValueError("A 'status' fault needs status=<200..599>")
    if kind in ("delay", "trickle") and not (
        _is_number(options.get("seconds")) and options["seconds"] >= 0
    ):
        raise ValueError(f"A {kind!r} fault needs seconds=<non-negative number>")
    if (
        kind == "image"
        and options.get("mode") == "trickle"
        and not (_is_number(options.get("seconds")) and options["seconds"] >= 0)
    ):
        raise ValueError("A 'trickle' image needs seconds=<non-negative number>")
    if kind == "shape" and "body" not in options and options.get("shape", "quoted") not in SHAPES:
        raise ValueError(f"A 'shape' fault needs shape in {SHAPES} or body=<text>")
    if kind == "image_url" and not isinstance(options.get("url"), str):
        raise ValueError("An 'image_url' fault needs url=<string>")
    if kind == "image" and options.get("mode") not in IMAGE_MODES:
        raise ValueError(f"An 'image' fault needs mode in {IMAGE_MODES}")
    if "size" in options and not (_is_int(options["size"]) and options["size"] >= 0):
        raise ValueError("size must be a non-negative number of bytes")
    if "location" in options and not isinstance(options["location"], str):
        raise ValueError("location must be a string")


# The stand-in's translator: a few words of Spanish and Chinese, enough for a description in
# another language to come back in English with the "[from <language>]" mark Enhance asks for.
SPANISH_WORDS = {
    "un": "a", "una": "a", "el": "the", "la": "the", "los": "the", "las": "the", "al": "at the",
    "del": "of the", "de": "of", "y": "and", "en": "in", "con": "with", "sobre": "over",
    "faro": "lighthouse", "atardecer": "dusk", "zorro": "fox", "nieve": "snow", "gato": "cat",
    "perro": "dog", "rojo": "red", "bosque": "forest", "mar": "sea", "noche": "night",
    "luz": "light", "montaña": "mountain", "río": "river", "lluvia": "rain", "ciudad": "city",
}  # fmt: skip
SPANISH_LETTERS = frozenset("áéíóúñ¿¡")
SPANISH_ARTICLES = frozenset({"un", "una", "el", "la", "los", "las", "al", "del"})
CHINESE_WORDS = {
    "一座": "a", "一只": "a", "一个": "a", "灯塔": "lighthouse", "黄昏": "dusk", "狐狸": "fox",
    "雪": "snow", "猫": "cat", "狗": "dog", "红色": "red", "森林": "forest", "海": "sea",
    "夜晚": "night", "光": "light", "山": "mountain", "河": "river", "雨": "rain",
    "城市": "city", "在": "in", "中": "in", "里": "in", "和": "and",
}  # fmt: skip
CHINESE_WORD = re.compile("|".join(sorted(CHINESE_WORDS, key=len, reverse=True)))


def _in_english(description: str) -> tuple[str | None, str]:
    """(the language the stand-in found, or None for English; the description in English).

    Word by word, in the description's order; words it does not know are kept (Spanish) or
    left out (Chinese).
    """
    if re.search(r"[\u4e00-\u9fff]", description):
        words = [CHINESE_WORDS[word] for word in CHINESE_WORD.findall(description)]
        return "Chinese", " ".join(words) or "a scene"
    words = re.findall(r"\w+", description.lower())
    if SPANISH_LETTERS & set(description.lower()) or SPANISH_ARTICLES & set(words):
        return "Spanish", " ".join(SPANISH_WORDS.get(word, word) for word in words)
    return None, description


def _sandbox_prompt(messages: list[Any]) -> str:
    """What a helpful LLM might answer: the description, written as the system prompt asks
    (in English, marked "[from <language>]" when the description was not)."""
    text = {str(m.get("role")): str(m.get("content", "")) for m in messages if isinstance(m, dict)}
    lines = text.get("user", "").splitlines()
    description = next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("Description:")),
        text.get("user", "").strip(),
    )
    language, description = _in_english(description)
    if language and "[from <language>]" in text.get("system", ""):
        return f"[from {language}] {_answer(text, lines, description)}"
    return _answer(text, lines, description)


def _answer(text: dict[str, str], lines: list[str], description: str) -> str:
    """The prompt for description, in the family's form (tags for SD, sentences for FLUX)."""
    keep = next((line.split(":", 1)[1].strip() for line in lines if "Must include" in line), "")
    keep = keep.strip('"')
    if "comma-separated" in text.get("system", ""):
        tags = [keep] if keep else []
        tags += [description, "highly detailed", "(sharp focus:1.2)", "soft light", "masterpiece"]
        return ", ".join(tags)
    lead = f"{keep}. " if keep else ""
    return f"{lead}A detailed view of {description}, soft natural light, shallow depth of field."


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-sandbox-{secrets.token_hex(6)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 50, "completion_tokens": 30, "total_tokens": 80},
    }


def _echo(request: _Request) -> str:
    """What a proxy that echoes its request would send back: the key among it."""
    body = request.body.decode("utf-8", "replace")
    return f"{request.method} {request.path}\nAuthorization: {request.authorization}\n\n{body}"


def _fingerprint_or_none(authorization: str | None) -> str | None:
    key = _bearer_key(authorization)
    return None if key is None else key_fingerprint(key)


def _bearer_key(authorization: str | None) -> str | None:
    """The key from an `Authorization: Bearer <key>` header, or None."""
    scheme, _, key = (authorization or "").strip().partition(" ")
    return (key.strip() or None) if scheme.lower() == "bearer" else None


def _load_catalogue(path: Path) -> tuple[bytes, frozenset[str]]:
    """The /models.json body (bundled entries plus LLMs) and the image model names."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path} must hold a JSON array")
    names = frozenset(
        entry["name"]
        for entry in entries
        if isinstance(entry, dict) and not str(entry.get("type", "")).startswith("llm")
    )
    body = json.dumps([*entries, *LLM_ENTRIES], indent=2).encode("utf-8")
    return body, names


# ---------------------------------------------------------------- the sandbox


class Gate:
    """Holds every POST /submit_job at the sandbox until the test lets it through.

    From `Sandbox.hold()`: tests wait for jobs to be running with `wait_for(n)` and end them
    with `release()`, so none depends on a latency or a sleep. `release(n)` lets n jobs
    through (those held first, oldest first) and keeps holding the rest. With a limit, only
    the first `limit` jobs are held; those after pass at once.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self._condition = threading.Condition()
        self._open = False
        self._permits = 0
        self._held = 0
        self._arrived = 0
        self._next_ticket = 0  # first come, first through
        self._serving = 0

    @property
    def held(self) -> int:
        """Jobs waiting at the gate now."""
        with self._condition:
            return self._held

    @property
    def arrived(self) -> int:
        """Jobs that reached the gate since it was made, held or let through."""
        with self._condition:
            return self._arrived

    def wait_for(self, count: int, timeout: float = HOLD_WAIT) -> Gate:
        """Block until at least count jobs are held; TimeoutError if they never come."""
        with self._condition:
            if not self._condition.wait_for(lambda: self._held >= count, timeout):
                raise TimeoutError(
                    f"{self._held} of the {count} jobs awaited were held by the sandbox after "
                    f"{timeout:g} s: the jobs were never sent"
                )
        return self

    def release(self, count: int | None = None) -> None:
        """Let count more jobs through (oldest first), or every job from now on."""
        with self._condition:
            if count is None:
                self._open = True
            else:
                self._permits += count
            self._condition.notify_all()

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def pass_through(self) -> None:
        """Called for each job: returns once it may be answered."""
        with self._condition:
            self._arrived += 1
            if self.limit is not None and self._next_ticket >= self.limit:
                self._condition.notify_all()
                return
            ticket = self._next_ticket
            self._next_ticket += 1
            self._held += 1
            self._condition.notify_all()
            try:
                while not self._open:
                    if self._permits > 0 and ticket == self._serving:
                        self._permits -= 1
                        return
                    self._condition.wait()
            finally:
                self._held -= 1
                self._serving = max(self._serving, ticket + 1)
                self._condition.notify_all()


class Sandbox:
    """A Heurist-compatible image API on real HTTP, steerable with queued faults.

    Use it as a context manager (`with Sandbox() as sb:`), or call start() and stop().
    valid_keys=None accepts any non-empty key; the key "no-credits" always answers 402.
    fail_rate makes each valid submission fail with a 503 at that probability, drawn from
    random.Random(rng_seed) so a seeded run is reproducible. image_format is one of
    IMAGE_FORMATS (see the module docs).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        valid_keys: Iterable[str] | None = None,
        fail_rate: float = 0.0,
        rng_seed: int | None = None,
        models_path: str | Path = BUNDLED_MODELS,
        image_format: str = "placeholder",
    ) -> None:
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        self.host = host
        self.port = port
        self.latency = latency
        self.image_format = image_format
        self.fail_rate = fail_rate
        self.models_path = Path(models_path)
        self._valid = None if valid_keys is None else frozenset(map(key_fingerprint, valid_keys))
        self._rng = random.Random(rng_seed)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._faults: deque[_Fault] = deque()
        self._submissions: deque[Submission] = deque(maxlen=MAX_SUBMISSIONS)
        self._chats: deque[dict[str, Any]] = deque(maxlen=MAX_SUBMISSIONS)
        self._images: OrderedDict[str, _Stored] = OrderedDict()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._models_body = b""
        self._url: str | None = None  # kept after stop() for answers still in flight
        self._model_ids: frozenset[str] = frozenset()
        self.workflow = WorkflowTasks(self)  # the workflow API (sandbox_workflow.py)
        self._gate: Gate | None = None  # see hold()

    # -- lifecycle

    def start(self) -> Sandbox:
        """Bind the port and serve in a background thread."""
        if self._server is not None:
            return self
        self._models_body, self._model_ids = _load_catalogue(self.models_path)
        self._stopping.clear()
        self._server = _Server((self.host, self.port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="heurist-sandbox",
            daemon=True,
        )
        host, port = self._server.server_address[:2]
        self._url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
        self._thread.start()
        logger.debug("sandbox listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and free the port; requests still sleeping are woken up."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        self._release_gate()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses and state

    @property
    def url(self) -> str:
        """The base URL to use as HEURIST_BASE_URL."""
        if self._url is None:
            raise RuntimeError("The sandbox is not running; call start() or use `with Sandbox()`")
        return self._url

    @property
    def llm_base_url(self) -> str:
        """The base an OpenAI client needs for the sandbox's LLM gateway."""
        return f"{self.url}/v1"

    @property
    def models_url(self) -> str:
        """The URL to use as HEURIST_MODELS_URL."""
        return f"{self.url}/models.json"

    @property
    def latency(self) -> float:
        """Seconds each valid submission waits before it is answered."""
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if not _is_number(seconds) or seconds < 0:
            raise ValueError("latency must be a non-negative number of seconds")
        self._latency = float(seconds)

    @property
    def image_format(self) -> str:
        """What new jobs' images are: "placeholder", "png", "jpeg" or "webp"."""
        return self._image_format

    @image_format.setter
    def image_format(self, image_format: str) -> None:
        if image_format not in IMAGE_FORMATS:
            raise ValueError(f"image_format must be one of {IMAGE_FORMATS}")
        self._image_format = image_format

    @property
    def in_flight(self) -> int:
        """Submissions received and not yet answered (tests wait on it for a job to be running)."""
        with self._lock:
            return self._in_flight

    @property
    def submissions(self) -> list[Submission]:
        """Every POST /submit_job received, oldest first (a copy)."""
        with self._lock:
            return list(self._submissions)

    @property
    def jobs(self) -> list[Submission]:
        """The submissions whose answer carried an image URL."""
        return [sub for sub in self.submissions if sub.image_url is not None]

    def add_fault(self, kind: str, times: int = 1, **options: Any) -> None:
        """Queue a fault for the next `times` submissions (see the module docs for kinds)."""
        options = {name: value for name, value in options.items() if value is not None}
        _check_fault(kind, times, options)
        with self._lock:
            self._faults.append(_Fault(kind, options, times))

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()

    def hold(self, limit: int | None = None) -> Gate:
        """Hold every job from now on (or the next `limit`) until the gate releases it."""
        gate = Gate(limit)
        with self._lock:
            previous, self._gate = self._gate, gate
        if previous is not None:
            previous.release()
        return gate

    def _release_gate(self) -> None:
        with self._lock:
            gate, self._gate = self._gate, None
        if gate is not None:
            gate.release()

    def _pass_gate(self) -> None:
        with self._lock:
            gate = self._gate
        if gate is not None:
            gate.pass_through()

    @property
    def chats(self) -> list[dict[str, Any]]:
        """Every chat completion request received (path, payload, key fingerprint, status)."""
        with self._lock:
            return list(self._chats)

    def reset(self) -> None:
        """Forget faults, submissions and images, and release held jobs (latency, image format
        and keys stay)."""
        with self._lock:
            self._faults.clear()
            self._submissions.clear()
            self._chats.clear()
            self._images.clear()
        self.workflow.reset()
        self._release_gate()

    # -- internals used by the handler

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            while self._faults and self._faults[0].remaining <= 0:
                self._faults.popleft()
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.remaining -= 1
            if fault.remaining == 0:
                self._faults.popleft()
            return _Fault(fault.kind, dict(fault.options), 1)

    def _flaky(self) -> bool:
        if self.fail_rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < self.fail_rate

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _record(self, request: _Request, payload: Any, reply: _Reply, url: str | None) -> None:
        key = _bearer_key(request.authorization)
        job_id = payload.get("job_id") if isinstance(payload, dict) else None
        submission = Submission(
            job_id=job_id if isinstance(job_id, str) else None,
            payload=payload if isinstance(payload, dict) else None,
            key_fingerprint=None if key is None else key_fingerprint(key),
            received_at=request.received_at,
            answered_at=time.monotonic(),
            status=0 if reply.drop else reply.status,
            image_url=url,
        )
        with self._lock:
            self._submissions.append(submission)

    def _store(self, job_id: str, stored: _Stored) -> None:
        with self._lock:
            self._images.pop(job_id, None)
            self._images[job_id] = stored
            while len(self._images) > MAX_STORED_IMAGES:
                self._images.popitem(last=False)

    def _image_url(self, job_id: str, extension: str) -> str:
        return f"{self.url}/images/{quote(job_id, safe='')}.{extension}"

    def _route(self, request: _Request) -> _Reply:
        """Answer one request (the handler writes the reply)."""
        path = urlsplit(request.path).path
        routes = {
            ("POST", "/submit_job"): self._submit_job,
            **{("POST", chat_path): self._chat_completion for chat_path in CHAT_PATHS},
            ("GET", "/models.json"): lambda _: _Reply(200, self._models_body, JSON),
            ("POST", "/_sandbox/faults"): self._control_add_fault,
            ("DELETE", "/_sandbox/faults"): self._control_clear_faults,
            ("GET", "/_sandbox/submissions"): self._control_submissions,
            ("POST", "/_sandbox/reset"): self._control_reset,
            ("POST", "/_sandbox/latency"): self._control_latency,
            ("POST", "/_sandbox/image_format"): self._control_image_format,
        }
        workflow = self.workflow.route(request.method, path, request.body)
        if workflow is not None:
            return _Reply(*workflow)
        handler = routes.get((request.method, path))
        if handler is not None:
            return handler(request)
        if request.method == "GET" and path.startswith("/images/"):
            name, _, extension = path[len("/images/") :].rpartition(".")
            if extension in CONTENT_TYPES:
                return self._image(unquote(name), extension)
        if any(route_path == path for _, route_path in routes):
            return _text(405)
        return _text(404)

    # -- POST /submit_job

    def _submit_job(self, request: _Request) -> _Reply:
        try:
            payload = json.loads(request.body)
        except (ValueError, RecursionError):
            payload = None
        with self._lock:
            self._in_flight += 1
        try:
            self._pass_gate()
            fault = self._next_fault()
            if fault is not None and fault.kind == "delay":
                self._sleep(fault.options["seconds"])
            reply, url = self._answer_submission(request, payload, fault)
            if fault is not None and fault.kind == "trickle" and reply.status == 200:
                reply = replace(reply, trickle=float(fault.options["seconds"]))
            self._record(request, payload, reply, url)
        finally:
            with self._lock:
                self._in_flight -= 1
        return reply

    def _answer_submission(
        self, request: _Request, payload: Any, fault: _Fault | None
    ) -> tuple[_Reply, str | None]:
        """The reply to a submission and the image URL it carries, if any."""
        if fault is not None and fault.kind == "drop":
            return _Reply(200, drop=True), None
        if fault is not None and fault.kind == "status":
            return self._status_fault(fault.options), None
        if fault is not None and fault.kind == "echo":
            return _text(400, _echo(request)), None
        key = _bearer_key(request.authorization)
        if key is None:
            return _text(401, "Unauthorized"), None
        if key == NO_CREDITS_KEY:
            return _text(402, "Insufficient credits"), None
        if self._valid is not None and key_fingerprint(key) not in self._valid:
            return _text(401, "Unauthorized"), None
        if payload is None and request.body.strip():
            return _text(400, "Invalid JSON body"), None
        reason = check_payload(payload, self._model_ids)
        if reason is not None:
            return _text(400, reason), None
        if self._flaky():
            return _text(503, "Service temporarily unavailable, try again"), None
        self._sleep(self.latency)
        return self._success(with_defaults(payload), fault)

    def _status_fault(self, options: dict[str, Any]) -> _Reply:
        headers = ()
        if "retry_after" in options:
            headers = (("Retry-After", str(options["retry_after"])),)
        return _text(options["status"], options.get("body"), headers=headers)

    def _success(self, payload: dict[str, Any], fault: _Fault | None) -> tuple[_Reply, str | None]:
        job_id: str = payload["job_id"]
        kind = None if fault is None else fault.kind
        options = {} if fault is None else fault.options
        if kind == "image_url":
            return _json(200, options["url"]), options["url"]
        if kind == "shape" and "body" in options:
            content_type = options.get("content_type", JSON)
            return _Reply(200, str(options["body"]).encode("utf-8"), content_type), None
        image_format = self.image_format
        extension = EXTENSIONS[image_format]
        if kind == "image":
            sd = payload["model_input"]["SD"]
            trickled = options["mode"] == "trickle"
            data = self._render(sd, payload, image_format) if trickled else None
            self._store(job_id, _Stored(data, extension, options))
        else:
            data = self._render(payload["model_input"]["SD"], payload, image_format)
            self._store(job_id, _Stored(data, extension))
        url = self._image_url(job_id, extension)
        return self._shaped(url, options.get("shape", "quoted"), options.get("content_type")), url

    @staticmethod
    def _shaped(url: str, shape: str, content_type: str | None) -> _Reply:
        if shape == "bare":
            return _Reply(200, url.encode("utf-8"), content_type or TEXT)
        data: Any = {"image_url": url} if shape == "object" else url
        return _Reply(200, json.dumps(data).encode("utf-8"), content_type or JSON)

    @staticmethod
    def _render(sd: dict[str, Any], payload: dict[str, Any], image_format: str) -> bytes:
        seed = sd["seed"] if sd["seed"] >= 0 else secrets.randbelow(2**32)  # as a miner would
        return render_image(
            sd["width"],
            sd["height"],
            image_format,
            prompt=sd["prompt"],
            model_id=payload["model_id"],
            seed=seed,
        )

    # -- POST /v1/chat/completions (and /chat/completions): the LLM gateway

    def _chat_completion(self, request: _Request) -> _Reply:
        """An OpenAI-style answer, made from the request: deterministic, offline."""
        try:
            payload = json.loads(request.body)
        except (ValueError, RecursionError):
            payload = None
        fault = self._next_fault()
        if fault is not None and fault.kind == "delay":
            self._sleep(fault.options["seconds"])
        reply = self._answer_chat(request, payload, fault)
        if fault is not None and fault.kind == "trickle" and reply.status == 200:
            reply = replace(reply, trickle=float(fault.options["seconds"]))
        with self._lock:
            self._chats.append(
                {
                    "path": urlsplit(request.path).path,
                    "payload": payload if isinstance(payload, dict) else None,
                    "key_fingerprint": _fingerprint_or_none(request.authorization),
                    "status": 0 if reply.drop else reply.status,
                }
            )
        return reply

    def _answer_chat(self, request: _Request, payload: Any, fault: _Fault | None) -> _Reply:
        if fault is not None and fault.kind == "drop":
            return _Reply(200, drop=True)
        if fault is not None and fault.kind == "status":
            return self._status_fault(fault.options)
        key = _bearer_key(request.authorization)
        if key is None or (self._valid is not None and key_fingerprint(key) not in self._valid):
            return _json(401, {"error": {"message": "Invalid API key", "type": "auth_error"}})
        if key == NO_CREDITS_KEY:
            return _json(402, {"error": {"message": "Insufficient credits"}})
        if fault is not None and fault.kind == "shape":
            return _Reply(200, str(fault.options.get("body", "")).encode("utf-8"), JSON)
        if fault is not None and fault.kind == "echo":
            model = payload.get("model") if isinstance(payload, dict) else None
            return _json(200, _completion(str(model), _echo(request)))
        messages = payload.get("messages") if isinstance(payload, dict) else None
        if not isinstance(messages, list) or not messages:
            return _json(400, {"error": {"message": "messages is required"}})
        if payload.get("model") not in LLM_NAMES:
            return _json(404, {"error": {"message": f"model {payload.get('model')!r} not found"}})
        self._sleep(self.latency)
        return _json(200, _completion(payload["model"], _sandbox_prompt(messages)))

    # -- GET /images/<job_id>.<ext>

    def _image(self, job_id: str, extension: str) -> _Reply:
        with self._lock:
            stored = self._images.get(job_id)
        if stored is None or stored.extension != extension:
            return _text(404, "Image not found")
        if stored.fault is None:
            return _Reply(200, stored.data or b"", CONTENT_TYPES[extension])
        return self._image_fault(stored)

    @staticmethod
    def _image_fault(stored: _Stored) -> _Reply:
        options = stored.fault or {}
        mode = options["mode"]
        if mode == "trickle":
            content_type = CONTENT_TYPES[stored.extension]
            return _Reply(200, stored.data or b"", content_type, trickle=float(options["seconds"]))
        if mode == "missing":
            return _text(404, "Image not found")
        if mode == "html":
            page = b"<!doctype html><html><body><h1>Access denied</h1></body></html>"
            return _Reply(200, page, "text/html; charset=utf-8")
        if mode == "huge":
            return _Reply(
                200,
                content_type="image/png",
                stream_bytes=int(options.get("size", DEFAULT_HUGE_BYTES)),
            )
        if mode == "redirect":
            location = str(options.get("location", DEFAULT_REDIRECT))
            return _Reply(302, content_type=TEXT, headers=(("Location", location),))
        return _Reply(
            200, os.urandom(int(options.get("size", DEFAULT_NOT_IMAGE_BYTES))), "image/png"
        )

    # -- /_sandbox/ control endpoints

    def _control_add_fault(self, request: _Request) -> _Reply:
        try:
            spec = json.loads(request.body)
            if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str):
                raise ValueError('The body must be a JSON object with "kind"')
            kind, times = spec.pop("kind"), spec.pop("times", 1)
            self.add_fault(kind, times, **spec)
        except (ValueError, TypeError) as exc:
            return _text(400, str(exc))
        return _json(200, {"queued": kind, "times": times})

    def _control_clear_faults(self, _: _Request) -> _Reply:
        self.clear_faults()
        return _json(200, {"cleared": True})

    def _control_submissions(self, _: _Request) -> _Reply:
        return _json(200, [sub.to_dict() for sub in self.submissions])

    def _control_reset(self, _: _Request) -> _Reply:
        self.reset()
        return _json(200, {"reset": True})

    def _control_latency(self, request: _Request) -> _Reply:
        try:
            self.latency = json.loads(request.body)["seconds"]
        except (ValueError, TypeError, KeyError):
            return _text(400, 'Send {"seconds": <non-negative number>}')
        return _json(200, {"latency": self.latency})

    def _control_image_format(self, request: _Request) -> _Reply:
        try:
            self.image_format = json.loads(request.body)["format"]
        except (ValueError, TypeError, KeyError):
            return _text(400, f'Send {{"format": <one of {", ".join(IMAGE_FORMATS)}>}}')
        return _json(200, {"format": self.image_format})


# ---------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a crowd of a thousand connects at once, as to a real API
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client disconnects are normal here; anything else is a sandbox bug worth a trace."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            logger.debug("client %s went away", client_address)
        else:
            logger.exception("sandbox failed on a request from %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server_version = "HeuristSandbox/1.0"
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _serve(self, method: str) -> None:
        received_at = time.monotonic()
        try:
            body = self._read_body()
            if body is None:
                self._write(_text(413, "The body is too large"))
                return
            request = _Request(
                method, self.path, body, self.headers.get("Authorization"), received_at
            )
            try:
                reply = self.server.sandbox._route(request)
            except Exception:
                logger.exception("sandbox failed on %s %s", method, self.path)
                reply = _text(500, "Sandbox error")
            self._write(reply)
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _read_body(self) -> bytes | None:
        """The request body, or None if it is larger than MAX_BODY_BYTES."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _write(self, reply: _Reply) -> None:
        if reply.drop:
            self._write_dropped()
            return
        length = reply.stream_bytes if reply.stream_bytes is not None else len(reply.body)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(length))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if reply.stream_bytes is not None:
            self._stream(reply.stream_bytes)
        elif reply.trickle is not None:
            self._trickle(reply.body, reply.trickle)
        else:
            self.wfile.write(reply.body)

    def _write_dropped(self) -> None:
        """Announce a body, send a few bytes of it, and hang up."""
        head = (
            f"{self.protocol_version} 200 OK\r\nContent-Type: {JSON}\r\n"
            f"Content-Length: {DROP_ANNOUNCED_BYTES}\r\n\r\n"
        )
        self.wfile.write(head.encode("ascii") + b'"http://')
        self.wfile.flush()
        self.close_connection = True

    def _trickle(self, body: bytes, interval: float) -> None:
        """Send body one byte at a time, `interval` seconds apart (until the sandbox stops)."""
        stopping = self.server.sandbox._stopping
        for index in range(len(body)):
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()
            if stopping.wait(interval):
                self.close_connection = True
                return

    def _stream(self, total: int) -> None:
        """Send `total` bytes that start like a PNG, chunk by chunk, never holding them all."""
        zeros = bytes(STREAM_CHUNK_BYTES)
        chunk = (PNG_SIGNATURE + zeros)[:STREAM_CHUNK_BYTES]
        sent = 0
        while sent < total:
            piece = chunk[: total - sent]
            self.wfile.write(piece)
            sent += len(piece)
            chunk = zeros


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """Run the sandbox until interrupted."""
    parser = argparse.ArgumentParser(description="A local Heurist-compatible image API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per image")
    parser.add_argument("--keys", default="", help="comma-separated accepted keys (default: any)")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of transient 503s")
    parser.add_argument("--seed", type=int, default=None, help="seed for --fail-rate")
    parser.add_argument(
        "--image-format",
        choices=IMAGE_FORMATS,
        default="placeholder",
        help="images answered: small placeholder art, or photo-like PNG, JPEG or WebP",
    )
    parser.add_argument(
        "--task-seconds",
        type=float,
        nargs=2,
        default=(0.0, 0.0),
        metavar=("WAITING", "RUNNING"),
        help="seconds a workflow task waits in the queue, then runs",
    )
    args = parser.parse_args(argv)
    keys = [key.strip() for key in args.keys.split(",") if key.strip()] or None
    sandbox = Sandbox(
        host=args.host,
        port=args.port,
        latency=args.latency,
        valid_keys=keys,
        fail_rate=args.fail_rate,
        rng_seed=args.seed,
        image_format=args.image_format,
    )
    sandbox.workflow.times = tuple(args.task_seconds)
    with sandbox:
        print(
            f"Heurist sandbox listening on {sandbox.url}; set HEURIST_BASE_URL={sandbox.url} "
            f"and HEURIST_MODELS_URL={sandbox.models_url}",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
