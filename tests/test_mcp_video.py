"""generate_video and generate_flux_lora through the official `mcp` client, over the sandbox."""

from __future__ import annotations

import base64
import io
import json
from urllib.parse import unquote

import pytest
from PIL import Image
from test_mcp import mcp_call, texts
from ui_helpers import running_studio

from heurist_ui.pngfile import read_png_metadata
from heurist_ui.sandbox import Sandbox
from heurist_ui.video import read_video_record


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with (
        Sandbox(port=0) as server,
        running_studio(server, tmp_path_factory.mktemp("mcp-video"), api_key="server#key") as app,
    ):
        app.sandbox = server
        yield app


def saved_file(report: dict) -> str:
    return unquote(report["url"].split("/gradio_api/file=", 1)[1])


def test_the_tools_document_the_declared_bounds(app):
    tools = {tool.name: tool for tool in mcp_call(app, None)}
    video = tools["generate_video"]
    assert "25 credits" in video.description
    assert "16 to 128" in video.inputSchema["properties"]["length"]["description"]
    assert (
        "512 to 2048"
        in tools["generate_flux_lora"].inputSchema["properties"]["width"]["description"]
    )


def test_generate_video_returns_a_poster_frame_the_url_and_the_record(app):
    result = mcp_call(app, "generate_video", {"prompt": "a red fox", "model": "hunyuan"})

    assert not result.isError, texts(result)
    (image,) = [item for item in result.content if item.type == "image"]
    with Image.open(io.BytesIO(base64.b64decode(image.data))) as poster:
        assert poster.size == (212, 120)
    report = json.loads(next(text for text in texts(result) if text.startswith("{")))
    assert report["url"].startswith(app.url.rstrip("/") + "/gradio_api/file=")
    assert saved_file(report).endswith(".mp4")
    assert read_video_record(saved_file(report))["prompt"] == "a red fox"
    assert report["record"]["credits"] == 25.0


def test_mochi_through_mcp_sends_its_settings(app):
    before = len(app.sandbox.workflow.endpoint_calls("task_create"))
    result = mcp_call(app, "generate_video", {"prompt": "waves", "model": "mochi", "length": 16})

    assert not result.isError, texts(result)
    sent = app.sandbox.workflow.endpoint_calls("task_create")[before]["parameters"]
    assert sent["length"] == 16 and sent["width"] == 848


def test_generate_flux_lora_returns_the_jpeg_with_its_record(app):
    result = mcp_call(
        app,
        "generate_flux_lora",
        {"prompt": "a logo", "lora": "heuristlogo", "width": 640, "height": 512, "noise_seed": 9},
    )

    assert not result.isError, texts(result)
    report = json.loads(next(text for text in texts(result) if text.startswith("{")))
    assert saved_file(report).endswith(".jpg")
    assert read_png_metadata(saved_file(report))[1]["noise_seed"] == 9


@pytest.mark.parametrize(
    ("tool", "arguments", "words"),
    [
        ("generate_video", {"prompt": "x", "model": "mochi", "length": 500}, "Length"),
        ("generate_video", {"prompt": "x", "model": "sora"}, "hunyuan"),
        ("generate_flux_lora", {"prompt": "x", "lora": "nope"}, "heuristlogo"),
        ("generate_flux_lora", {"prompt": "x", "width": 700}, "multiple of 64"),
    ],
)
def test_bad_arguments_are_clear_errors_and_send_nothing(app, tool, arguments, words):
    before = len(app.sandbox.workflow.calls)

    result = mcp_call(app, tool, arguments)

    assert result.isError
    assert words in " ".join(texts(result))
    assert len(app.sandbox.workflow.calls) == before
