"""The yardsticks: a bare Gradio Blocks app, launched the way app.py launches.

    python bench/bare_app.py --port P               # one Textbox: the start-up yardstick
    python bench/bare_app.py --port P --latency L   # plus a /generate that only sleeps L

The second form takes /generate's inputs and streams like the studio (an empty first answer,
then one record per image) but does no work, awaiting L with no concurrency limit and no queue
bound: the floor for a server that only waits, what Gradio and the machine cost before the
app's own code counts.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr


def sleeper(latency: float):
    """A /generate handler that waits `latency` seconds and returns one record per image."""

    async def generate(*inputs: Any) -> AsyncIterator[tuple[list, list[dict[str, str]]]]:
        yield [], []
        await asyncio.sleep(latency)
        count = int(inputs[-2] or 1)
        yield [], [{"job_id": f"bare-{uuid.uuid4().hex}"} for _ in range(count)]

    return generate


def build(latency: float | None) -> gr.Blocks:
    with gr.Blocks() as demo:
        text = gr.Textbox(label="Text")
        if latency is not None:
            inputs = [text, gr.Textbox(), gr.Textbox(), *(gr.Number() for _ in range(6))]
            inputs.append(gr.Textbox())
            button = gr.Button()
            button.click(
                sleeper(latency),
                inputs,
                [gr.Gallery(), gr.JSON()],
                api_name="generate",
                concurrency_limit=None,
            )
    return demo


def main() -> None:
    parser = argparse.ArgumentParser(description="A bare Gradio app, for start-up and load.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=None, help="add a sleeping /generate")
    args = parser.parse_args()
    demo = build(args.latency)
    demo.queue(default_concurrency_limit=None, max_size=None)
    demo.launch(server_name=args.host, server_port=args.port, max_threads=80)


if __name__ == "__main__":
    main()
