"""The studio's start-up: `heurist-studio --help` (or `python app.py --help`) for the options."""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .config import SANDBOX_KEY as SANDBOX_KEY  # the sandbox's key, for scripts

if TYPE_CHECKING:  # gradio is imported only once the flags are parsed
    import gradio as gr

    from heurist_ui.config import Settings
    from heurist_ui.ui import Studio

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

# glibc gives each thread that meets a busy heap an arena of its own, up to 8 per core, and a
# page view allocates ~5 MB for a moment (Gradio copies the page's config): spread over many
# arenas, that churn leaves free memory the process never returns, ~0.27 MB per page load in
# `python -m bench`'s memory row against none with two arenas. MALLOC_ARENA_MAX, if set, wins.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number, in glibc's malloc.h


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas, before any thread starts; False where that is not possible."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a libc without mallopt
        return False
    return mallopt(_M_ARENA_MAX, arenas) == 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A Gradio studio for Heurist's image API.")
    # Hugging Face Spaces set GRADIO_SERVER_NAME=0.0.0.0; everywhere else stay on loopback.
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        help="interface to listen on (127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
        help="port to listen on (7860)",
    )
    parser.add_argument("--share", action="store_true", help="create a public Gradio link")
    parser.add_argument("--auth", metavar="USER:PASSWORD", help="protect the app with a login")
    parser.add_argument(
        "--sandbox", action="store_true", help="run against a local stand-in API (no key needed)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="cap on generations running at once (default: none; the work is remote I/O)",
    )
    parser.add_argument("--env-file", default=".env", help="settings file to read (.env)")
    parser.add_argument(
        "--no-mcp", action="store_true", help="do not serve the MCP tools for AI agents"
    )
    parser.add_argument(
        "--output-max-mb",
        metavar="MB",
        help="keep the saved images under MB megabytes, deleting the oldest "
        "(HEURIST_OUTPUT_MAX_MB; default: no cap, 1024 on a Hugging Face Space)",
    )
    parser.add_argument(
        "--rate-limit",
        metavar="N",
        help="at most N jobs a minute per visitor on the server's key (HEURIST_RATE_LIMIT; "
        "default: none locally, 30 when shared or on a Hugging Face Space; 0: none)",
    )
    args = parser.parse_args(argv)
    if args.auth and ":" not in args.auth:
        parser.error("--auth takes USER:PASSWORD")
    if args.concurrency is not None and args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    return args


def build_app(
    settings: Settings, *, sandbox: bool = False, concurrency: int | None = None
) -> tuple[gr.Blocks, Studio]:
    """The studio's Blocks, queued, for these settings: (demo, studio).

    concurrency caps the generations running at once; None leaves them uncapped (waiting on
    Heurist costs next to nothing), bounded only by the job threads.
    """
    from heurist_ui.client import HeuristClient
    from heurist_ui.gateway import openai_is_tested
    from heurist_ui.ui import Studio, build
    from heurist_ui.ui.studio import job_workers

    openai_is_tested()  # at start-up: one warning if openai is not the tested one (build: Gradio)
    client = HeuristClient(settings=settings, pool_size=job_workers(concurrency))
    studio = Studio.create(client, sandbox=sandbox, concurrency=concurrency)
    studio.catalogs.refresh_in_background()
    demo = build(studio)
    # No queue bound, capped or not: nobody is turned away. With a cap, callers wait their
    # turn (the page shows their place); a queue event costs a few KB. Places are sent once a
    # second: Gradio's "auto" sends every waiting caller an update each time one starts, which
    # for a burst of a thousand callers is a million messages.
    demo.queue(default_concurrency_limit=concurrency, max_size=None, status_update_rate=1.0)
    return demo, studio


def main(argv: list[str] | None = None) -> None:
    limit_malloc_arenas()
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from heurist_ui.config import load_settings, output_dir_problem, sandbox_settings
    from heurist_ui.ui import launch_options, serve

    try:
        settings = load_settings(
            env_file=args.env_file,
            output_max_mb=args.output_max_mb,
            rate_limit=args.rate_limit,
            shared=args.share,
        )
    except ValueError as error:
        raise SystemExit(f"app.py: {error}") from None
    if args.sandbox:
        from heurist_ui.sandbox import Sandbox

        sandbox = Sandbox(port=0).start()
        settings = sandbox_settings(
            settings,
            base_url=sandbox.url,
            models_url=sandbox.models_url,
            llm_base_url=sandbox.llm_base_url,
            workflow_url=sandbox.url,
        )
        logging.getLogger("heurist_ui").info("Sandbox API running at %s", sandbox.url)
    problem = output_dir_problem(settings.output_dir)
    if problem:
        raise SystemExit(
            f"HEURIST_OUTPUT_DIR cannot be {settings.output_dir}: {problem}, and the studio serves "
            "that folder's files. Choose a folder of its own, such as outputs."
        )
    if args.share and settings.has_key and not args.auth and not args.sandbox:
        logging.getLogger("heurist_ui").warning(
            "Sharing a public link with the server's API key: anyone with the link spends your "
            "credits. Add --auth USER:PASSWORD to require a login."
        )
    demo, _ = build_app(settings, sandbox=args.sandbox, concurrency=args.concurrency)
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    serve(
        demo,
        **launch_options(
            host=args.host,
            port=args.port,
            share=args.share,
            auth=auth,
            concurrency=args.concurrency,
            output_dir=Path(settings.output_dir),
            mcp=not args.no_mcp,
        ),
    )


if __name__ == "__main__":
    main()
