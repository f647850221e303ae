"""Shared fixtures: an isolated environment, the sandbox API, and a client pointed at it."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # tests chdir into tmp_path; imports must not depend on cwd
    sys.path.insert(0, str(REPO_ROOT))

from bench.procs import free_port  # noqa: E402
from heurist_ui.client import HeuristClient  # noqa: E402
from heurist_ui.config import Settings, load_settings  # noqa: E402

# Gradio's file cache, one per test process (before gradio is first imported): under
# pytest-xdist, an app closing in one worker deletes the cached files it made, which an app of
# the other worker may be serving from the same folder (the names are content hashes). A worker
# makes its own inside the folder of the run that started it, which removes it all at the end
# (a worker may be ended before it cleans up).
_RUN_CACHE = os.environ.get("TESTS_GRADIO_CACHE")
_OWN_CACHE = None
if os.environ.get("GRADIO_TEMP_DIR", "") in ("", _RUN_CACHE):
    if _RUN_CACHE and Path(_RUN_CACHE).is_dir():  # a worker of this run
        os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="worker-", dir=_RUN_CACHE)
    else:
        _OWN_CACHE = tempfile.mkdtemp(prefix="heurist-tests-gradio-")
        os.environ["GRADIO_TEMP_DIR"] = os.environ["TESTS_GRADIO_CACHE"] = _OWN_CACHE


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the run's Gradio caches (tests leave nothing behind)."""
    if _OWN_CACHE is not None:
        os.environ.pop("GRADIO_TEMP_DIR", None)
        os.environ.pop("TESTS_GRADIO_CACHE", None)
        shutil.rmtree(_OWN_CACHE, ignore_errors=True)


# The longest files, longest first, start before the rest: on two workers (scripts/test.sh,
# loadfile) a long file started last would leave one worker idle while it runs alone. After the
# browser files, the others of 7 s or more (a busy run's --durations), so the end is made of
# files of a few seconds, which the two workers share evenly.
SLOW_FILES = (
    "test_browser_form.py",
    "test_browser.py",
    "test_browser_ux.py",
    "test_browser_i18n.py",
    "test_browser_compare.py",
    "test_browser_video.py",
    "test_reliability_load.py",
    "test_plan.py",
    "test_reliability_input.py",
    "test_client.py",
    "test_app_cli.py",
    "test_cli.py",
    "test_reliability_secrets.py",
    "test_reliability_faults.py",
    "test_packaging.py",
    "test_bench_video.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run SLOW_FILES first, in that order; every other file keeps its place after them."""
    rank = {name: n for n, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FILES)))


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No HEURIST_* or AUTH_KEY variables, and a cwd without a real .env file."""
    for name in list(os.environ):
        if name.startswith("HEURIST_") or name == "AUTH_KEY":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def sandbox_server():
    """One local Heurist-compatible server for the whole session."""
    from heurist_ui.sandbox import Sandbox  # here, so tests without the sandbox still collect

    with Sandbox(port=0) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server):
    """The session's sandbox, with no faults, no recorded jobs, no latency, placeholder art."""
    sandbox_server.reset()
    sandbox_server.latency = 0.0
    sandbox_server.image_format = "placeholder"
    yield sandbox_server
    sandbox_server.reset()  # lets go of any job a test left held
    sandbox_server.latency = 0.0
    sandbox_server.image_format = "placeholder"


@pytest.fixture
def settings(sandbox, tmp_path: Path) -> Settings:
    """Settings that point at the sandbox and keep files under tmp_path."""
    return load_settings(
        models_url=sandbox.models_url,
        workflow_url=sandbox.url,
        cache_dir=tmp_path / "cache",
        output_dir=tmp_path / "out",
        env_file=None,
    )


@pytest.fixture
def api_key() -> str:
    """The key test clients send."""
    return "test-user#test-key"


@pytest.fixture
def make_client(sandbox, settings: Settings, api_key: str):
    """Build clients for the sandbox: fast backoff, short timeouts, overridable."""
    clients: list[HeuristClient] = []

    def make(**overrides) -> HeuristClient:
        options = {
            "api_key": api_key,
            "base_url": sandbox.url,
            "settings": settings,
            "backoff_factor": 0,
            "timeout": (2, 5),
            **overrides,
        }
        client = HeuristClient(**options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client) -> HeuristClient:
    """A client for the sandbox with the test key."""
    return make_client()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    return free_port()


@pytest.fixture
def studio(client):
    """The studio's services over the sandbox, with the test key, saving under tmp_path/out."""
    from heurist_ui.ui import Studio  # here, so the core tests never import gradio

    studio = Studio.create(client)
    yield studio
    studio.runner.close()


CLI_KEY = "cli-user#CLI-SECRET-KEY"  # the command-line tests look for it in every output


@pytest.fixture
def cli_env(sandbox, tmp_path):
    """The environment of a user whose settings point at the sandbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEURIST_") and k != "AUTH_KEY"}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        HEURIST_BASE_URL=sandbox.url,
        HEURIST_WORKFLOW_URL=sandbox.url,
        HEURIST_MODELS_URL=sandbox.models_url,
        HEURIST_API_KEY=CLI_KEY,
        HEURIST_CACHE_DIR=str(tmp_path / "cache"),
        HEURIST_OUTPUT_DIR=str(tmp_path / "out"),
    )
    return env
