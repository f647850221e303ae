"""Calls to the app's `/generate` over Gradio's REST API: POST, then read the SSE stream."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from bench.procs import BenchError, local_session

MODEL = "SDXL"  # takes up to 1024×1024
PROMPT = "a lighthouse at dusk, volumetric light"
STEPS = 20
GUIDANCE = 7.0
CALL_TIMEOUT = 120.0  # seconds for one whole call, stream included
LOAD_TIMEOUT = 600.0  # seconds for all the calls of generate_many
MAX_SSE_LINES = 10_000
FINAL_EVENTS = frozenset({"complete", "error"})


@dataclass(frozen=True)
class Call:
    """One finished /generate call, timed by the caller from POST to `event: complete`."""

    seconds: float
    records: list[dict[str, Any]]
    started: float  # time.monotonic() values, to time calls made side by side
    ended: float

    @property
    def job_ids(self) -> list[str]:
        return [str(record.get("job_id")) for record in self.records]


def generate_data(size: int, count: int) -> list[Any]:
    """The inputs of /generate in order: prompt … seed, number of images, API key ("": server's)."""
    return [PROMPT, "", MODEL, size, size, STEPS, GUIDANCE, -1, count, ""]


def generate(
    app_url: str, *, size: int, count: int, session: requests.Session | None = None
) -> Call:
    """One /generate call; raises BenchError unless it ends with `count` images."""
    own = session is None
    session = session or local_session()
    try:
        started = time.monotonic()
        event_id = _submit(session, app_url, generate_data(size, count))
        event, data = _final_event(session, f"{app_url}/gradio_api/call/generate/{event_id}")
        ended = time.monotonic()
    finally:
        if own:
            session.close()
    if event != "complete":
        raise BenchError(f"/generate ended with {event}: {str(data)[:300]}")
    records = data[1] if isinstance(data, list) and len(data) > 1 else []
    if len(records) != count:
        raise BenchError(f"/generate returned {len(records)} images, not {count}")
    return Call(ended - started, records, started, ended)


def generate_together(app_url: str, *, clients: int, size: int, count: int = 1) -> list[Call]:
    """`clients` calls released at once from as many threads, each with its own connection."""
    barrier = threading.Barrier(clients, timeout=30)

    def one_client() -> Call:
        with local_session() as session:
            barrier.wait()
            return generate(app_url, size=size, count=count, session=session)

    with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="bench-client") as pool:
        futures = [pool.submit(one_client) for _ in range(clients)]
        return [future.result(timeout=CALL_TIMEOUT + 30) for future in futures]


def generate_many(app_url: str, *, calls: int, threads: int, size: int, count: int) -> list[Call]:
    """`calls` calls of `count` images each, from `threads` threads."""

    def one_call(_: int) -> Call:
        return generate(app_url, size=size, count=count)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench-load") as pool:
        return list(pool.map(one_call, range(calls), timeout=LOAD_TIMEOUT))


GRID_MODELS = ("SDXL", "AnimagineXL", "CyberRealisticXL", "SDXLUnstableDiffusersV11")


def compare(app_url: str, *, size: int, models: int = 4, values: int = 4) -> Call:
    """One /compare call of models × seeds; raises BenchError unless every cell arrives."""
    seeds = ", ".join(str(seed) for seed in range(1, values + 1))
    data = [
        PROMPT,
        "",
        list(GRID_MODELS[:models]),
        "seed",
        seeds,
        size,
        size,
        STEPS,
        GUIDANCE,
        -1,
        "",
    ]
    with local_session() as session:
        started = time.monotonic()
        event_id = _submit(session, app_url, data, endpoint="compare")
        event, result = _final_event(session, f"{app_url}/gradio_api/call/compare/{event_id}")
        ended = time.monotonic()
    records = result[2] if isinstance(result, list) and len(result) > 2 else []
    if event != "complete" or len(records) != models * values:
        raise BenchError(f"/compare ended with {event}: {str(result)[:300]}")
    return Call(ended - started, records, started, ended)


def _submit(
    session: requests.Session, app_url: str, data: list[Any], endpoint: str = "generate"
) -> str:
    response = session.post(
        f"{app_url}/gradio_api/call/{endpoint}", json={"data": data}, timeout=(5, 30)
    )
    if response.status_code != 200:
        raise BenchError(f"POST /{endpoint} answered {response.status_code}: {response.text[:300]}")
    return str(response.json()["event_id"])


def _final_event(session: requests.Session, url: str) -> tuple[str, Any]:
    """The first `complete` or `error` event of the stream, with its decoded data."""
    deadline = time.monotonic() + CALL_TIMEOUT
    event = ""
    with session.get(url, stream=True, timeout=(5, CALL_TIMEOUT)) as response:
        lines = response.iter_lines(decode_unicode=True)
        for _, line in zip(range(MAX_SSE_LINES), lines, strict=False):
            if time.monotonic() > deadline:
                break
            if line.startswith("event:"):
                event = line[len("event:") :].strip()
            elif line.startswith("data:") and event in FINAL_EVENTS:
                return event, _decode(line[len("data:") :].strip())
    raise BenchError(f"no final event from {url} within {CALL_TIMEOUT:g} s")


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
