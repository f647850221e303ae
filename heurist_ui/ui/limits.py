"""Request size limits, checked before Gradio reads anything: one middleware for every route.

A public Space gets 2 MB prompts and query strings built to be slow to parse. The largest
legitimate request is far smaller (prompts of MAX_PROMPT_CHARS, a grid of prompts, a link
with both prompts), so anything above these limits is answered at once with 413 or 414 and a
message, before Gradio parses its JSON on the event loop.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ..fields import MAX_PROMPT_CHARS

log = logging.getLogger("heurist_ui.ui")

# Past 64 KB Gradio's own URL handling fails (HTTP 500), and no browser shares such a link:
# a link holds a prompt of 8000 ASCII characters, or about 3500 CJK ones, percent-encoded.
MAX_QUERY_BYTES = 32 * 1024
# A call carries at most a grid of six prompts and two more: each character up to 6 bytes as
# JSON (\uXXXX), with room for the other values. Uploads have their own limit (launch.py).
MAX_BODY_BYTES = 1024 * 1024
UPLOAD_PATH = "/upload"

Scope = dict[str, Any]


class RequestLimits:
    """ASGI middleware: refuse an over-long query string (414) or body (413) with a message."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url_bytes = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        if url_bytes > MAX_QUERY_BYTES:
            await _refuse(
                send,
                414,
                f"This link is too long ({url_bytes} bytes; at most {MAX_QUERY_BYTES}). Open the "
                "studio without it, or make a link with a shorter prompt.",
            )
            return
        if UPLOAD_PATH in scope.get("path", ""):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > MAX_BODY_BYTES:
            await _refuse(send, 413, _too_large(declared))
            return
        await self.app(scope, _counted(receive), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _counted(receive: Any) -> Any:
    """receive, stopping a body sent without a length once it passes MAX_BODY_BYTES."""
    seen = 0

    async def counted() -> dict[str, Any]:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                return {"type": "http.disconnect"}
        return message

    return counted


def _too_large(size: int) -> str:
    return (
        f"This request is too large ({size // 1024} KB; at most {MAX_BODY_BYTES // 1024} KB). "
        f"A prompt may have at most {MAX_PROMPT_CHARS} characters."
    )


async def _refuse(send: Any, status: int, message: str) -> None:
    log.info("Refused: %s", message)
    body = json.dumps({"error": message}).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
