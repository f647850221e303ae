"""How the UI reports a visitor's mistake: a clear message for them, one line in the log.

Gradio prints a traceback for every gr.Error unless told not to; on a public Space a visitor
who sends bad input on purpose would fill the log. `user_error` logs one short line instead,
and `check_input_count` answers a REST call with the wrong number of values plainly, where
Gradio would answer `{"error": null}` and log every value sent (an API key among them).
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from .gradio_private import replace_input_check

log = logging.getLogger("heurist_ui.ui")

LOGGED_CHARS = 160  # of a message's first line


def user_error(message: str, title: str | None = None) -> gr.Error:
    """A gr.Error for the visitor; the log gets its first line, shortened, and no traceback."""
    first_line = message.strip().splitlines()[0] if message.strip() else "(no message)"
    if len(first_line) > LOGGED_CHARS:
        first_line = first_line[: LOGGED_CHARS - 3] + "..."
    prefix = f"{title}: " if title and not first_line.startswith(title) else ""
    log.info("Refused: %s%s", prefix, first_line)
    return gr.Error(message, title=title or "Error", print_exception=False)


def check_input_count(demo: gr.Blocks) -> None:
    """Make demo refuse a call whose number of values differs from its endpoint's inputs."""

    def refuse_wrong_count(block_fn: Any, inputs: list[Any]) -> None:
        wanted = list(block_fn.inputs)
        if len(inputs) == len(wanted):
            return
        name = f"/{block_fn.api_name}" if isinstance(block_fn.api_name, str) else "This event"
        labels = ", ".join(_label(component) for component in wanted)
        raise user_error(
            f"{name} takes {len(wanted)} values, in this order: {labels}. This call sent "
            f'{len(inputs)}. The studio\'s "Use via API" page shows each one.',
            title="Wrong number of values",
        )

    replace_input_check(demo, refuse_wrong_count)  # Gradio's private hook: see gradio_private


def _label(component: Any) -> str:
    label = getattr(component, "label", None)
    return str(label) if label else type(component).__name__.lower()
