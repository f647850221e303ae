"""The one check for a framework whose private parts the studio touches: is it the tested one?

Gradio's private parts are all in ui/gradio_private.py, openai's in gateway.py; each module
declares the version it was checked against and asks `is_tested` at start-up. A different
version gets the framework's own behaviour and ONE warning naming the tested version, so an
upgrade never breaks silently; the tests fail on it, so whoever upgrades rechecks that module.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import logging
import threading
from importlib import metadata

log = logging.getLogger("heurist_ui")

_warned: set[str] = set()
_lock = threading.Lock()


def installed(distribution: str) -> str | None:
    """The installed version of distribution, or None when it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def is_tested(distribution: str, tested: str, module: str, fallback: str) -> bool:
    """Whether the installed distribution is `tested`; warns once per distribution if not.

    module names the file holding the private parts; fallback says what runs instead.
    """
    version = installed(distribution)
    if version == tested:
        return True
    with _lock:
        if distribution in _warned:
            return False
        _warned.add(distribution)
    log.warning(
        "%s %s is installed, but heurist_ui was tested with %s %s: %s. To use its changes "
        "again, check %s against %s %s and update the tested version there (or install "
        "%s==%s).",
        distribution,
        version or "(none)",
        distribution,
        tested,
        fallback,
        module,
        distribution,
        version or "(none)",
        distribution,
        tested,
    )
    return False


def source_hash(qualified_name: str) -> str:
    """sha256 (first 16 hex digits) of module.Class.function's source as installed.

    Read from the module's file, not the class: the class may hold our replacement.
    """
    module_name, class_name, function_name = qualified_name.rsplit(".", 2)
    source = inspect.getsource(importlib.import_module(module_name))
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if (
                    isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                    and item.name == function_name
                ):
                    segment = ast.get_source_segment(source, item) or ""
                    return hashlib.sha256(segment.encode()).hexdigest()[:16]
    raise LookupError(f"{qualified_name} is not in the installed {module_name}")
