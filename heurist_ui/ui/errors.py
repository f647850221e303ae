"""How the UI reports a visitor's mistake: a clear message for them, one line in the log.

Gradio prints a traceback for every gr.Error unless told not to; on a public Space a visitor
who sends bad input on purpose would fill the log. `user_error` logs one short line instead,
and `check_input_count` answers a REST call with the wrong number of values plainly, where
Gradio would answer `{"error": null}` and log every value sent (an API key among them).

The one way to a toast: Gradio renders a toast's text as HTML, and messages carry outside text
(a link's values, an API's error body, a file name). `user_error`, `warn` and `inform` escape
it; nothing else in the UI calls gr.Error, gr.Warning or gr.Info (a test checks).
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import gradio as gr

from .gradio_private import page_copy, replace_input_check, wrap_preprocess
from .markup import as_notice
from .words import english

log = logging.getLogger("heurist_ui.ui")

LOGGED_CHARS = 160  # of a message's first line
MAX_CHOICES_SHOWN = 20


def user_error(message: str, title: str | None = None) -> gr.Error:
    """A gr.Error for the visitor; the log gets its first line, shortened, and no traceback."""
    first_line = message.strip().splitlines()[0] if message.strip() else "(no message)"
    if len(first_line) > LOGGED_CHARS:
        first_line = first_line[: LOGGED_CHARS - 3] + "..."
    prefix = f"{title}: " if title and not first_line.startswith(title) else ""
    log.info("Refused: %s%s", prefix, first_line)
    return gr.Error(as_notice(message), title=as_notice(title or "Error"), print_exception=False)


def warn(message: str) -> None:
    """A warning toast; its text shown as text."""
    gr.Warning(as_notice(message))


def inform(message: str) -> None:
    """An information toast; its text shown as text."""
    gr.Info(as_notice(message))


def check_input_count(demo: gr.Blocks) -> None:
    """Make demo refuse a call whose number of values differs from its endpoint's inputs."""

    def refuse_wrong_count(block_fn: Any, inputs: list[Any]) -> None:
        wanted = list(block_fn.inputs)
        defaults = _api_defaults(block_fn)[len(inputs) :]
        if defaults and all(value is not _NO_DEFAULT for value in defaults):
            # Trailing values the API description marks optional get its defaults, as
            # gradio_client sends them: a script written before a new optional value was
            # added keeps working. Gradio reads this same list next.
            inputs.extend(defaults)
            return
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
    _plain_preprocess_errors(demo)


_NO_DEFAULT = object()


def _api_defaults(block_fn: Any) -> list[Any]:
    """Each input's default as Gradio's API description gives it (its component's initial
    value, else None where the handler's parameter defaults to None), or _NO_DEFAULT."""
    try:
        parameters = list(inspect.signature(block_fn.fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    defaults = []
    for index, component in enumerate(block_fn.inputs):
        value = getattr(component, "value", None)
        parameter = parameters[index] if index < len(parameters) else None
        if value is not None:
            defaults.append(value)
        elif parameter is not None and parameter.default is None:
            defaults.append(None)
        else:
            defaults.append(_NO_DEFAULT)
    return defaults


def _plain_preprocess_errors(demo: gr.Blocks) -> None:
    """Make a value Gradio refuses before our handler (not one of a Dropdown's or a Radio's
    choices, say) a plain refusal: Gradio's own error logs a traceback per call."""

    async def preprocess_plainly(
        original: Any, block_fn: Any, inputs: list[Any], state: Any, *args: Any
    ) -> Any:
        try:
            return await original(block_fn, inputs, state, *args)
        except gr.Error as error:
            if not error.print_exception:
                raise
            message = _not_a_choice(block_fn, inputs, state) or str(error.message)
            raise user_error(message, title="Check the values") from None

    wrap_preprocess(demo, preprocess_plainly)  # Gradio's private hook: see gradio_private


def _not_a_choice(block_fn: Any, inputs: list[Any], state: Any) -> str | None:
    """What names the first value that is not one of its component's choices, if any."""
    for component, value in zip(block_fn.inputs, inputs, strict=False):
        component = page_copy(component, state)  # its choices may have changed since
        choices = getattr(component, "choices", None)
        if not isinstance(choices, list) or getattr(component, "allow_custom_value", False):
            continue
        allowed = [choice[1] if isinstance(choice, tuple) else choice for choice in choices]
        sent = value if isinstance(value, list) else [value]
        wrong = next((item for item in sent if item is not None and item not in allowed), None)
        if wrong is not None:
            shown = ", ".join(map(str, allowed[:MAX_CHOICES_SHOWN]))
            more = " …" if len(allowed) > MAX_CHOICES_SHOWN else ""
            return (
                f"{_label(component)}: {str(wrong)[:60]!r} is not one of the choices. "
                f"Choose from: {shown}{more}."
            )
    return None


def _label(component: Any) -> str:
    label = getattr(component, "label", None)
    return english(label) if label else type(component).__name__.lower()
