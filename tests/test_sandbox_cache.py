"""A sandbox run keeps its model list apart: a later offline run never takes it for Heurist's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from ui_helpers import free_port
from waiting import wait_until

from heurist_ui import cli
from heurist_ui.config import SANDBOX_CACHE_DIR

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("HEURIST_CACHE_DIR", str(folder))
    return folder


def offline_models_source(capsys, monkeypatch, closed_port: int) -> str:
    """What `python -m heurist_ui models` says its list came from, with Heurist unreachable."""
    capsys.readouterr()
    monkeypatch.setenv("HEURIST_MODELS_URL", f"http://127.0.0.1:{closed_port}/models.json")
    assert cli.main(["models", "--env-file", "none.env"]) == cli.EXIT_OK
    return capsys.readouterr().err


def test_the_command_lines_sandbox_keeps_its_own_model_list(
    cache_dir, capsys, monkeypatch, closed_port
):
    assert cli.main(["models", "--sandbox", "--env-file", "none.env"]) == cli.EXIT_OK

    assert (cache_dir / SANDBOX_CACHE_DIR / "models.json").is_file()
    assert not (cache_dir / "models.json").exists()
    source = offline_models_source(capsys, monkeypatch, closed_port)
    assert "built-in model list" in source and "last saved copy" not in source


def test_a_real_run_still_keeps_the_last_good_list(
    cache_dir, capsys, monkeypatch, closed_port, sandbox
):
    # The same start-up path without --sandbox: Heurist's list (here served by the sandbox,
    # as a real URL would be) is the one kept, and an offline run falls back to it.
    monkeypatch.setenv("HEURIST_MODELS_URL", sandbox.models_url)
    assert cli.main(["models", "--env-file", "none.env"]) == cli.EXIT_OK

    assert (cache_dir / "models.json").is_file()
    assert "last saved copy" in offline_models_source(capsys, monkeypatch, closed_port)


def _serves(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.timeout(180)
def test_app_py_sandbox_keeps_its_own_model_list(
    cache_dir, tmp_path, capsys, monkeypatch, closed_port
):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEURIST_", "GRADIO_"))}
    env.update(
        HEURIST_CACHE_DIR=str(cache_dir),
        HEURIST_OUTPUT_DIR=str(tmp_path / "out"),
        GRADIO_TEMP_DIR=str(tmp_path / "gradio"),
        GRADIO_ANALYTICS_ENABLED="False",
        NO_PROXY="*",
    )
    port = free_port()
    argv = [sys.executable, str(REPO / "app.py"), "--sandbox", "--port", str(port)]
    argv += ["--no-mcp", "--env-file", str(tmp_path / "none.env")]
    process = subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    sandbox_copy = cache_dir / SANDBOX_CACHE_DIR / "models.json"
    try:
        wait_until(lambda: _serves(f"http://127.0.0.1:{port}/"), "the app to serve", limit=120)
        wait_until(sandbox_copy.is_file, "the sandbox's own model list")  # a background write
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert not (cache_dir / "models.json").exists()
    source = offline_models_source(capsys, monkeypatch, closed_port)
    assert "built-in model list" in source and "last saved copy" not in source
