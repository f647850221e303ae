"""versions and gateway: openai's private parts only on the tested openai; one warning at
start-up per framework that is not the tested one; an upgrade makes these tests fail."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from heurist_ui import gateway, versions
from heurist_ui.config import load_settings
from heurist_ui.enhance import PromptEnhancer, check_request
from heurist_ui.errors import ServerError

REPO = Path(__file__).resolve().parent.parent


def test_the_installed_openai_is_the_one_the_private_parts_were_tested_with():
    assert versions.installed("openai") == gateway.TESTED_OPENAI, (
        "openai was upgraded: check heurist_ui/gateway.py against it (each function in "
        "OPENAI_SOURCES), then update TESTED_OPENAI and the hashes there"
    )


@pytest.mark.parametrize("name", sorted(gateway.OPENAI_SOURCES))
def test_each_openai_function_the_private_parts_rely_on_is_unchanged(name):
    assert versions.source_hash(name) == gateway.OPENAI_SOURCES[name], (
        f"{name} changed: recheck what heurist_ui/gateway.py does with it"
    )


def test_an_unknown_function_is_said_to_be_missing_not_hashed():
    with pytest.raises(LookupError, match="not in the installed"):
        versions.source_hash("openai._base_client.SyncAPIClient.no_such_method")


def test_importing_the_gateway_does_not_import_openai():
    import subprocess
    import sys

    code = "import sys, heurist_ui.gateway; print('openai' in sys.modules)"
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert shown.stdout.strip() == "False"  # the start-up check stays cheap


@pytest.fixture
def untested(monkeypatch, caplog):
    """Report the named frameworks at 99.0.0 (warned about afresh); Gradio's fixes back after."""
    real = versions.installed
    faked: set[str] = set()
    monkeypatch.setattr(versions, "_warned", set())
    monkeypatch.setattr(
        versions, "installed", lambda name: "99.0.0" if name in faked else real(name)
    )
    caplog.set_level(logging.WARNING, logger="heurist_ui")
    yield faked
    monkeypatch.undo()
    from heurist_ui.ui.gradio_private import apply_gradio_fixes

    apply_gradio_fixes()


def warnings_in(caplog) -> list[str]:
    """The version warnings logged: a late line of another test's thread (a rejected key, say)
    may land in this test's records too."""
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    return [message for message in warnings if " is installed, but " in message]


def test_another_openai_gets_openais_own_client_without_retries(untested, caplog, sandbox):
    untested.add("openai")
    import openai

    client = gateway.gateway_client(f"{sandbox.url}/v1", 5, 2)
    gateway.gateway_client(f"{sandbox.url}/v1", 5, 2).close()
    assert type(client) is openai.OpenAI and client.max_retries == 0
    client.close()

    settings = load_settings(api_key="u#k", llm_base_url=f"{sandbox.url}/v1", env_file=None)
    enhancer = PromptEnhancer(settings, max_retries=2)
    sandbox.add_fault("status", status=503, retry_after=0)
    request = check_request("a fox", family="sdxl", llm_model="meta-llama/llama-3.3-70b-instruct")
    try:
        with pytest.raises(ServerError, match="503"):
            enhancer.enhance(request)
    finally:
        enhancer.close()
    assert [chat["status"] for chat in sandbox.chats] == [503]  # one attempt: never twice

    (warning,) = warnings_in(caplog)
    assert "openai 99.0.0 is installed" in warning and f"openai {gateway.TESTED_OPENAI}" in warning
    assert "gateway.py" in warning and "one attempt" in warning


def test_the_tested_openai_gets_the_narrowed_retries(sandbox):
    client = gateway.gateway_client(f"{sandbox.url}/v1", 5, 2)
    try:
        assert type(client).__name__ == "GatewayClient" and client.max_retries == 2
    finally:
        client.close()


def test_start_up_warns_once_per_framework_that_is_not_the_tested_one(untested, caplog, settings):
    from app import build_app

    untested.update({"gradio", "openai"})
    for _ in range(2):
        _, studio = build_app(settings)
        studio.runner.close()

    warnings = warnings_in(caplog)
    assert len(warnings) == 2, warnings
    assert {re.match(r"(\w+) 99\.0\.0 is installed", w).group(1) for w in warnings} == {
        "gradio",
        "openai",
    }


def test_the_tested_versions_start_without_a_warning(caplog, settings, monkeypatch):
    from app import build_app

    monkeypatch.setattr(versions, "_warned", set())
    caplog.set_level(logging.WARNING, logger="heurist_ui")
    _, studio = build_app(settings)
    studio.runner.close()
    assert not warnings_in(caplog)
