"""How the studio is launched: keys kept out of browser storage, files served from one folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from .assets import CSS, SHORTCUTS_JS

MAX_UPLOAD = "20mb"
# Path and query of one request. Gradio's page route fails (HTTP 500, a traceback) on a URL
# over 65 536 characters; every link the studio makes is far shorter.
MAX_URL_BYTES = 60_000

log = logging.getLogger("heurist_ui.ui")


class URLLimit:
    """ASGI middleware: a request whose path and query exceed MAX_URL_BYTES gets a 414 at once."""

    def __init__(self, app: Any, max_bytes: int = MAX_URL_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            if size > self.max_bytes:
                log.info("Refused: a URL of %d bytes (at most %d)", size, self.max_bytes)
                body = (
                    f"This link is too long ({size} bytes; at most {self.max_bytes}). Open the "
                    "studio without it, or make a link with a shorter prompt.\n"
                ).encode()
                headers = [(b"content-type", b"text/plain; charset=utf-8")]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({"type": "http.response.start", "status": 414, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def launch_options(
    *,
    host: str,
    port: int,
    share: bool,
    auth: tuple[str, str] | None,
    concurrency: int | None,
    output_dir: Path,
    mcp: bool = True,
) -> dict[str, Any]:
    """Keyword arguments for Blocks.launch that keep keys out of the browser's storage."""
    return {
        "server_name": host,
        "server_port": port,
        "share": share,
        "auth": auth,
        # Threads for Gradio's own sync work (the instant events); jobs have their own pool.
        "max_threads": 80 if concurrency is None else concurrency * 2 + 16,
        # Every API call is a session of its own; keep the last 1000, not Gradio's 10 000.
        "state_session_capacity": 1000,
        "run_history": False,  # an input may be an API key
        "show_error": False,
        "allowed_paths": [str(output_dir.resolve())],
        "footer_links": ["api", "gradio", "settings"],
        "css": CSS,
        "js": SHORTCUTS_JS,
        "theme": gr.themes.Soft(),
        "mcp_server": mcp,  # tools for AI agents at /gradio_api/mcp/
        # Uploads are PNGs for the PNG info tab: a few MB. Larger ones are refused at once.
        "max_file_size": MAX_UPLOAD,
        "app_kwargs": {"middleware": [Middleware(URLLimit)]},
    }
