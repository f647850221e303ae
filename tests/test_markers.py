"""The slow load tests can be left out (-m "not load"); the default run keeps them."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_load_marker_is_registered():
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^\s*"load: ', pyproject, re.MULTILINE)


def test_the_default_run_and_ci_keep_the_load_tests():
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    addopts = re.search(r"^addopts = (.*)$", pyproject, re.MULTILINE)
    assert addopts is None or " -m" not in f" {addopts.group(1)}"
    assert "not load" not in (REPO / "scripts" / "test.sh").read_text(encoding="utf-8")
