"""The studio's Gradio UI: one module per tab or panel, assembled by build().

To add a tab: write heurist_ui/ui/<feature>.py with render() and wire(), then call them below.
"""

from __future__ import annotations

import gradio as gr

from ..generator_models import LORA_MODELS
from . import (
    compare,
    controls,
    flux_lora,
    generate,
    history,
    key,
    links,
    mcp_tools,
    png_info,
    prompt_help,
    results,
    video,
)
from .errors import check_input_count
from .gradio_private import apply_gradio_fixes
from .launch import launch_options, serve
from .runs import PageBatches, wire_clear
from .studio import Studio
from .words import english_api_labels, words

__all__ = ["Studio", "build", "launch_options", "serve"]

CACHE_CLEANING = (30 * 60, 2 * 60 * 60)  # (how often, how old), in seconds


def build(studio: Studio) -> gr.Blocks:
    """The page: a header, one tab per feature, then the events within and between them."""
    # Saved images are served from the output folder as they are: without this, Gradio copies
    # each one into its cache as well, and every image is stored (and hashed) twice.
    gr.set_static_paths([studio.runner.output_dir, history.IMAGE_GONE_FILE])
    apply_gradio_fixes()
    with gr.Blocks(
        title="Heurist Studio",
        analytics_enabled=False,
        # Gradio's own copies of results and uploads: every 30 min, drop those over 2 h old.
        delete_cache=CACHE_CLEANING,
    ) as demo:
        _header(studio.sandbox)
        with gr.Tabs() as tabs:
            # Laid out by CSS (assets.py): on a desk the top and the settings on the left, the
            # results beside them; on a phone the top, the results, then the settings.
            with gr.Tab(words("generate"), id="generate"), gr.Row(elem_id="studio"):
                has_key = studio.client.has_key
                with gr.Column(min_width=0, elem_id="studio-top"):
                    api_key = None if has_key else key.render(has_key)  # a new user's first need
                    top = generate.render_top()
                with gr.Column(min_width=0, elem_id="studio-results"):
                    shown = results.render()
                    past = history.render(
                        [*studio.catalog.names, *(lora.label for lora in LORA_MODELS)]
                    )
                with gr.Column(min_width=0, elem_id="studio-settings"):
                    generator = generate.render(studio, top)
                    api_key = api_key or key.render(has_key)
                with gr.Column(min_width=0, elem_id="studio-record"):
                    shown.details.render()
            with gr.Tab(words("tab.compare"), id="compare"):
                grid = compare.render(studio)
            with gr.Tab(words("tab.png_info"), id="png-info"):
                png = png_info.render()
            with gr.Tab(words("tab.video"), id=video.VIDEO_TAB):
                clips = video.render(studio)
            with gr.Tab(words("tab.flux_lora"), id=flux_lora.FLUX_LORA_TAB):
                loras = flux_lora.render(studio)

        form = generator.form
        generate.wire_form(demo, studio, generator)
        key.wire(demo, api_key)
        prompt_help.wire(studio, generator.help, form, form.style, api_key)
        pages = PageBatches()
        run = generate.wire_run(studio, generator, api_key, shown, pages)
        wire_clear(demo, pages, shown.gallery, shown.records, shown.clear)
        results.wire(shown, form, studio.catalogs)
        # A video or FLUX-LoRA link opens its tab, filled.
        others = [video.link_target(clips), flux_lora.link_target(loras)]
        links.wire(demo, studio.catalogs, form, shown, generator.link, others)
        compared = compare.wire(studio, grid, api_key, form, tabs)
        runs = {"generate": (run, shown.records), "compare": (compared, grid.records)}
        history.wire(past, runs, form, studio.catalogs, studio.runner.output_dir)
        results.wire_done(run, shown.records, "image")
        results.wire_done(compared, grid.records, "cell")
        png_info.wire(png, form, tabs, studio.catalogs)
        video.wire(studio, clips, api_key)
        flux_lora.wire(studio, loras, api_key)
        lines = [
            generate.cost_line(studio, generator),
            compare.cost_line(studio, grid),
            video.cost_line(clips),
            flux_lora.priced(loras),
        ]
        controls.wire_cost_lines(demo, lines)
    # The agents' tools need components but no page: on a page of their own, off the navbar,
    # the studio's page neither loads nor processes them. (/enhance_prompt stays: the page's
    # API docs list only its own page's endpoints, and scripts read them there.)
    with demo.route(mcp_tools.TOOLS_PAGE_NAME, mcp_tools.TOOLS_PAGE, show_in_navbar=False):
        mcp_tools.render_page_note()
        mcp_tools.wire(studio)
    check_input_count(demo)
    english_api_labels(demo)
    return demo


def _header(sandbox: bool) -> None:
    gr.Markdown(words("header.sandbox" if sandbox else "header"))
    if sandbox:
        gr.Markdown(words("sandbox_note"))
