"""Outside text in toasts and Markdown stays text: one way to a toast, and it escapes."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from heurist_ui.ui.errors import inform, user_error, warn
from heurist_ui.ui.links import apply_link

PACKAGE = Path(__file__).resolve().parent.parent / "heurist_ui"
TOAST_CALL = re.compile(r"\bgr\.(Error|Warning|Info)\(")
CRAFTED = '<form><input id="evil"></form>'


def test_only_the_ui_errors_module_makes_toasts():
    makers = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "errors.py" or path.parent.name != "ui"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if TOAST_CALL.search(line)
    ]
    assert makers == [], "call user_error, warn or inform instead (they escape)"


def test_a_user_error_shows_markup_as_text_and_logs_one_line(caplog):
    caplog.set_level(logging.INFO, logger="heurist_ui.ui")
    error = user_error(f"The API said: {CRAFTED}\nsecond line", title="<i>Title</i>")
    assert "<" not in error.message and "&lt;form&gt;" in error.message
    assert error.title == "&lt;i&gt;Title&lt;/i&gt;"
    assert error.print_exception is False
    (logged,) = caplog.records
    assert "second line" not in logged.getMessage() and logged.exc_info is None


def test_warnings_and_notes_show_markup_as_text(capsys):
    escaped = '&lt;form&gt;&lt;input id="evil"&gt;&lt;/form&gt;'
    with pytest.warns(UserWarning) as shown:
        warn(f"Ignored from the link: {CRAFTED}")
    assert str(shown[0].message) == f"Ignored from the link: {escaped}"
    inform(f"Restored: {CRAFTED}")  # outside a request Gradio prints it
    assert capsys.readouterr().out.strip() == f"Restored: {escaped}"


def test_a_links_notice_names_its_values_as_text(studio):
    with pytest.warns(UserWarning) as shown:
        apply_link(studio.catalogs, {"model": CRAFTED, "steps": "<b>x</b>"})
    (notice,) = [str(warning.message) for warning in shown]
    assert "<" not in notice
    assert "&lt;b&gt;x&lt;/b&gt;" in notice and "&lt;form&gt;" in notice
