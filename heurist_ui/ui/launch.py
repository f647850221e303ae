"""How the studio is launched: keys kept out of browser storage, files served from one folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

from .assets import CSS, SHORTCUTS_JS, THEME
from .limits import RequestLimits
from .words import i18n

MAX_UPLOAD = "20mb"
# Gradio sends the page (314 KB, most of it the page's config) uncompressed, while its own
# scripts arrive compressed; over a share link or a phone's network that is the page's
# slowest file. Level 6: a tenth of the size (35 KB) for a few ms of CPU per page view.
GZIP_LEVEL = 6
LAUNCH_TRIES = 3
UNREACHED = "localhost is not accessible"  # Gradio's launch, when its own URL did not answer


def serve(demo: Any, **options: Any) -> Any:
    """demo.launch(**options), tried again when Gradio's start-up check of its own URL failed.

    That check gives the new server one 3-second try; on a loaded machine the first page can
    take longer, and Gradio then refuses to start ("a shareable link must be created").
    """
    for attempt in range(1, LAUNCH_TRIES + 1):
        try:
            return demo.launch(**options)
        except ValueError as error:
            if UNREACHED not in str(error) or attempt == LAUNCH_TRIES:
                raise
            demo.close()
    raise AssertionError("unreachable")


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
        "theme": THEME,
        "i18n": i18n(),  # the page's words in the browser's language (ui/words.py)
        "mcp_server": mcp,  # tools for AI agents at /gradio_api/mcp/
        # Uploads are PNGs for the PNG info tab: a few MB. Larger ones are refused at once.
        "max_file_size": MAX_UPLOAD,
        # Over-long queries and bodies are refused before Gradio parses them; text is sent
        # compressed to browsers that take it (Starlette leaves images, video, archives,
        # event streams and what is compressed already as they are).
        "app_kwargs": {
            "middleware": [
                Middleware(RequestLimits),
                Middleware(GZipMiddleware, compresslevel=GZIP_LEVEL),
            ]
        },
    }
