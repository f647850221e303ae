"""The sandbox's workflow API: task_create, task_result_query, task_cancel, and real outputs.

Heurist's second host (sequencer-v2) runs video and FLUX-LoRA tasks; this stands in for it on
the sandbox's own port. The key travels in the body (consumer_id and api_key, the halves of
user_id#api_key). A task moves waiting (with a queue position) → running → finished over
`times` = (waiting seconds, running seconds); (0, 0), the default, finishes it at once.
`hold = True` keeps new tasks where they are until `advance()` moves them one step, so tests
step a task without sleeping. Outputs are real files: an H.264 MP4 for workflow "1" (Hunyuan),
an animated WebP for "2" (Mochi), a JPEG for "3" (FLUX with a LoRA), small so they are cheap.

Task faults queue like image faults; each task_create takes the next one:

    failed     the task ends `failed` with `msg`
    stuck      the task stays `running` for ever (until canceled)
    slow       the task runs `seconds` more than the configured time
    status     task_create answers HTTP `status` with `body` (nothing is created)
    broken     the task IS created, but task_create's answer is `body` (default "not json")
    result     the task finishes with `result` (e.g. "file:///etc/passwd") as its URL
"""

from __future__ import annotations

import io
import json
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from .sandbox import Sandbox

WORKFLOW_PATHS = ("/task_create", "/task_result_query", "/task_cancel")
OUTPUT_PREFIX = "/workflow_outputs/"
OUTPUT_TYPES = {"mp4": "video/mp4", "webp": "image/webp", "jpg": "image/jpeg"}
WORKFLOWS = {"1": ("txt2vid", "mp4"), "2": ("txt2vid", "webp"), "3": ("txt2img", "jpg")}
TASK_FAULTS = {
    "failed": frozenset({"msg"}),
    "stuck": frozenset(),
    "slow": frozenset({"seconds"}),
    "status": frozenset({"status", "body"}),
    "broken": frozenset({"body"}),
    "result": frozenset({"result"}),
}
FINAL = frozenset({"finished", "failed", "canceled"})
MAX_TASKS = 1024
VIDEO_FRAMES = 8  # a third of a second at 24 fps: real H.264, cheap to make
VIDEO_SIZE = (212, 120)  # Hunyuan's 848×480, a quarter on each side
MAX_WEBP_FRAMES = 8
MAX_WEBP_SIDE = 256


@dataclass
class Task:
    """One task as the sandbox holds it (no key: only the key's fingerprint)."""

    task_id: str
    workflow_id: str
    task_type: str
    parameters: dict[str, Any]
    key_fingerprint: str
    created: float
    fault: dict[str, Any] | None = None
    state: str = "waiting"  # where a held task is; otherwise it follows the clock
    held: bool = False
    canceled: bool = False
    queries: int = 0
    output: bytes | None = field(default=None, repr=False)


class WorkflowTasks:
    """The workflow endpoints' state, served through the sandbox's HTTP server."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.times: tuple[float, float] = (0.0, 0.0)
        self.hold = False
        self._lock = threading.Lock()
        self._tasks: OrderedDict[str, Task] = OrderedDict()
        self._faults: deque[tuple[str, dict[str, Any]]] = deque()
        self.calls: list[dict[str, Any]] = []  # every call: endpoint, task_id, key fingerprint

    # -- steering, for tests

    def add_fault(self, kind: str, times: int = 1, **options: Any) -> None:
        """Queue a fault for the next `times` task_create calls (see the module docs)."""
        if kind not in TASK_FAULTS:
            raise ValueError(f"Unknown task fault {kind!r}; use one of {sorted(TASK_FAULTS)}")
        unknown = set(options) - TASK_FAULTS[kind]
        if unknown:
            raise ValueError(f"Task fault {kind!r} takes no option(s) {sorted(unknown)}")
        with self._lock:
            self._faults.extend([(kind, dict(options))] * times)

    def advance(self, task_id: str | None = None) -> None:
        """Move held tasks (or one) a step: waiting → running → finished."""
        with self._lock:
            for task in self._tasks.values():
                if task_id in (None, task.task_id) and task.held and not task.canceled:
                    task.state = {"waiting": "running", "running": "finished"}.get(
                        task.state, task.state
                    )

    @property
    def tasks(self) -> list[Task]:
        """Every task created, oldest first."""
        with self._lock:
            return list(self._tasks.values())

    def endpoint_calls(self, endpoint: str) -> list[dict[str, Any]]:
        """The calls received at one endpoint ("task_create", ...)."""
        with self._lock:
            return [call for call in self.calls if call["endpoint"] == endpoint]

    def reset(self) -> None:
        """Forget tasks, faults and calls; tasks finish at once again, unheld."""
        self.times, self.hold = (0.0, 0.0), False
        with self._lock:
            self._tasks.clear()
            self._faults.clear()
            self.calls.clear()

    # -- HTTP

    def route(self, method: str, path: str, body: bytes) -> tuple[int, bytes, str] | None:
        """The answer (status, body, content type) to a workflow request, or None if not ours."""
        if path in WORKFLOW_PATHS:
            if method != "POST":
                return _answer(405, {"msg": "Use POST"})
            try:
                payload = json.loads(body)
            except (ValueError, RecursionError):
                payload = None
            if not isinstance(payload, dict):
                return _answer(400, {"msg": "The body must be a JSON object"})
            return getattr(self, "_" + path[1:])(payload)
        if method == "GET" and path.startswith(OUTPUT_PREFIX):
            name, _, extension = unquote(path[len(OUTPUT_PREFIX) :]).rpartition(".")
            with self._lock:
                task = self._tasks.get(name)
            if task is None or task.output is None or WORKFLOWS[task.workflow_id][1] != extension:
                return 404, b"Not found", "text/plain; charset=utf-8"
            return 200, task.output, OUTPUT_TYPES[extension]
        return None

    def _key_problem(self, key: str) -> tuple[int, bytes, str] | None:
        from .sandbox import NO_CREDITS_KEY, key_fingerprint

        if not key or key == "#":
            return _answer(401, {"msg": "Missing api_key"})
        if key.split("#")[-1] == NO_CREDITS_KEY:
            return _answer(402, {"msg": "Insufficient credits"})
        valid = self.sandbox._valid
        if valid is not None and key_fingerprint(key) not in valid:
            return _answer(401, {"msg": "Invalid api_key"})
        return None

    def _record(self, endpoint: str, payload: dict[str, Any], task_id: Any = None) -> None:
        from .sandbox import key_fingerprint

        key = f"{payload.get('consumer_id', '')}#{payload.get('api_key', '')}"
        with self._lock:
            self.calls.append(
                {
                    "endpoint": endpoint,
                    "task_id": task_id if task_id is not None else payload.get("task_id"),
                    "key_fingerprint": key_fingerprint(key),
                    "fields": sorted(payload),
                    "workflow_id": payload.get("workflow_id"),
                    "parameters": (payload.get("task_details") or {}).get("parameters")
                    if isinstance(payload.get("task_details"), dict)
                    else None,
                }
            )

    def _task_create(self, payload: dict[str, Any]) -> tuple[int, bytes, str]:
        from .sandbox import key_fingerprint

        self._record("task_create", payload)
        key = f"{payload.get('consumer_id') or ''}#{payload.get('api_key') or ''}"
        problem = self._key_problem(key if payload.get("api_key") else "")
        if problem is not None:
            return problem
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault[0] == "status":
            return _answer(int(fault[1].get("status", 500)), {"msg": fault[1].get("body", "")})
        workflow_id = str(payload.get("workflow_id", ""))
        details = payload.get("task_details")
        parameters = details.get("parameters") if isinstance(details, dict) else None
        if workflow_id not in WORKFLOWS:
            return _answer(400, {"msg": f"Unknown workflow_id {workflow_id[:20]!r}"})
        if payload.get("task_type") != WORKFLOWS[workflow_id][0]:
            return _answer(400, {"msg": f"workflow {workflow_id} takes task_type txt2vid/txt2img"})
        if not isinstance(parameters, dict) or not str(parameters.get("prompt", "")).strip():
            return _answer(400, {"msg": "task_details.parameters.prompt is required"})
        task = Task(
            task_id=secrets.token_hex(12),
            workflow_id=workflow_id,
            task_type=payload["task_type"],
            parameters=parameters,
            key_fingerprint=key_fingerprint(payload.get("api_key") or ""),
            created=time.monotonic(),
            fault=None if fault is None else {"kind": fault[0], **fault[1]},
            held=self.hold,
        )
        with self._lock:
            self._tasks[task.task_id] = task
            while len(self._tasks) > MAX_TASKS:
                self._tasks.popitem(last=False)
            self.calls[-1]["task_id"] = task.task_id
        if fault is not None and fault[0] == "broken":
            return 200, str(fault[1].get("body", "not json")).encode("utf-8"), "application/json"
        return _answer(200, {"task_id": task.task_id})

    def _task_for(self, payload: dict[str, Any]) -> Task | tuple[int, bytes, str]:
        from .sandbox import key_fingerprint

        with self._lock:
            task = self._tasks.get(str(payload.get("task_id")))
        if task is None:
            return _answer(404, {"msg": "Task not found"})
        if key_fingerprint(str(payload.get("api_key") or "")) != task.key_fingerprint:
            return _answer(401, {"msg": "Invalid api_key"})
        return task

    def _task_result_query(self, payload: dict[str, Any]) -> tuple[int, bytes, str]:
        self._record("task_result_query", payload)
        task = self._task_for(payload)
        if not isinstance(task, Task):
            return task
        task.queries += 1
        status, position = self._status(task)
        answer: dict[str, Any] = {
            "task_id": task.task_id,
            "status": status,
            "task_type": task.task_type,
            "workflow_id": task.workflow_id,
            "queue_position": position,
            "msg": "",
        }
        fault = task.fault or {}
        if status == "failed":
            answer["msg"] = fault.get("msg", "The miner failed to run the workflow")
        if status == "finished":
            answer["result"] = fault.get("result") or self._output_url(task)
            answer["inference_latency"] = sum(self.times)
        return _answer(200, answer)

    def _task_cancel(self, payload: dict[str, Any]) -> tuple[int, bytes, str]:
        self._record("task_cancel", payload)
        task = self._task_for(payload)
        if not isinstance(task, Task):
            return task
        if self._status(task)[0] in FINAL:
            return _answer(200, {"task_id": task.task_id, "msg": "Task already ended"})
        task.canceled = True
        return _answer(200, {"task_id": task.task_id, "msg": "Task canceled"})

    def _status(self, task: Task) -> tuple[str, int]:
        """The task's status now, and its queue position (0 once it runs)."""
        if task.canceled:
            return "canceled", 0
        kind = (task.fault or {}).get("kind")
        if task.held:
            state = task.state
        else:
            waiting, running = self.times
            running += float((task.fault or {}).get("seconds", 0)) if kind == "slow" else 0
            age = time.monotonic() - task.created
            state = (
                "waiting" if age < waiting else "running" if age < waiting + running else "finished"
            )
        if state == "finished" and kind == "stuck":
            state = "running"
        if state == "finished" and kind == "failed":
            state = "failed"
        if state != "waiting":
            return state, 0
        with self._lock:
            ahead = [t for t in self._tasks.values() if t.created < task.created and not t.canceled]
        return "waiting", 1 + sum(1 for t in ahead if t.held and t.state == "waiting")

    def _output_url(self, task: Task) -> str:
        extension = WORKFLOWS[task.workflow_id][1]
        if task.output is None:
            task.output = render_output(task.workflow_id, task.parameters)
        return f"{self.sandbox.url}{OUTPUT_PREFIX}{quote(task.task_id, safe='')}.{extension}"


def _answer(status: int, data: Any) -> tuple[int, bytes, str]:
    return status, json.dumps(data).encode("utf-8"), "application/json"


# ---------------------------------------------------------------- outputs


def _int(value: Any, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(low, min(high, number))


def render_output(workflow_id: str, parameters: dict[str, Any]) -> bytes:
    """The output file of a finished task: MP4 ("1"), animated WebP ("2") or JPEG ("3")."""
    seed = json.dumps(parameters, sort_keys=True, default=str)
    if workflow_id == "1":
        return render_mp4(*VIDEO_SIZE, VIDEO_FRAMES, fps=24, seed=seed)
    if workflow_id == "2":
        width = _int(parameters.get("width"), 848, 256, 1024) // 4
        height = _int(parameters.get("height"), 480, 256, 1024) // 4
        frames = min(MAX_WEBP_FRAMES, _int(parameters.get("length"), 16, 16, 128))
        return render_webp(width, height, frames, fps=_int(parameters.get("fps"), 10, 1, 60))
    from .sandbox import render_image

    width, height = _flux_size(parameters)
    prompt = str(parameters.get("prompt", ""))
    return render_image(width, height, "jpeg", prompt=prompt, model_id="flux-lora", seed=0)


ASPECT_SIZES = {"1:1": (1024, 1024), "16:9": (1344, 768), "9:16": (768, 1344), "4:3": (1152, 896)}


def _flux_size(parameters: dict[str, Any]) -> tuple[int, int]:
    if "width" in parameters or "height" in parameters:
        width = _int(parameters.get("width"), 1024, 512, 2048) // 64 * 64
        height = _int(parameters.get("height"), 1024, 512, 2048) // 64 * 64
        return width, height
    return ASPECT_SIZES.get(str(parameters.get("aspect_ratio")), (1024, 1024))


def _frames(width: int, height: int, count: int) -> list[Any]:
    """Frames of a bright band sweeping over a gradient, as RGB arrays."""
    import numpy

    x = numpy.linspace(0, 255, width, dtype=numpy.float32)
    y = numpy.linspace(0, 255, height, dtype=numpy.float32)[:, None]
    base = numpy.stack([x + 0 * y, y + 0 * x, numpy.full((height, width), 96.0)], axis=-1)
    frames = []
    for index in range(count):
        frame = base.copy()
        left = index * width // max(count, 1)
        frame[:, left : left + max(2, width // 8)] = 240
        frames.append(frame.astype(numpy.uint8))
    return frames


def render_mp4(width: int, height: int, count: int, *, fps: int, seed: str = "") -> bytes:
    """An H.264 MP4 of count frames (even sides, yuv420p: every player takes it)."""
    import av

    del seed  # the picture need not vary; the file is what matters
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width // 2 * 2, height // 2 * 2
        stream.pix_fmt = "yuv420p"
        for array in _frames(stream.width, stream.height, count):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return out.getvalue()


def render_webp(width: int, height: int, count: int, *, fps: int) -> bytes:
    """An animated WebP of count frames."""
    from PIL import Image

    width, height = min(width, MAX_WEBP_SIDE), min(height, MAX_WEBP_SIDE)
    images = [Image.fromarray(array) for array in _frames(width, height, count)]
    out = io.BytesIO()
    images[0].save(
        out,
        format="WEBP",
        save_all=True,
        append_images=images[1:],
        duration=max(1, 1000 // fps),
        loop=0,
        quality=60,
        method=0,
    )
    return out.getvalue()
