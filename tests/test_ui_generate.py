"""ui.generate: the /generate handler over the sandbox: streaming, seeds, errors, keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

import gradio as gr
import pytest
from ui_helpers import generate, generate_arguments

from heurist_ui.params import MAX_SEED
from heurist_ui.pngfile import read_png_metadata
from heurist_ui.sandbox import key_fingerprint
from heurist_ui.ui import Studio
from heurist_ui.ui.generate import page_handler
from heurist_ui.ui.runs import PageBatches


def test_generate_streams_a_growing_gallery_of_n_images(studio, sandbox):
    steps = generate(studio, num_images=4)
    sizes = [len(gallery) for gallery, _ in steps]
    # Jobs finishing together arrive in one update, so the sizes grow by one or more.
    assert sizes[0] >= 1 and sizes[-1] == 4
    assert sizes == sorted(set(sizes))
    gallery, records = steps[-1]
    assert len(records) == 4
    assert len({r["seed"] for r in records}) == 4
    assert all(r["seed"] >= 0 for r in records)
    for (path, caption), rec in zip(gallery, records, strict=True):
        assert Path(path).is_file() and Path(path).suffix == ".png"
        assert f"seed {rec['seed']}" in caption
        _, embedded = read_png_metadata(path)
        assert embedded["seed"] == rec["seed"]
    assert len(sandbox.submissions) == 4


def test_fixed_seed_gives_consecutive_seeds(studio):
    _, records = generate(studio, seed=1000, num_images=3)[-1]
    assert sorted(r["seed"] for r in records) == [1000, 1001, 1002]


def test_fixed_seed_batches_stay_within_the_seed_range(studio, sandbox):
    try:
        _, records = generate(studio, seed=MAX_SEED, num_images=2)[-1]
    except gr.Error as error:  # refusing, with a clear word on the seed, is fine too
        assert "seed" in error.message.lower()
        assert sandbox.submissions == []
        return
    assert all(0 <= r["seed"] <= MAX_SEED for r in records)


def test_empty_prompt_fails_clearly_without_submitting(studio, sandbox):
    with pytest.raises(gr.Error) as raised:
        generate(studio, prompt="   ")
    assert "prompt is empty" in raised.value.message
    assert sandbox.submissions == []


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("width", "abc", "Width must be a number"),
        ("model_id", "no-such-model", "Unknown model"),
        ("num_images", 9, "Images must be a whole number from 1 to 8"),
        ("num_iterations", 0, "Steps must be between 1 and 50"),
    ],
)
def test_bad_settings_fail_clearly_without_submitting(studio, sandbox, field, value, words):
    with pytest.raises(gr.Error) as raised:
        generate(studio, **{field: value})
    assert words in raised.value.message
    assert sandbox.submissions == []


def test_no_key_anywhere_fails_with_the_fix(make_client, sandbox):
    studio = Studio.create(make_client(api_key=None))
    with pytest.raises(gr.Error) as raised:
        generate(studio, api_key="")
    assert "HEURIST_API_KEY" in raised.value.message
    assert sandbox.submissions == []


def test_a_pasted_key_is_used_instead_of_the_servers(studio, sandbox):
    generate(studio, api_key="  other-user#other-key  ", num_images=2)
    fingerprints = {sub.key_fingerprint for sub in sandbox.submissions}
    assert fingerprints == {key_fingerprint("other-user#other-key")}


def test_partial_failure_keeps_the_images_that_succeeded(studio, sandbox):
    sandbox.add_fault("status", status=500)
    with pytest.warns(UserWarning, match=r"1 of 3 images failed.*\(500\)"):
        steps = generate(studio, num_images=3)
    gallery, records = steps[-1]
    assert len(gallery) == len(records) == 2
    assert len(sandbox.submissions) == 3


def test_all_jobs_failing_raises_the_apis_message(studio, sandbox):
    with pytest.raises(gr.Error) as raised:
        generate(studio, api_key="no-credits", num_images=2)
    assert "(402)" in raised.value.message and "credits" in raised.value.message


def test_batches_started_on_one_page_are_shown_together(studio, sandbox):
    gate = sandbox.hold()
    handler = page_handler(studio, PageBatches())
    request = gr.Request(session_hash="one-page")

    async def run(prompt: str, count: int) -> list:
        args = generate_arguments(prompt=prompt, num_images=count)
        return [view async for view in handler(**args, request=request)]

    async def both() -> tuple[list, list]:
        first = asyncio.create_task(run("first", 2))
        await asyncio.to_thread(gate.wait_for, 2)  # the first batch's jobs are at the API
        second = asyncio.create_task(run("second", 1))
        await asyncio.to_thread(gate.wait_for, 3)  # and the second's, the first still running
        gate.release(2)  # the first batch ends while the second runs
        first_views = await first
        gate.release()
        return first_views, await second

    first, second = asyncio.run(both())
    _, records = second[-1]
    assert [record["prompt"] for record in records] == ["second", "first", "first"]  # newest first
    assert len(first[-1][0]) == 2  # the first batch ended before the second's image came


def test_every_batch_of_a_page_stays_newest_first_until_cleared(studio):
    pages = PageBatches()
    handler = page_handler(studio, pages)
    request = gr.Request(session_hash="one-page")

    async def run(prompt: str, count: int = 1) -> list:
        args = generate_arguments(prompt=prompt, num_images=count)
        return [view async for view in handler(**args, request=request)]

    asyncio.run(run("earlier", 2))
    gallery, records = asyncio.run(run("later"))[-1]
    assert [record["prompt"] for record in records] == ["later", "earlier", "earlier"]
    assert len(gallery) == 3
    assert pages.view("another-page") == ([], [])  # each page sees its own
    assert pages.clear("one-page") == ([], [])
    _, records = asyncio.run(run("after clearing"))[-1]
    assert [record["prompt"] for record in records] == ["after clearing"]
    pages.forget("one-page")
    assert pages.view("one-page") == ([], [])


def test_a_page_keeps_at_most_its_newest_images(studio, monkeypatch):
    from heurist_ui.ui import runs

    monkeypatch.setattr(runs, "KEPT_IMAGES", 3)
    pages = PageBatches()
    handler = page_handler(studio, pages)
    request = gr.Request(session_hash="one-page")

    async def run(prompt: str) -> list:
        args = generate_arguments(prompt=prompt, num_images=2)
        return [view async for view in handler(**args, request=request)]

    for n in range(4):
        asyncio.run(run(f"batch {n}"))
    _, records = pages.view("one-page")
    assert [record["prompt"] for record in records] == ["batch 3"] * 2 + ["batch 2"] * 2


def test_an_image_the_cap_deleted_shows_as_gone_instead_of_failing_the_update(tmp_path):
    from heurist_ui.bundled import IMAGE_GONE_PNG
    from heurist_ui.ui.runs import still_there

    kept = tmp_path / "kept.png"
    kept.write_bytes(b"png")
    gallery = [(str(kept), "seed 1"), (str(tmp_path / "deleted.png"), "seed 2")]
    assert still_there(gallery) == [(str(kept), "seed 1"), (str(IMAGE_GONE_PNG), "seed 2")]
