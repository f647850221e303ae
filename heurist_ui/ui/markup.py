"""Outside text shown as text: a prompt, a link's values, an upstream error never become markup."""

from __future__ import annotations

import html

_MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|~>:@")  # ":" and "@" stop autolinks


def as_text(value: object) -> str:
    """value for a Markdown component: HTML escaped, Markdown punctuation backslashed."""
    text = html.escape(str(value), quote=False)
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in text)


def as_block(value: object) -> str:
    """value as a preformatted block that no content can close (HTML <pre>, escaped)."""
    return f"<pre>{html.escape(str(value), quote=False)}</pre>"


def as_notice(value: object) -> str:
    """value for a toast (gr.Error, gr.Warning, gr.Info render HTML): HTML escaped."""
    return html.escape(str(value), quote=False)
