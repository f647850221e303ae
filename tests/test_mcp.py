"""The MCP tools, through the official `mcp` client against the running app over the sandbox."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from PIL import Image
from ui_helpers import running_studio

from heurist_ui.pngfile import read_png_metadata
from heurist_ui.sandbox import Sandbox, key_fingerprint

TOOLS = {
    "generate_images",
    "list_models",
    "estimate_cost",
    "enhance_prompt",
    "generate_video",
    "generate_flux_lora",
}
AGENT_KEY = "agent-user#AGENT-SECRET"


@pytest.fixture(scope="module")
def keyed_app(tmp_path_factory):
    with (
        Sandbox(port=0) as server,
        running_studio(server, tmp_path_factory.mktemp("mcp"), api_key="server#key") as app,
    ):
        app.sandbox = server
        yield app


@pytest.fixture(scope="module")
def keyless_app(tmp_path_factory):
    with (
        Sandbox(port=0, valid_keys={AGENT_KEY}) as server,
        running_studio(server, tmp_path_factory.mktemp("mcp-keyless"), api_key=None) as app,
    ):
        app.sandbox = server
        yield app


def mcp_call(app: Any, tool: str | None, arguments: dict | None = None, headers=None) -> Any:
    """Call a tool (or list them, with tool=None) over streamable HTTP."""

    async def session_do() -> Any:
        url = f"{app.url.rstrip('/')}/gradio_api/mcp/"
        async with (
            httpx.AsyncClient(headers=headers or {}, timeout=30) as http,
            streamable_http_client(url, http_client=http) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            if tool is None:
                return (await session.list_tools()).tools
            return await session.call_tool(tool, arguments or {})

    return asyncio.run(session_do())


def texts(result: Any) -> list[str]:
    return [item.text for item in result.content if item.type == "text"]


def test_the_agent_sees_exactly_the_tools_with_descriptions_and_types(keyed_app):
    tools = {tool.name: tool for tool in mcp_call(keyed_app, None)}
    assert set(tools) == TOOLS  # not /generate, nor any UI event
    generate = tools["generate_images"]
    assert "credits" in generate.description and "X-Heurist-Key" in generate.description
    properties = generate.inputSchema["properties"]
    assert properties["count"]["type"] == "integer"
    assert "1 to 8" in properties["count"]["description"]
    assert "SDXL" in properties["model"]["enum"]
    assert generate.inputSchema["required"] == ["prompt"]
    assert "api_key" not in properties and "x_heurist_key" not in properties


def test_generate_returns_one_compact_preview_and_full_png_links(keyed_app):
    result = mcp_call(
        keyed_app, "generate_images", {"prompt": "a lighthouse", "model": "SDXL", "count": 3}
    )
    assert not result.isError, texts(result)
    (image,) = [item for item in result.content if item.type == "image"]
    data = base64.b64decode(image.data)
    assert image.mimeType == "image/webp" and len(data) < 150_000
    with Image.open(io.BytesIO(data)) as preview:
        assert preview.width <= 3 * 512 + 16 and preview.height <= 512
    report = json.loads(next(text for text in texts(result) if text.startswith("{")))
    assert len(report["images"]) == 3
    first = report["images"][0]
    assert first["image_url"].startswith(keyed_app.url.rstrip("/") + "/gradio_api/file=")
    assert first["format"] == "png" and first["image_url"].endswith(".png")
    path = first["image_url"].split("/gradio_api/file=", 1)[1]
    _, record = read_png_metadata(unquote(path))
    assert record["seed"] == first["seed"] and record["prompt"] == "a lighthouse"


def test_list_models_gives_kinds_defaults_maxima_and_prices(keyed_app):
    result = mcp_call(keyed_app, "list_models")
    models = {entry["name"]: entry for entry in json.loads(texts(result)[0])}
    assert models["FLUX.1-dev"]["kind"] == "FLUX"
    assert models["FLUX.1-dev"]["max_width"] == 2048
    assert not models["FLUX.1-dev"]["takes_negative_prompt"]
    assert models["SDXL"]["credits_per_standard_image"] == 1.0


def test_estimate_cost_prices_a_request(keyed_app):
    before = len(keyed_app.sandbox.submissions)
    result = mcp_call(
        keyed_app,
        "estimate_cost",
        {"model": "SDXL", "width": 1024, "height": 512, "steps": 30, "count": 2},
    )
    estimate = json.loads(texts(result)[0])
    assert estimate["credits_per_image"] == 0.75 and estimate["credits_total"] == 1.5
    assert len(keyed_app.sandbox.submissions) == before  # nothing generated


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"prompt": "  ", "model": "SDXL"}, "prompt is empty"),
        ({"prompt": "a cat", "model": "SDXL", "count": 9}, "from 1 to 8"),
        ({"prompt": "a cat", "model": "SDXL", "width": 5000}, "Width must be between"),
    ],
)
def test_bad_arguments_are_clear_tool_errors(keyed_app, arguments, words):
    result = mcp_call(keyed_app, "generate_images", arguments)
    assert result.isError
    assert words in " ".join(texts(result))


def test_without_a_server_key_the_agents_header_key_is_used(keyless_app):
    before = len(keyless_app.sandbox.submissions)
    result = mcp_call(
        keyless_app,
        "generate_images",
        {"prompt": "a fox", "model": "SDXL", "width": 256, "height": 256},
        headers={"X-Heurist-Key": AGENT_KEY},
    )
    assert not result.isError, texts(result)
    (submission,) = keyless_app.sandbox.submissions[before:]
    assert submission.key_fingerprint == key_fingerprint(AGENT_KEY)
    assert "AGENT-SECRET" not in " ".join(texts(result))


def test_a_missing_key_says_which_header_to_set(keyless_app):
    result = mcp_call(keyless_app, "generate_images", {"prompt": "a fox", "model": "SDXL"})
    assert result.isError
    assert "X-Heurist-Key" in " ".join(texts(result))


def test_a_rejected_key_is_a_clear_error_without_the_key(keyless_app):
    result = mcp_call(
        keyless_app,
        "generate_images",
        {"prompt": "a fox", "model": "SDXL"},
        headers={"X-Heurist-Key": "wrong-user#WRONG-SECRET"},
    )
    assert result.isError
    message = " ".join(texts(result))
    assert "(401)" in message or "(403)" in message
    assert "WRONG-SECRET" not in message


def test_enhance_prompt_writes_for_the_models_family(keyed_app):
    flux = mcp_call(keyed_app, "enhance_prompt", {"description": "a fox", "model": "FLUX.1-dev"})
    sdxl = mcp_call(
        keyed_app,
        "enhance_prompt",
        {"description": "a fox", "model": "SDXL", "must_include": "red scarf"},
    )
    assert texts(flux)[0].endswith(".")
    assert texts(sdxl)[0].startswith("red scarf, ") and texts(sdxl)[0].count(",") >= 3
